"""A small, pure-Python IAM policy evaluator for the documents Aegis generates.

It answers "is this request allowed?" for identity policies, permission boundaries, SCPs and
resource/trust policies, following the AWS evaluation logic for a single account:

- an explicit Deny in any policy wins;
- otherwise the identity policies must Allow, and so must the permission boundary and every SCP
  when they are given (each is a ceiling, not a grant);
- no Allow anywhere is an implicit deny.

KMS keys follow their own rule (`kms_is_allowed`): the key policy must allow the caller, either by
naming it (or "*") or by naming the caller's account, which delegates to IAM: then the identity
policies (and the boundary) must allow as well. An explicit Deny in the key policy binds every
caller, the account root and the service-linked roles included.

Within one account a resource policy (bucket, topic, trust) may grant on its own
(`same_account_allowed`): naming the caller's role ARN allows within the caller's boundary, naming
the account delegates to IAM; trust and key policies must allow, a bucket policy need not.

Supported: Action/NotAction, Resource/NotResource, Principal (AWS, Service, Federated, "*"),
wildcards `*` and `?` (actions case-insensitive, resources case-sensitive), and the condition
operators the generated documents use: String*, Arn*, Bool, Null, Numeric*, the `IfExists` suffix
and the `ForAnyValue:` / `ForAllValues:` set qualifiers. Anything else (NotPrincipal, Date*,
IpAddress, policy variables) raises `UnsupportedPolicy`: a check built on this evaluator must
fail closed instead of guessing. A request may name the condition keys its context models
(`Request.known_keys`): a condition on any other key then raises too, instead of reading as absent.

`Indexed(document)` parses a document once and keeps, per action, the statements whose
Action/NotAction match it: every evaluation function takes it in place of a document, so an analysis
asking many questions of the same policies never re-parses or re-matches them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping

from policies.checks.aegis_values import as_list

ALLOW, DENY, IMPLICIT_DENY = "Allow", "Deny", "ImplicitDeny"

ContextValue = str | bool | int | float | list | tuple


class UnsupportedPolicy(ValueError):
    """The document uses an element or operator this evaluator does not model."""


@dataclass(frozen=True)
class Request:
    """One API call: action, target resource ARN, request context, and (for resource and trust
    policies) the calling principal as {"AWS" | "Service" | "Federated": identifier}."""

    action: str
    resource: str = "*"
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal: Mapping[str, str] | None = None
    # Lower-case condition keys the context models (an entry ending in "*" is a prefix); None: any.
    known_keys: frozenset[str] | None = None


class Indexed:
    """A policy document parsed once, with its statements per action (memoized)."""

    __slots__ = ("document", "statements", "_by_action")

    def __init__(self, document: str | Mapping) -> None:
        self.document = load(document)
        raw = self.document.get("Statement")
        self.statements = [s for s in as_list(raw)]
        self._by_action: dict[str, list[dict]] = {}

    def for_action(self, action: str) -> list[dict]:
        """The statements whose Action (or NotAction) admits `action`, in document order."""
        found = self._by_action.get(action)
        if found is None:
            found = self._by_action[action] = [s for s in self.statements if _action_matches(s, action)]
        return found


def statements_for(document: "str | Mapping | Indexed", action: str) -> list[dict]:
    if isinstance(document, Indexed):
        return document.for_action(action)
    return [s for s in as_list(load(document).get("Statement")) if _action_matches(s, action)]


def as_principal(principal_arn: str, action: str, resource: str = "*",
                 context: Mapping[str, ContextValue] | None = None) -> Request:
    """A request by an IAM role (or user) of some account, with the principal keys AWS always sets
    (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalIsAWSService`); `context` adds to them."""
    account = principal_arn.split(":")[4]
    keys: dict[str, ContextValue] = {"aws:PrincipalArn": principal_arn, "aws:PrincipalAccount": account,
                                     "aws:PrincipalIsAWSService": False}
    return Request(action, resource, {**keys, **(context or {})}, {"AWS": principal_arn})


def as_service(service: str, action: str, resource: str = "*",
               context: Mapping[str, ContextValue] | None = None) -> Request:
    """A request by an AWS service principal (`cloudtrail.amazonaws.com`), which has no account."""
    keys: dict[str, ContextValue] = {"aws:PrincipalServiceName": service, "aws:PrincipalIsAWSService": True}
    return Request(action, resource, {**keys, **(context or {})}, {"Service": service})


def load(document: str | Mapping) -> dict:
    return json.loads(document) if isinstance(document, str) else dict(document)


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern:
    if "${" in pattern:
        raise UnsupportedPolicy(f"policy variables are not supported: {pattern}")
    # IAM has only * and ? (no character classes, unlike fnmatch).
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=65536)
def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_pattern(pattern, ignore_case).match(value))


# --- conditions -------------------------------------------------------------------------------

def _string_eq(policy: str, actual: str) -> bool:
    return policy == actual


def _string_eq_ic(policy: str, actual: str) -> bool:
    return policy.lower() == actual.lower()


def _string_like(policy: str, actual: str) -> bool:
    return wildcard_match(policy, actual)


def _arn_like(policy: str, actual: str) -> bool:
    # ARN operators compare the six colon-separated parts; the resource part may itself contain ':'.
    p_parts, a_parts = policy.split(":", 5), actual.split(":", 5)
    if len(p_parts) != 6 or len(a_parts) != 6:
        return False
    return all(wildcard_match(p, a) for p, a in zip(p_parts, a_parts, strict=True))


def _bool(policy: str, actual: str) -> bool:
    return str(policy).lower() == str(actual).lower()


def _numeric(compare):
    def match(policy: str, actual: str) -> bool:
        try:
            return compare(float(actual), float(policy))
        except (TypeError, ValueError):
            return False
    return match


# operator → (value matcher, negated)
_OPERATORS = {
    "StringEquals": (_string_eq, False),
    "StringNotEquals": (_string_eq, True),
    "StringEqualsIgnoreCase": (_string_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_string_eq_ic, True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_arn_like, False),  # ArnEquals also honours wildcards, as AWS documents
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, p: a == p), False),
    "NumericNotEquals": (_numeric(lambda a, p: a == p), True),
    "NumericLessThan": (_numeric(lambda a, p: a < p), False),
    "NumericLessThanEquals": (_numeric(lambda a, p: a <= p), False),
    "NumericGreaterThan": (_numeric(lambda a, p: a > p), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, p: a >= p), False),
}


def _context_value(lowered: Mapping[str, ContextValue], key: str) -> list[str] | None:
    """The context's values of a key; `lowered` has lower-case keys (condition keys are case-insensitive)."""
    if key.lower() not in lowered:
        return None
    value = lowered[key.lower()]
    values = value if isinstance(value, (list, tuple)) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]


def _condition_holds(operator: str, key: str, policy_values: list, context: Mapping[str, ContextValue]) -> bool:
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise UnsupportedPolicy(f"unknown set qualifier '{qualifier}'")
    actual = _context_value(context, key)
    if operator == "Null":
        wanted = _bool(policy_values[0], "true") if policy_values else True
        return (actual is None) == wanted
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    if base not in _OPERATORS:
        raise UnsupportedPolicy(f"condition operator '{operator}' is not supported")
    matcher, negated = _OPERATORS[base]
    policy_values = [str(v).lower() if isinstance(v, bool) else str(v) for v in policy_values]

    def one(value: str) -> bool:
        hit = any(matcher(p, value) for p in policy_values)
        return not hit if negated else hit

    if actual is None:
        if qualifier == "ForAllValues":
            return True  # vacuously true: AWS documents this trap
        if qualifier == "ForAnyValue":
            return False
        return bool(if_exists or negated)
    if qualifier == "ForAllValues":
        return all(one(v) for v in actual)
    if negated and qualifier is None:
        return all(one(v) for v in actual)  # "not equal to any": no value may match
    return any(one(v) for v in actual)


def conditions_hold(condition: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, ContextValue],
                    known_keys: frozenset[str] | None = None) -> bool:
    if not condition:
        return True
    lowered = {k.lower(): v for k, v in context.items()}
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict) and not isinstance(pairs, Mapping):
            raise UnsupportedPolicy(f"condition operator '{operator}' does not map keys to values")
        for key, values in pairs.items():
            if known_keys is not None and not _known(key.lower(), known_keys):
                raise UnsupportedPolicy(f"condition key '{key}' is not modelled for {operator}")
            if not _condition_holds(operator, key, as_list(values), lowered):
                return False
    return True


def _known(key: str, known_keys: frozenset[str]) -> bool:
    return key in known_keys or any(k.endswith("*") and key.startswith(k[:-1]) for k in known_keys)


# --- statements and documents ------------------------------------------------------------------

def _principal_matches(principal_element: Any, caller: Mapping[str, str] | None) -> bool:
    if principal_element == "*":
        return True
    if caller is None:
        return False
    if not isinstance(principal_element, dict) and not isinstance(principal_element, Mapping):
        raise UnsupportedPolicy(f"unexpected Principal element: {principal_element!r}")
    for kind, wanted in principal_element.items():
        if kind not in caller:
            continue
        identity = caller[kind]
        for entry in as_list(wanted):
            if entry == "*" or entry == identity:
                return True
            if kind == "AWS":
                account = identity.split(":")[4] if identity.startswith("arn:") else identity
                if entry in (account, f"arn:aws:iam::{account}:root"):
                    return True  # an account principal stands for every principal of that account
    return False


def _names_caller(principal_element: Any, caller: Mapping[str, str] | None) -> bool:
    """The Principal names the caller itself (or everyone), not just the caller's account."""
    if principal_element == "*":
        return True
    if caller is None or not isinstance(principal_element, Mapping):
        return False
    for kind, wanted in principal_element.items():
        if kind in caller and any(entry in ("*", caller[kind]) for entry in as_list(wanted)):
            return True
    return False


def _action_matches(stmt: Mapping[str, Any], action: str) -> bool:
    if not isinstance(stmt, dict) and not isinstance(stmt, Mapping):  # dict first: Mapping checks are slow
        raise UnsupportedPolicy(f"a statement is not an object: {stmt!r}")
    if "Action" in stmt:
        return any(wildcard_match(a, action, ignore_case=True) for a in as_list(stmt["Action"]))
    if "NotAction" in stmt:
        return not any(wildcard_match(a, action, ignore_case=True) for a in as_list(stmt["NotAction"]))
    raise UnsupportedPolicy(f"statement {stmt.get('Sid', '?')} has neither Action nor NotAction")


def statement_applies(stmt: Mapping[str, Any], request: Request, *, action_checked: bool = False) -> bool:
    if "NotPrincipal" in stmt:
        raise UnsupportedPolicy("NotPrincipal is not supported")
    if "Principal" in stmt and not _principal_matches(stmt["Principal"], request.principal):
        return False
    if not action_checked and not _action_matches(stmt, request.action):
        return False
    if "Resource" in stmt:
        if not any(wildcard_match(r, request.resource) for r in as_list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt and any(wildcard_match(r, request.resource) for r in as_list(stmt["NotResource"])):
        return False
    return conditions_hold(stmt.get("Condition"), request.context, request.known_keys)


Document = str | Mapping | Indexed


def evaluate(documents: Iterable[Document], request: Request) -> str:
    """Decision of a set of policies of one kind: Deny (explicit), Allow, or ImplicitDeny."""
    allowed = False
    for document in documents:
        for stmt in statements_for(document, request.action):
            if statement_applies(stmt, request, action_checked=True):
                if stmt["Effect"] == "Deny":
                    return DENY
                if stmt["Effect"] == "Allow":
                    allowed = True
                else:
                    raise UnsupportedPolicy(f"unknown Effect {stmt['Effect']!r}")
    return ALLOW if allowed else IMPLICIT_DENY


def is_allowed(identity: Iterable[Document], request: Request, *, boundary: Document | None = None,
               scps: Iterable[Document] = ()) -> bool:
    """Effective decision for a principal: identity policies ∧ boundary ∧ every SCP; any Deny wins."""
    identity = list(identity)
    layers = [evaluate(identity, request)]
    if boundary is not None:
        layers.append(evaluate([boundary], request))
    for scp in scps:
        decision = evaluate([scp], request)
        # An SCP set always includes FullAWSAccess in practice; only its denies restrict.
        layers.append(DENY if decision == DENY else ALLOW)
    if DENY in layers:
        return False
    return all(layer == ALLOW for layer in layers)


def kms_is_allowed(key_policy: Document, identity: Iterable[Document], request: Request, *,
                   boundary: Document | None = None, scps: Iterable[Document] = ()) -> bool:
    """Whether `request` (with its principal) may use a KMS key under this key policy.

    Any explicit Deny (key policy, identity policies, boundary, SCPs) wins. Otherwise a key-policy
    statement that names the caller itself allows (a role still within its boundary); one that names
    only the caller's account delegates to IAM, so the identity policies, the boundary and the SCPs
    must allow too. Without either, nothing (not even an administrator's `kms:*`) reaches the key.
    """
    return same_account_allowed(key_policy, identity, request, boundary=boundary, scps=scps, policy_required=True)


def same_account_allowed(resource_policy: Document | None, identity: Iterable[Document], request: Request, *,
                         boundary: Document | None = None, scps: Iterable[Document] = (),
                         policy_required: bool = False) -> bool:
    """Whether a principal may act on a resource of its own account under the resource's policy.

    Any explicit Deny (resource policy, identity policies, boundary, SCPs) wins. A resource-policy
    statement that names the caller itself allows within the caller's boundary (and the SCPs); one
    that names only the caller's account delegates to IAM. Without a resource-policy Allow, the
    identity policies decide alone, unless the policy must allow (KMS key policies, trust policies).
    """
    identity = list(identity)
    if request.principal is None:
        raise UnsupportedPolicy("a resource-policy request needs its principal")
    direct = delegated = False
    for stmt in statements_for(resource_policy, request.action) if resource_policy is not None else ():
        if not statement_applies(stmt, request, action_checked=True):
            continue
        if stmt["Effect"] == "Deny":
            return False
        if stmt["Effect"] != "Allow":
            raise UnsupportedPolicy(f"unknown Effect {stmt['Effect']!r}")
        if "Principal" in stmt and _names_caller(stmt["Principal"], request.principal):
            direct = True
        else:
            delegated = True
    caps = ([boundary] if boundary is not None else [])
    if any(evaluate([doc], request) == DENY for doc in [*identity, *caps, *scps]):
        return False
    if direct:
        return boundary is None or evaluate([boundary], request) == ALLOW
    if policy_required and not delegated:
        return False
    return is_allowed(identity, request, boundary=boundary, scps=scps)


def may_assume(trust_policy: str | Mapping, principal: Mapping[str, str], action: str = "sts:AssumeRole",
               context: Mapping[str, ContextValue] | None = None) -> bool:
    """Whether a principal may assume a role under its trust policy (the resource-policy side only)."""
    return evaluate([trust_policy], Request(action, "*", context or {}, principal)) == ALLOW


__all__ = ["ALLOW", "DENY", "IMPLICIT_DENY", "Document", "Indexed", "Request", "UnsupportedPolicy", "as_principal",
           "as_service", "evaluate", "is_allowed", "kms_is_allowed", "may_assume", "same_account_allowed",
           "statements_for", "wildcard_match", "conditions_hold", "statement_applies"]
