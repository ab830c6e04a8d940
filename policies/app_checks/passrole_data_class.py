"""AEGIS_PASSROLE_DATA_CLASS: no persona can pass a role that uses data keys the persona does not hold.

Whoever may iam:PassRole a role to SageMaker, Lambda or EC2 starts a job, model or instance with
that role's data access. A data scientist (training key only) who may pass a model's execution
role (model and inference keys, writes captured inference data) can read inference data through a
training job: the PassRole grant must name only roles whose key classes the persona holds itself.

For each persona role (trusted by people or applications) and each other role of the environment,
the IAM evaluator decides whether the persona's policies allow passing the role to the service the
role trusts; the key classes of a policy are those of the keys its Allow statements grant use of
(KMS key references, `kms:ResourceAliases` conditions; a wildcard key without an alias condition is
every class). A passable role using a class the persona lacks fails the persona. Policies that are
not literal JSON fail (not judged), as do managed policies on a passable role.
"""
from __future__ import annotations

from typing import Iterator

from modules.naming import KEY_CLASSES
from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import NotJudged, allow_statements, is_persona, literal_documents
from policies.app_checks.lookups import alias_class, key_class_of
from policies.app_checks.view import AppView, Env, Stack
from policies.checks.aegis_values import as_list, document
from policies.iam_eval import Request, UnsupportedPolicy, evaluate, wildcard_match

# Using a key: reading or writing data under it, or handing that to a grantee.
KEY_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant")
ALL = frozenset(KEY_CLASSES) | {"state"}


@app_check("AEGIS_PASSROLE_DATA_CLASS", "Personas pass only roles whose data keys they hold themselves")
def passrole_data_class(app: AppView):
    for env in app.envs:
        roles = list(env.resources("aws_iam_role"))
        for stack, name, role in roles:
            if is_persona(role):
                yield judge(stack.name, f"aws_iam_role.{name}", _problems(env, stack, name, role, roles),
                            "passes no role with data keys it does not hold")


def _problems(env: Env, stack: Stack, name: str, persona: dict, roles) -> Iterator[str]:
    try:
        documents = literal_documents(stack, name, persona)
        held = _key_classes(env, stack, documents)
    except NotJudged as exc:
        yield str(exc)
        return
    account = env.naming.account_id
    # A session of the persona as its people have it: signed in with MFA where the trust asks for it.
    session = {"aws:RequestedRegion": env.naming.region, "aws:MultiFactorAuthPresent": "true",
               "aws:PrincipalArn": f"arn:aws:iam::{account}:role/{persona.get('name')}", "aws:PrincipalAccount": account}
    for other_stack, other_name, other in roles:
        if other is persona:
            continue
        arn = f"arn:aws:iam::{account}:role/{other.get('name')}"
        passable = []
        for service in _trusted_services(other):
            context = {**session, "iam:PassedToService": service}
            try:
                if evaluate(documents, Request("iam:PassRole", arn, context)) == "Allow":
                    passable.append(service)
            except UnsupportedPolicy as exc:
                yield f"its policies cannot be judged: {exc}"
                return
        if not passable:
            continue
        try:
            used = _key_classes(env, other_stack, literal_documents(other_stack, other_name, other))
        except NotJudged as exc:
            yield f"it may pass {other.get('name')} to {', '.join(passable)}, whose {exc}"
            continue
        if used - held:
            yield (f"it may pass {other.get('name')} to {', '.join(passable)}, which uses the "
                   f"{', '.join(sorted(used - held))} key(s) the persona does not hold "
                   f"({', '.join(sorted(held)) or 'none'}): grant PassRole only on roles of its own data classes")


def _trusted_services(role: dict) -> list[str]:
    doc = document(role.get("assume_role_policy")) or {}
    return sorted({s for stmt in allow_statements(doc) if isinstance(stmt.get("Principal"), dict)
                   for s in as_list(stmt["Principal"].get("Service"))})


def _key_classes(env: Env, stack: Stack, documents: list[dict]) -> set[str]:
    """The data classes whose keys the policies let their role use."""
    classes: set[str] = set()
    for doc in documents:
        for stmt in allow_statements(doc):
            actions = as_list(stmt.get("Action"))
            if "NotAction" in stmt or not any(wildcard_match(a, u, ignore_case=True) for a in actions for u in KEY_USE):
                continue
            classes |= _statement_classes(env, stack, stmt)
    return classes


def _statement_classes(env: Env, stack: Stack, stmt: dict) -> set[str]:
    aliases = {alias_class(env, a) for values in (stmt.get("Condition") or {}).values() if isinstance(values, dict)
               for key, raw in values.items() if key.lower() == "kms:resourcealiases" for a in as_list(raw)}
    classes: set[str] = set()
    for resource in as_list(stmt.get("Resource")) or ["*"]:
        if isinstance(resource, str) and (resource == "*" or resource.endswith(":key/*")):
            classes |= ({c for c in aliases if c} if aliases else set(ALL))
        elif isinstance(resource, str) and resource.startswith("arn:") and ":kms:" not in resource:
            continue  # not a key
        else:
            found = key_class_of(env, stack, resource)
            classes |= {found} if found else set(ALL)  # an unknown key counts as every class
    return classes
