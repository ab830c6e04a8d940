"""AEGIS_CHAINED_SESSION_LENGTH: a role that only other roles can assume promises no session over 1 hour.

Assuming a role from a role session is role chaining, which AWS caps at 1 hour: AssumeRole refuses a
longer DurationSeconds, whatever the role's `max_session_duration` says (IAM user guide, role
chaining). IAM Identity Center reaches a persona that way (from the permission set's
`AWSReservedSSO_*` role), so a 4- or 8-hour persona there is a promise AWS does not keep.

Judged for every `aws_iam_role` whose trust admits only role principals in each Allow statement (a
role ARN, or an account whose `aws:PrincipalArn` condition names only roles): a
`max_session_duration` above 3600 seconds fails. A trust that also admits users, SAML or web
identity federation, or services may reach longer sessions and is not judged; a role promising
more than an hour whose trust is not a literal JSON document fails (not judged).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import allow_statements
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, document

CHAINED_LIMIT_SECONDS = 3600
PRINCIPAL_ARN_OPERATORS = ("ArnLike", "ArnEquals", "StringLike", "StringEquals")


def _is_role(arn: object) -> bool:
    return isinstance(arn, str) and ":role/" in arn


def _only_roles(stmt: dict) -> bool:
    """Whether every principal this trust statement admits is a role session."""
    principal = stmt.get("Principal")
    if not isinstance(principal, dict) or set(principal) != {"AWS"}:
        return False  # "*", services, SAML or OIDC federation: not (only) role chaining
    named = as_list(principal["AWS"])
    if all(_is_role(p) for p in named):
        return True
    condition = stmt.get("Condition") or {}
    narrowed = [v for op in PRINCIPAL_ARN_OPERATORS
                for key, values in (condition.get(op) or {}).items() if key.lower() == "aws:principalarn"
                for v in as_list(values)]
    return bool(narrowed) and all(_is_role(v) for v in narrowed)


def chained_only(trust: dict) -> bool:
    statements = [s for s in allow_statements(trust)
                  if any(str(a).lower() in ("sts:assumerole", "sts:*", "*") for a in as_list(s.get("Action")))]
    return bool(statements) and all(_only_roles(s) for s in statements)


@app_check("AEGIS_CHAINED_SESSION_LENGTH", "Roles assumable only by role chaining promise no session over 1 hour")
def chained_session_length(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_iam_role"):
            seconds = conf.get("max_session_duration", CHAINED_LIMIT_SECONDS)
            longer = not isinstance(seconds, (int, float)) or seconds > CHAINED_LIMIT_SECONDS
            trust = document(conf.get("assume_role_policy"))
            if trust is None:
                if longer:
                    yield fail(stack.name, f"aws_iam_role.{name}", f"max_session_duration is {seconds}, and its trust "
                               "policy is not a literal JSON document: cannot judge whether AWS can give that")
                continue
            if not chained_only(trust):
                continue
            problems = [] if not longer else [
                f"max_session_duration is {seconds}s, but only role sessions may assume it (role chaining, as from "
                "IAM Identity Center), which AWS caps at 3600s: set 3600 (access.personas.<name>.max_session_hours: 1)"]
            yield judge(stack.name, f"aws_iam_role.{name}", problems,
                        "only role sessions assume it, and it promises no more than the 1 hour role chaining gives")
