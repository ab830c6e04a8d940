"""The intended access (`policies/access_matrix.yaml`): per principal, what it must have, may have,
and must not have, per environment tier. Validated strictly: every problem is one `ConfigError`
naming the file, the key path and the line.

    principals:
      data-scientist:
        roles: ["{prefix}-data-scientist"]       # role-name patterns (`*` wildcard), {prefix} = <project>-<env>
        must_have: [read:datasets, write:datasets, use-key:training]
        may: []
        must_not: [read:inference, deploy]       # informative: what is not in must_have or may is must_not
        tiers:
          prod: {may: []}                       # a key given for a tier replaces the principal's own for it
    aws_managed_policies:                       # AWS managed policies roles attach: an upper bound of their grants
      arn:aws:iam::aws:policy/...: {grants_at_most: ["backup:*"], why: "..."}

The world is closed: a capability neither required (`must_have`) nor allowed (`may`) is forbidden,
so a new capability a principal gains is a violation until someone declares it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.errors import ConfigError
from modules.yaml_source import SourceMap, load_yaml
from policies.access.capabilities import is_capability

MATRIX_FILE = Path(__file__).resolve().parent.parent / "access_matrix.yaml"
DISPLAY = "policies/access_matrix.yaml"
TIERS = ("dev", "staging", "prod")
LISTS = ("must_have", "may", "must_not")
_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
_ROLE_PATTERN = re.compile(r"^\{prefix\}-[A-Za-z0-9+=,.@_*-]+$")
_MANAGED_ARN = re.compile(r"^arn:aws:iam::aws:policy/[A-Za-z0-9/+=,.@_-]+$")
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*?]+$")


@dataclass(frozen=True)
class Expectation:
    must_have: frozenset[str]
    may: frozenset[str]
    must_not: frozenset[str]

    def intended(self, capability: str) -> str:
        """"must" | "may" | "must-not" for one capability (closed world)."""
        if capability in self.must_have:
            return "must"
        if capability in self.may:
            return "may"
        return "must-not"


@dataclass(frozen=True)
class DeclaredPrincipal:
    name: str
    roles: tuple[str, ...]  # role-name patterns with {prefix}
    expectations: dict[str, Expectation]  # tier → expectation
    line: int | None = None


@dataclass(frozen=True)
class ManagedBound:
    arn: str
    grants_at_most: tuple[str, ...]
    why: str


@dataclass
class Intent:
    principals: dict[str, DeclaredPrincipal] = field(default_factory=dict)
    managed: dict[str, ManagedBound] = field(default_factory=dict)
    where: str = DISPLAY

    def match(self, role_name: str, prefix: str) -> list[str]:
        """The declared principals whose role patterns match a role name (none, one, or a conflict)."""
        from policies.iam_eval import wildcard_match

        return [p.name for p in self.principals.values()
                if any(wildcard_match(pattern.replace("{prefix}", prefix), role_name) for pattern in p.roles)]


def load_intent(path: Path | None = None) -> Intent:
    path = path or MATRIX_FILE
    display = DISPLAY if path == MATRIX_FILE else path.name
    source = SourceMap()
    raw = load_yaml(path, display, source)

    def fail(key: tuple, message: str) -> ConfigError:
        return source.error(key, message, display)

    if not isinstance(raw, dict):
        raise fail((), "top level must be a mapping with `principals` (and optionally `aws_managed_policies`)")
    for key in raw:
        if key not in ("principals", "aws_managed_policies"):
            raise fail((key,), "unknown key (allowed: aws_managed_policies, principals)")
    principals = raw.get("principals")
    if not isinstance(principals, dict) or not principals:
        raise fail(("principals",), "must map each principal name to its declared access")
    names = set(principals)
    intent = Intent(where=display)
    for name, entry in principals.items():
        intent.principals[name] = _principal(name, entry, names, fail, source.locate(("principals", name), display)[1])
    managed = raw.get("aws_managed_policies") or {}
    if not isinstance(managed, dict):
        raise fail(("aws_managed_policies",), "must map an AWS managed policy ARN to {grants_at_most, why}")
    for arn, entry in managed.items():
        intent.managed[arn] = _managed(arn, entry, fail)
    return intent


def _principal(name: str, entry: Any, names: set[str], fail, line: int | None) -> DeclaredPrincipal:
    key = ("principals", name)
    if not _NAME.match(str(name)):
        raise fail(key, f"'{name}' is not a principal name (lower-case letters, digits and '-')")
    if not isinstance(entry, dict):
        raise fail(key, "must be a mapping with roles, must_have, may, must_not (and optionally tiers)")
    for field_name in entry:
        if field_name not in ("roles", "tiers", *LISTS):
            raise fail(key + (field_name,), "unknown key (allowed: may, must_have, must_not, roles, tiers)")
    roles = entry.get("roles")
    if not isinstance(roles, list) or not roles:
        raise fail(key + ("roles",), "must list the role-name patterns of this principal, e.g. \"{prefix}-ml-engineer\"")
    for i, pattern in enumerate(roles):
        if not isinstance(pattern, str) or not _ROLE_PATTERN.match(pattern):
            raise fail(key + ("roles", i), f"'{pattern}' is not a role-name pattern starting with {{prefix}}-")
    base = {k: _capabilities(entry.get(k), key + (k,), names, fail) for k in LISTS}
    _disjoint(base, key, fail)
    tiers = entry.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise fail(key + ("tiers",), f"must map a tier ({', '.join(TIERS)}) to must_have / may / must_not")
    expectations = {}
    for tier in TIERS:
        override = tiers.get(tier) or {}
        if not isinstance(override, dict):
            raise fail(key + ("tiers", tier), "must be a mapping of must_have / may / must_not")
        for k in override:
            if k not in LISTS:
                raise fail(key + ("tiers", tier, k), f"unknown key (allowed: {', '.join(LISTS)})")
        lists = {k: (_capabilities(override[k], key + ("tiers", tier, k), names, fail) if k in override else base[k])
                 for k in LISTS}
        _disjoint(lists, key + ("tiers", tier), fail)
        expectations[tier] = Expectation(**lists)
    for tier in tiers:
        if tier not in TIERS:
            raise fail(key + ("tiers", tier), f"unknown tier (expected one of: {', '.join(TIERS)})")
    return DeclaredPrincipal(name, tuple(roles), expectations, line)


def _capabilities(raw: Any, key: tuple, names: set[str], fail) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if not isinstance(raw, list):
        raise fail(key, "must be a list of capabilities")
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, str) or not is_capability(item, names):
            raise fail(key + (i,), f"'{item}' is not a capability (read:/write:<data class>, use-key:<class>, "
                                   "deploy, approve-models, disable-security, pass-role:/assume-role:<principal>)")
        if item in seen:
            raise fail(key + (i,), f"'{item}' is listed twice")
        seen.add(item)
    return frozenset(seen)


def _disjoint(lists: dict[str, frozenset[str]], key: tuple, fail) -> None:
    for a, b in (("must_have", "may"), ("must_have", "must_not"), ("may", "must_not")):
        both = sorted(lists[a] & lists[b])
        if both:
            raise fail(key + (b,), f"{', '.join(both)} is in both {a} and {b}")


def _managed(arn: Any, entry: Any, fail) -> ManagedBound:
    key = ("aws_managed_policies", arn)
    if not isinstance(arn, str) or not _MANAGED_ARN.match(arn):
        raise fail(key, f"'{arn}' is not an AWS managed policy ARN (arn:aws:iam::aws:policy/...)")
    if not isinstance(entry, dict) or set(entry) != {"grants_at_most", "why"}:
        raise fail(key, "must have exactly grants_at_most (action patterns) and why")
    actions = entry["grants_at_most"]
    if not isinstance(actions, list) or not actions:
        raise fail(key + ("grants_at_most",), "must list the action patterns the policy grants at most")
    for i, action in enumerate(actions):
        if not isinstance(action, str) or not _ACTION.match(action):
            raise fail(key + ("grants_at_most", i), f"'{action}' is not an action pattern (service:Action*)")
    if not isinstance(entry["why"], str) or len(entry["why"].strip()) < 15:
        raise fail(key + ("why",), "must say where the bound comes from (at least 15 characters)")
    return ManagedBound(arn, tuple(actions), " ".join(entry["why"].split()))
