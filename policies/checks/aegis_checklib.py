"""Helpers shared by the Aegis checkov checks (and reused by the plan checks).

Not a check itself: checkov executes it like any file of the folder, and it registers nothing.
It imports only checkov and this folder's `aegis_values` (the value helpers every kind of check
shares), never `modules` or the rest of `policies`, so the folder also works outside Aegis.

Conventions the checks rely on (all produced by the Aegis constructs):
- every KMS key belongs to one data class (`KEY_CLASSES`). A later stack reaches a data-stack key
  through a `data "aws_kms_key"` lookup whose logical id is `kms-<class>` (`kms-<class>-dr` in the
  DR region). A key a stack creates itself has the logical id `kms-<class>[-<region tag>]_key_<hash>`
  (construct `kms-<class>[-dr|-edge]/key`), and aliases are `alias/<project>-<env>-<class>[-<tag>]`.
  AEGIS_KEY_PER_DATA_CLASS verifies that each lookup really resolves to its class's alias, which is
  what makes a class decidable from a reference here.
- a value still holding a Terraform reference (`${...}`) that the check cannot map to a class or a
  document is "not judged": checks fail it deliberately (fail closed) instead of passing it, with a
  detail starting `NOT_EVALUATED` ("could not evaluate: …"). Plain checkov shows a failure; the gate
  shows its own status, a failure only in strict mode and in Aegis's own output (policies/engine.py).
- a check whose verdict rests on these naming conventions sets `aegis_output_only`: the gate runs it
  on Aegis's synthesized output only, never on hand-written Terraform (`gate --path`).
- `duplicates`: the checkov built-ins that judge the same thing; under `gate --path` the pack's failure
  is dropped when one of them fails on the same resource.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

# The value helpers, re-exported for the checks (`as_int as as_int`: an explicit re-export).
try:
    from policies.checks.aegis_values import as_int as as_int
    from policies.checks.aegis_values import as_list, policy_document
    from policies.checks.aegis_values import is_false as is_false
    from policies.checks.aegis_values import is_true as is_true
    from policies.checks.aegis_values import unset_or_false as unset_or_false
except ImportError:  # loaded by plain checkov from this folder
    from aegis_values import as_int as as_int
    from aegis_values import as_list, policy_document
    from aegis_values import is_false as is_false
    from aegis_values import is_true as is_true
    from aegis_values import unset_or_false as unset_or_false

# Same as modules.naming.KEY_CLASSES (a test keeps them equal); duplicated so plain checkov works.
NOT_EVALUATED = "could not evaluate: "
# Same as policies.scan.policy_documents.DOCUMENTS_KEY: `aws_iam_policy_document`s rendered by the gate.
DOCUMENTS_KEY = "__aegis_policy_documents__"
KEY_CLASSES = ("training", "model", "inference", "audit")
GUIDELINE = "See policies/catalog.yaml in the Aegis repository for severity, controls and remediation."

_CLASSES = "|".join(KEY_CLASSES)
_KEY_PATTERNS = (
    # Lookup of the data stack's key by alias, construct id `kms-<class>` (modules/lookups.py).
    re.compile(rf"^\$\{{data\.aws_kms_key\.kms-({_CLASSES})(?:-dr)?\.(?:arn|id|key_id)\}}$"),
    # The data stack's own key (modules/data/data_key.py: construct `kms-<class>[-dr]/key`).
    re.compile(rf"^\$\{{aws_kms_key\.kms-({_CLASSES})(?:-[a-z0-9]+)?_key_[0-9A-F]{{8}}\.(?:arn|id|key_id)\}}$"),
    # A literal alias name or alias ARN following the naming convention.
    re.compile(rf"^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{{12}}:)?alias/[a-z0-9-]+-({_CLASSES})(?:-[a-z0-9]+)?$"),
)


class AegisCheck(BaseResourceCheck):
    """Base of every Aegis Python check: resets `details` per scan and offers fail/pass helpers.

    Subclasses implement `evaluate(conf)`; `conf` is checkov's view of one resource, with every
    attribute wrapped in a list and nested blocks as lists of dicts.
    """

    aegis_output_only = False
    duplicates: tuple[str, ...] = ()

    def __init__(self, check_id: str, name: str, resources: Iterable[str],
                 categories: Iterable[CheckCategories]) -> None:
        super().__init__(name=name, id=check_id, categories=list(categories),
                         supported_resources=list(resources), guideline=GUIDELINE)

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        self.details = []
        self.evaluated_keys = []
        documents = conf.get(DOCUMENTS_KEY) if isinstance(conf, dict) else None
        if documents:
            conf = _with_documents(conf, documents)
        return self.evaluate(conf)

    def evaluate(self, conf: dict[str, list[Any]]) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def fail(self, message: str) -> CheckResult:
        self.details.append(message)
        return CheckResult.FAILED

    def not_evaluated(self, message: str) -> CheckResult:
        """The check could not decide (a reference it cannot resolve): a failure unless the gate says otherwise."""
        self.details.append(NOT_EVALUATED + message)
        return CheckResult.FAILED

    def unreadable(self, raw: Any, message: str) -> CheckResult:
        """`raw` could not be read: "could not evaluate" when it is an unresolved reference, else a failure."""
        if isinstance(raw, list) and len(raw) == 1:
            raw = raw[0]
        if is_reference(raw):
            return self.not_evaluated(f"{message} ({str(raw)[:80]} is not resolved here)")
        return self.fail(f"{message} and cannot be judged")

    def not_applicable(self) -> CheckResult:
        """The control does not exist for this resource (e.g. data capture on serverless)."""
        return CheckResult.UNKNOWN


# ---- checkov conf access -------------------------------------------------------------------------

def _with_documents(conf: Any, documents: dict[str, str]) -> Any:
    """`conf` with each policy-document reference replaced by its rendered JSON (a copy; checkov's untouched)."""
    if isinstance(conf, str):
        return documents.get(conf, conf)
    if isinstance(conf, list):
        return [_with_documents(item, documents) for item in conf]
    if isinstance(conf, dict):
        return {k: (v if str(k).startswith("__") else _with_documents(v, documents)) for k, v in conf.items()}
    return conf


# What checkov leaves of an HCL expression it could not render: a reference or a function call.
_EXPRESSION = re.compile(r"^((var|local|module|data|each|count)\.|[a-z][a-z0-9_]*\()")


def is_reference(raw: Any) -> bool:
    """An unresolved Terraform reference: `${…}` in JSON, or an expression text checkov left in HCL."""
    return isinstance(raw, str) and ("${" in raw or _EXPRESSION.match(raw.strip()) is not None)


def value(conf: dict | None, key: str, default: Any = None) -> Any:
    """The attribute's value, unwrapped from checkov's one-element list."""
    if not isinstance(conf, dict) or key not in conf:
        return default
    raw = conf[key]
    if isinstance(raw, list):
        if len(raw) == 1 and not isinstance(raw[0], dict):
            return raw[0]
        if not raw:
            return default
    return raw


def blocks(conf: dict | None, key: str) -> list[dict]:
    """A nested block (or repeated blocks) as a list of dicts."""
    if not isinstance(conf, dict):
        return []
    raw = conf.get(key)
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        out: list[dict] = []
        for item in raw:
            if isinstance(item, dict):
                out.append(item)
            elif isinstance(item, list):
                out.extend(i for i in item if isinstance(i, dict))
        return out
    return []


def block(conf: dict | None, key: str) -> dict | None:
    found = blocks(conf, key)
    return found[0] if found else None


# ---- KMS key classes -----------------------------------------------------------------------------

def key_class(raw: Any) -> str | None:
    """The data class of a KMS key reference or alias, or None when it cannot be decided."""
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    for pattern in _KEY_PATTERNS:
        match = pattern.match(text)
        if match:
            return match.group(1)
    return None


def describe_key(raw: Any) -> str:
    return "nothing" if raw in (None, "", []) else f"'{raw}'"


def key_problem(raw: Any, expected: str, what: str) -> str | None:
    """None when `raw` is the `expected` class's key, else a message saying why not."""
    if raw in (None, "", []):
        return f"{what} has no KMS key (expected the {expected} data key)"
    found = key_class(raw)
    if found is None:
        return (f"{what} uses {describe_key(raw)}, which cannot be proven to be the {expected} data key "
                f"(use the `kms-{expected}` lookup or the alias of that class)")
    if found != expected:
        return f"{what} uses the {found} data key; it must use the {expected} data key"
    return None


# ---- IAM / resource policy documents -------------------------------------------------------------

# Identity-policy resources (documents attached to a principal).
POLICY_RESOURCES = ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"]


def identity_documents(conf: dict) -> list[tuple[str, object]]:
    """(label, raw policy) of a policy resource, or of an aws_iam_role's inline_policy blocks."""
    if "assume_role_policy" in conf:  # aws_iam_role
        return [(f"inline_policy {value(b, 'name', '?')}", value(b, "policy")) for b in blocks(conf, "inline_policy")]
    return [("policy", value(conf, "policy"))]


def judge_identity_statements(check: "AegisCheck", conf: dict, problem: Callable[[dict], str | None]) -> CheckResult:
    """PASSED unless one of the resource's identity policies is not a literal JSON document, or
    `problem` finds fault with one of its statements (the first fault found is the message)."""
    check.evaluated_keys = ["policy", "inline_policy"]
    for label, raw in identity_documents(conf):
        doc = policy_document(raw)
        if doc is None:
            return check.unreadable(raw, f"{label} is not a literal JSON document")
        for stmt in statements(doc):
            found = problem(stmt)
            if found:
                return check.fail(found)
    return CheckResult.PASSED


def statements(doc: dict) -> list[dict]:
    raw = doc.get("Statement", [])
    if isinstance(raw, dict):
        raw = [raw]
    return [s for s in raw if isinstance(s, dict)]


def actions(stmt: dict) -> list[str]:
    return [a for a in as_list(stmt.get("Action")) if isinstance(a, str)]


def not_actions(stmt: dict) -> list[str]:
    return [a for a in as_list(stmt.get("NotAction")) if isinstance(a, str)]


def resources(stmt: dict) -> list[str]:
    return [r for r in as_list(stmt.get("Resource")) if isinstance(r, str)]


def is_allow(stmt: dict) -> bool:
    return stmt.get("Effect") == "Allow"


def is_deny(stmt: dict) -> bool:
    return stmt.get("Effect") == "Deny"


def action_matches(pattern: str, action: str) -> bool:
    """IAM wildcard match of an action pattern (`s3:Get*`, `*`) against a concrete action."""
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, action, re.IGNORECASE) is not None


