"""IAM as the app-level checks read it: what grants a role permissions, the Allow statements of a
document, and who may assume a role."""
from __future__ import annotations

from typing import Any

from policies.app_checks.aws_managed_policies import KNOWN as AWS_MANAGED
from policies.app_checks.lookups import attached
from policies.app_checks.view import Env, Stack, nested, ref
from policies.checks.aegis_values import as_list, document


def role_policies(stack: Stack, role_name: str, role: dict) -> list[tuple[str, Any, str | None]]:
    """Everything that grants a role permissions, as (label, document or None, managed ARN or None).

    Inline policies (`inline_policy` blocks, aws_iam_role_policy), customer-managed policies of the
    stack attached to it (aws_iam_role_policy_attachment, aws_iam_policy_attachment,
    `managed_policy_arns`) and any other managed policy ARN (document None, ARN set).
    """
    out: list[tuple[str, Any, str | None]] = []
    for block in nested(role, "inline_policy"):
        out.append((f"inline policy {block.get('name', '?')}", block.get("policy"), None))
    for name, _ in attached(stack, "aws_iam_role_policy", "aws_iam_role", role_name, role, "role"):
        out.append((f"aws_iam_role_policy.{name}", stack.resources("aws_iam_role_policy")[name].get("policy"), None))
    arns = list(as_list(role.get("managed_policy_arns")))
    arns += [c.get("policy_arn") for _, c in attached(stack, "aws_iam_role_policy_attachment", "aws_iam_role",
                                                      role_name, role, "role")]
    for _, conf in sorted(stack.resources("aws_iam_policy_attachment").items()):
        for member in as_list(conf.get("roles")):
            found = ref(member)
            if (found and found[:2] == ("aws_iam_role", role_name)) or member == role.get("name"):
                arns.append(conf.get("policy_arn"))
    for arn in arns:
        policy = stack.target(arn, "aws_iam_policy")
        if policy is not None:
            out.append((f"aws_iam_policy.{policy[0]}", policy[1].get("policy"), None))
        else:
            out.append((f"managed policy {arn}", None, arn if isinstance(arn, str) else repr(arn)))
    return out


class NotJudged(Exception):
    """A policy of a role the check cannot read (a managed policy, or a document that is not literal JSON)."""


def literal_documents(stack: Stack, name: str, role: dict) -> list[dict]:
    """The policy documents that grant a role permissions (AWS managed ones whose content the gate holds:
    policies/app_checks/aws_managed_policies.py); NotJudged when one cannot be read."""
    out = []
    for label, raw, managed in role_policies(stack, name, role):
        doc = document(raw) if managed is None else AWS_MANAGED.get(managed)
        if doc is None:
            raise NotJudged(f"{label} cannot be judged (managed or not literal JSON)")
        out.append(doc)
    return out


def roles_named(env: Env, role_name: str) -> list[tuple[Stack, str, dict]]:
    """(stack, logical id, conf) of the environment's roles with this name."""
    return [(s, n, c) for s, n, c in env.resources("aws_iam_role") if c.get("name") == role_name]


def allow_statements(doc: dict) -> list[dict]:
    """The Allow statements of a policy document (its Statement is one statement or a list)."""
    statements = doc.get("Statement", [])
    return [stmt for stmt in (statements if isinstance(statements, list) else [statements])
            if isinstance(stmt, dict) and stmt.get("Effect") == "Allow"]


def trusted_principal_kinds(role: dict) -> set[str]:
    """Principal kinds (AWS, Service, Federated, *) that the role's trust policy allows."""
    doc = document(role.get("assume_role_policy"))
    kinds: set[str] = set()
    if doc is None:
        return {"unknown"}
    for stmt in allow_statements(doc):
        principal = stmt.get("Principal")
        if principal == "*":
            kinds.add("*")
        elif isinstance(principal, dict):
            kinds.update(principal)
    return kinds


def is_persona(role: dict) -> bool:
    """A role for people or applications: its trust admits something other than AWS services."""
    return bool(trusted_principal_kinds(role) - {"Service"})


def role_with_boundary(env: Env, stack: Stack, name: str, role: dict) -> tuple[str, list[dict], dict | None]:
    """(role ARN, its policy documents, its permission boundary's document or None without one).
    NotJudged when a policy cannot be read or the boundary is not a policy of the app."""
    documents = literal_documents(stack, name, role)
    boundary = None
    raw = role.get("permissions_boundary")
    if raw:
        local = stack.target(raw, "aws_iam_policy")  # a reference to a policy of the same stack
        wanted = str(raw).rsplit("/", 1)[-1]
        policies = [local[1]] if local else [c for _, _, c in env.resources("aws_iam_policy") if c.get("name") == wanted]
        boundary = document(policies[0].get("policy")) if policies else None
        if boundary is None:
            raise NotJudged(f"its permission boundary {role['permissions_boundary']} is not a policy of the app")
    return f"arn:aws:iam::{env.naming.account_id}:role/{role.get('name')}", documents, boundary


def acts_for_code_or_people(role: dict, code_services: tuple[str, ...]) -> bool:
    """Whether people or the account's code can act as the role: a persona, or a service role that one of
    `code_services` (the services that run the account's code with a passed role) assumes. A role only
    other AWS services assume (backup, replication, flow logs) acts only through them."""
    if is_persona(role):
        return True
    doc = document(role.get("assume_role_policy"))
    if doc is None:
        return True  # unknown: judged
    services = {str(s) for stmt in allow_statements(doc) if isinstance(stmt.get("Principal"), dict)
                for s in as_list(stmt["Principal"].get("Service"))}
    return bool(services & set(code_services)) or not services


def may_name_any(documents: list[dict], actions: tuple[str, ...]) -> bool:
    """Whether an Allow statement of the documents could grant one of `actions` (by Action pattern, or any
    NotAction): a cheap test before the evaluator, which answers the rest. False means none can be allowed."""
    from policies.iam_eval import wildcard_match

    wanted = {a.lower() for a in actions}
    for doc in documents:
        for stmt in allow_statements(doc):
            if "NotAction" in stmt:
                return True
            for pattern in (str(a) for a in as_list(stmt.get("Action"))):
                if "*" in pattern or "?" in pattern:  # only wildcards need the evaluator's matching
                    if any(wildcard_match(pattern, a, ignore_case=True) for a in actions):
                        return True
                elif pattern.lower() in wanted:
                    return True
    return False
