"""What every plan check shares: the result type, registration (`@plan_check`), the per-plan
context, and value access.

A plan check compares `before` with `after` of `resource_changes`. Values are Terraform's JSON
representation: nested blocks are lists of objects, unknown values are absent from `after` and
marked `true` at the same path in `after_unknown`. Paths here are dotted, with `*` for "every
element" (`rule.*.apply_server_side_encryption_by_default.*.kms_master_key_id`); an object where
a list is expected counts as a one-element list, so hand-written fixtures and real plans read alike.

A check never passes what it could not read: an attribute that stays unknown until apply where a
regression could hide is a failure that says so.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from policies.check_registry import CheckRegistry
from policies.plan.plan_json import Plan, ResourceChange

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class PlanResult:
    address: str
    passed: bool
    message: str
    deletion: bool = False  # about destroying the object: an approval of its deletion covers it


class PlanCheck:
    """Subclasses set `id` and `types`, and implement `judge(rc, ctx)` (or override `run`)."""

    id: str = ""
    types: tuple[str, ...] = ()

    def run(self, ctx: "Context") -> Iterator[PlanResult]:
        for rc in ctx.changes(*self.types):
            yield from self.judge(rc, ctx)

    def judge(self, rc: ResourceChange, ctx: "Context") -> Iterable[PlanResult]:  # pragma: no cover - abstract
        raise NotImplementedError


REGISTRY: CheckRegistry = CheckRegistry("plan check", "policies.plan.plan_checks", r"AEGIS_PLAN_[A-Z0-9_]+",
                                        "AEGIS_PLAN_<NAME>", origin=type)


def plan_check(cls: type[PlanCheck]) -> type[PlanCheck]:
    """Register a plan check class (its `id` must be unique and match `AEGIS_PLAN_<NAME>`)."""
    REGISTRY.add(cls.id, cls())
    return cls


def ok(rc: ResourceChange, message: str) -> PlanResult:
    return PlanResult(rc.address, True, message)


def fail(rc: ResourceChange, message: str, deletion: bool = False) -> PlanResult:
    return PlanResult(rc.address, False, message, deletion)


def verdict(rc: ResourceChange, problems: Iterable[str], passed: str) -> PlanResult:
    found = [p for p in problems if p]
    return fail(rc, "; ".join(found)) if found else ok(rc, passed)


# ---------------------------------------------------------------- values

def _steps(path: str) -> list[str]:
    return path.split(".") if path else []


def values(obj: Any, path: str) -> list[Any]:
    """Every value at `path` (missing → nothing; None values are kept)."""
    current = [obj]
    for step in _steps(path):
        nxt = []
        for item in current:
            if step == "*":
                if isinstance(item, list):
                    nxt.extend(item)
                elif isinstance(item, dict):
                    nxt.append(item)
            elif isinstance(item, dict) and step in item:
                nxt.append(item[step])
            elif isinstance(item, list):  # a block list where a single object was written
                nxt.extend(e[step] for e in item if isinstance(e, dict) and step in e)
        current = nxt
    return current


def first(obj: Any, path: str, default: Any = None) -> Any:
    found = [v for v in values(obj, path) if v is not None]
    return found[0] if found else default


def unknown(rc: ResourceChange, path: str) -> bool:
    """Whether any value at `path` (or a block above it) is known only after apply."""
    steps = _steps(path)
    for depth in range(1, len(steps) + 1):
        prefix = ".".join(steps[:depth])
        if any(v is True for v in values(rc.after_unknown, prefix)):
            return True
    return False


def strings(obj: Any, path: str) -> set[str]:
    out: set[str] = set()
    for value in values(obj, path):
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.strip():
                out.add(item.strip())
    return out


def ident(values_: Any) -> str:
    """A human name for an object: its name, bucket, ARN or id."""
    if isinstance(values_, dict):
        for key in ("name", "bucket", "arn", "id", "key_id"):
            if isinstance(values_.get(key), str) and values_[key]:
                return values_[key]
    return ""


# ---------------------------------------------------------------- project keys

_KEY_ID = re.compile(r"^(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/)?([0-9a-f]{8}-[0-9a-f-]{27}|mrk-[0-9a-f]{32})$")


def key_token(value: str) -> str:
    """Key ARN and key id compare equal; alias names and alias ARNs stay as written."""
    match = _KEY_ID.match(value.strip())
    return match.group(1) if match else value.strip()


@dataclass
class ProjectKeys:
    """The KMS keys this project owns, as far as the plan shows them.

    A key is the project's when the plan manages it (`aws_kms_key`, `aws_kms_replica_key`,
    `aws_kms_external_key`) or one of its aliases, when a `data "aws_kms_key"` / `data
    "aws_kms_alias"` of the plan resolved it through a project alias, or (when the environment is
    known) when it is an alias following the naming convention `alias/<project>-<env>-…`.
    Anything else (an AWS-managed `alias/aws/*` key, another account's key) is not.
    """

    tokens: set[str] = field(default_factory=set)
    alias_prefix: str | None = None  # "alias/<project>-<env>-"

    def add(self, *raw: Any) -> None:
        for value in raw:
            if isinstance(value, str) and value.strip():
                self.tokens.add(key_token(value))

    def is_project(self, value: str) -> bool:
        token = key_token(value)
        if token in self.tokens:
            return True
        alias = token.split(":", 5)[-1] if token.startswith("arn:") else token
        return bool(self.alias_prefix and alias.startswith(self.alias_prefix))


_KEY_TYPES = ("aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key")
_ALIAS_TYPES = ("aws_kms_alias",)


def _is_project_alias(name: Any, prefix: str | None) -> bool:
    if not isinstance(name, str) or not name.startswith("alias/") or name.startswith("alias/aws/"):
        return False
    return prefix is None or name.startswith(prefix)


def project_keys(plan: Plan, alias_prefix: str | None) -> ProjectKeys:
    keys = ProjectKeys(alias_prefix=alias_prefix)
    objects: list[tuple[str, str, dict]] = []  # (mode, type, values)
    for res in list(plan.prior.values()) + list(plan.planned.values()):
        if isinstance(res.get("values"), dict):
            objects.append((res.get("mode", "managed"), res.get("type", ""), res["values"]))
    for rc in plan.changes:
        for side in (rc.before, rc.after):
            if isinstance(side, dict):
                objects.append((rc.mode, rc.type, side))
    for mode, rtype, vals in objects:
        if mode == "managed" and rtype in _KEY_TYPES:
            keys.add(vals.get("arn"), vals.get("key_id"), vals.get("id"))
        elif mode == "managed" and rtype in _ALIAS_TYPES or mode == "data" and rtype == "aws_kms_alias" and _is_project_alias(vals.get("name"), alias_prefix):
            keys.add(vals.get("name"), vals.get("arn"), vals.get("target_key_id"), vals.get("target_key_arn"))
        elif mode == "data" and rtype == "aws_kms_key" and _is_project_alias(vals.get("key_id"), alias_prefix):
            keys.add(vals.get("arn"), vals.get("id"), vals.get("key_id"))
    return keys


# ---------------------------------------------------------------- the context of one plan

@dataclass
class Context:
    plan: Plan
    keys: ProjectKeys
    _config: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: Plan, alias_prefix: str | None = None) -> "Context":
        return cls(plan, project_keys(plan, alias_prefix), plan.config_resources())

    def changes(self, *types: str) -> Iterator[ResourceChange]:
        for rc in self.plan.changes:
            if rc.managed and (not types or rc.type in types):
                yield rc

    def destroyed(self, rtype: str) -> list[dict]:
        """`before` of every object of a type that this plan destroys (delete, not replace)."""
        return [rc.before for rc in self.changes(rtype) if rc.kind == "delete"]

    def destroys(self, rtype: str, identifier: Any) -> bool:
        """Whether the plan deletes (for good) the object of `rtype` named/identified by `identifier`."""
        if not isinstance(identifier, str) or not identifier:
            return False
        return any(identifier in (b.get("id"), b.get("arn"), b.get("bucket"), b.get("name"))
                   for b in self.destroyed(rtype))

    def references(self, rc: ResourceChange, attribute: str) -> list[str]:
        """Configuration references of an attribute (anywhere in the resource's expressions)."""
        conf = self._config.get(rc.config_address) or {}
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key == attribute and isinstance(value, dict):
                        found.extend(r for r in value.get("references") or [] if isinstance(r, str))
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(conf.get("expressions") or {})
        return found

    def configured(self, rc: ResourceChange, attribute: str) -> bool:
        """Whether the configuration sets the attribute (else it is computed by the provider)."""
        conf = self._config.get(rc.config_address) or {}

        def walk(node: Any) -> bool:
            if isinstance(node, dict):
                return attribute in node or any(walk(v) for v in node.values())
            if isinstance(node, list):
                return any(walk(v) for v in node)
            return False

        return walk(conf.get("expressions") or {})

    def refers_to_project_key(self, rc: ResourceChange, attribute: str) -> bool:
        """An unknown key attribute is fine when the configuration points it at a key or alias of the plan."""
        prefixes = ("aws_kms_key.", "aws_kms_replica_key.", "aws_kms_alias.", "data.aws_kms_key.",
                    "data.aws_kms_alias.")
        return any(r.startswith(prefixes) for r in self.references(rc, attribute))