def grants(stmt: dict, action: str) -> bool:
    """Whether an Allow statement covers `action` (through Action patterns or NotAction)."""
    if not is_allow(stmt):
        return False
    if "NotAction" in stmt:
        return not any(action_matches(p, action) for p in not_actions(stmt))
    return any(action_matches(p, action) for p in actions(stmt))


def principals(stmt: dict) -> dict[str, list[str]]:
    """Principal as {kind: [values]}; `"*"` becomes {"*": ["*"]}."""
    raw = stmt.get("Principal")
    if raw is None:
        return {}
    if raw == "*":
        return {"*": ["*"]}
    if isinstance(raw, dict):
        return {k: [v for v in as_list(vals) if isinstance(v, str)] for k, vals in raw.items()}
    return {}


def is_public_principal(stmt: dict) -> bool:
    p = principals(stmt)
    return "*" in p or "*" in p.get("AWS", [])


def conditions(stmt: dict) -> list[tuple[str, str, list]]:
    """Condition as (operator, key, values) triples; keys compared case-insensitively by callers."""
    out = []
    raw = stmt.get("Condition")
    if not isinstance(raw, dict):
        return out
    for operator, body in raw.items():
        if isinstance(body, dict):
            for key, vals in body.items():
                out.append((operator, key, as_list(vals)))
    return out


def has_condition(stmt: dict, operator: str, key: str, expected: str | None = None) -> bool:
    for op, k, vals in conditions(stmt):
        if op == operator and k.lower() == key.lower():
            if expected is None:
                return True
            if any(str(v).lower() == expected.lower() for v in vals):
                return True
    return False


def insecure_transport_denies(doc: dict, action_prefix: str) -> list[dict]:
    """Deny statements for every principal of all `<prefix>*` actions when `aws:SecureTransport` is false."""
    found = []
    for stmt in statements(doc):
        if not is_deny(stmt) or not is_public_principal(stmt):
            continue
        if "NotAction" in stmt:
            continue
        acts = actions(stmt)
        if not any(a in ("*", f"{action_prefix}*") for a in acts):
            continue
        if has_condition(stmt, "Bool", "aws:SecureTransport", "false"):
            found.append(stmt)
    return found
