"""Load and validate a Terraform JSON plan (`terraform show -json PLANFILE`).

The format is Terraform's documented "JSON Output Format": `format_version`, `terraform_version`,
`planned_values`, `resource_changes` (each with `change.actions`, `before`, `after`,
`after_unknown`), `configuration` and, when state exists, `prior_state`. Terraform promises that a
minor `format_version` bump only adds properties and asks consumers to reject an unknown major
version, so the 1.x family is accepted (Terraform 1.10 writes "1.2") and anything else refused.

Everything that could make the gate judge something other than what Terraform will do is an error
(`PlanError`, exit 2), never a pass:
- bytes that are not UTF-8 JSON. Encoding decision: UTF-8 (with or without a BOM) is read as is;
  UTF-16 *with* a byte-order mark (what Windows PowerShell 5 writes for `terraform show -json >
  plan.json`) is decoded explicitly and judged, and the report says so; UTF-16 without a BOM,
  UTF-32 and any other invalid byte sequence are refused, because guessing could judge a different
  document than the one Terraform wrote;
- duplicate object keys (two parsers could pick different values), NaN / Infinity;
- a wrong shape: missing sections, an action list Terraform does not emit, a change whose
  resource is missing from `planned_values` (checkov reads only `planned_values`: the change
  would go unjudged), an errored plan;
- `resource_changes` missing while the plan has resources, or not naming every managed object of
  `prior_state` and `planned_values` (a KMS key in `prior_state` and absent from `planned_values`
  is destroyed: a plan that does not say so in `resource_changes` would pass every plan check).
"""
from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from modules import strict_json

SUPPORTED_MAJOR = 1

# Every `change.actions` list Terraform emits (internal/command/jsonplan: actionString).
CREATE, READ, UPDATE, DELETE, NO_OP, FORGET = "create", "read", "update", "delete", "no-op", "forget"
VALID_ACTIONS = {
    (NO_OP,): "no-op",
    (CREATE,): "create",
    (READ,): "read",
    (UPDATE,): "update",
    (DELETE,): "delete",
    (DELETE, CREATE): "replace",
    (CREATE, DELETE): "replace",
    (FORGET,): "forget",
    (CREATE, FORGET): "replace",  # the old object leaves state but is not destroyed
}
_FORMAT = re.compile(r"^(\d+)\.(\d+)$")
_TF_VERSION = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


class PlanError(Exception):
    """A plan the gate refuses to judge: exit 2."""


@dataclass(frozen=True)
class ResourceChange:
    address: str
    mode: str  # managed | data
    type: str
    name: str
    actions: tuple[str, ...]
    before: Any
    after: Any
    after_unknown: Any
    module_address: str = ""
    deposed: str = ""
    action_reason: str = ""

    @property
    def kind(self) -> str:
        """create | update | delete | replace | no-op | read | forget."""
        return VALID_ACTIONS[self.actions]

    @property
    def deletes(self) -> bool:
        """The existing object is destroyed: a delete, or a replace through delete (either order)."""
        return DELETE in self.actions

    @property
    def is_replace(self) -> bool:
        return self.kind == "replace"

    @property
    def existed(self) -> bool:
        """There was an object before (update, replace, delete, no-op)."""
        return isinstance(self.before, dict)

    @property
    def remains(self) -> bool:
        """An object exists after apply (create, update, replace, no-op)."""
        return self.kind in ("create", "update", "replace", "no-op")

    @property
    def managed(self) -> bool:
        return self.mode == "managed"

    @property
    def config_address(self) -> str:
        """The address without an instance key, as `configuration` names it."""
        return re.sub(r"\[[^\]]*\]$", "", self.address)


@dataclass
class Plan:
    """One validated plan: the document, its bytes' hash, and its parts in a convenient shape."""

    name: str  # as reports show it (never a machine path)
    sha256: str  # of the bytes as read
    encoding: str  # utf-8 | utf-8-sig | utf-16
    text: str  # decoded, for checkov (line numbers equal the file's)
    doc: dict
    changes: list[ResourceChange] = field(default_factory=list)
    planned: dict[str, dict] = field(default_factory=dict)  # address → planned_values resource (managed)
    prior: dict[str, dict] = field(default_factory=dict)  # address → prior_state resource (managed and data)

    @property
    def format_version(self) -> str:
        return self.doc["format_version"]

    @property
    def terraform_version(self) -> str:
        return self.doc["terraform_version"]

    def config_resources(self) -> dict[str, dict]:
        """Root-module `configuration` resources (and nested modules'), by config address."""
        out: dict[str, dict] = {}

        def walk(module: dict, prefix: str) -> None:
            for res in module.get("resources") or []:
                if isinstance(res, dict) and isinstance(res.get("address"), str):
                    out[prefix + res["address"]] = res
            for name, call in (module.get("module_calls") or {}).items():
                if isinstance(call, dict) and isinstance(call.get("module"), dict):
                    walk(call["module"], f"{prefix}module.{name}.")

        walk(self.doc["configuration"].get("root_module") or {}, "")
        return out


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """Bytes → (text, encoding name), by the documented decision above."""
    if raw.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise PlanError(f"{name}: UTF-32 encoded; Terraform writes UTF-8: re-create it with "
                        "`terraform show -json PLAN > plan.json` from a shell that keeps UTF-8")
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
        if b"\x00" in raw:  # valid UTF-8 can hold NUL, JSON text cannot: UTF-16/32 without a BOM, or binary
            if _looks_utf16(raw):
                raise PlanError(f"{name}: looks like UTF-16 without a byte-order mark; refused because its byte "
                                "order cannot be known: write it as UTF-8 (or UTF-16 with a BOM)")
            raise PlanError(f"{name}: contains NUL bytes: not a JSON text file (is it the binary plan? "
                            "convert it with `terraform show -json PLAN`)")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PlanError(f"{name}: not valid {encoding.upper()} (byte {exc.start}: {exc.reason}); a plan "
                        "JSON must be UTF-8 as `terraform show -json` writes it") from None
    return text, ("utf-16" if encoding == "utf-16" else encoding)


def _looks_utf16(raw: bytes) -> bool:
    sample = raw[:200]
    return len(sample) >= 4 and (sample[1::2].count(0) > len(sample) // 4 or sample[0::2].count(0) > len(sample) // 4)


def _no_constants(value: str) -> Any:
    raise PlanError(f"'{value}' is not JSON")


def parse(raw: bytes, name: str) -> Plan:
    """Bytes of a plan JSON → a validated `Plan`, or `PlanError` naming the file and the problem."""
    if not raw.strip():
        raise PlanError(f"{name}: empty file (did `terraform show -json` fail?)")
    text, encoding = decode(raw, name)
    try:
        doc = strict_json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except strict_json.DuplicateKeyError as exc:
        raise PlanError(f"{name}: {exc}") from None
    except PlanError as exc:
        raise PlanError(f"{name}: {exc}") from None
    except RecursionError:
        raise PlanError(f"{name}: nested too deeply to be a Terraform plan") from None
    plan = Plan(name=name, sha256=hashlib.sha256(raw).hexdigest(), encoding=encoding, text=text.lstrip("\ufeff"),
                doc=doc if isinstance(doc, dict) else {})
    _validate(plan, doc)
    return plan


def load(path: Path, name: str | None = None) -> Plan:
    name = name or Path(path).name
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{name}: no such file") from None
    except OSError as exc:
        raise PlanError(f"{name}: cannot be read ({exc.strerror})") from None
    return parse(raw, name)


def _validate(plan: Plan, doc: Any) -> None:
    name = plan.name

    def fail(message: str) -> PlanError:
        return PlanError(f"{name}: {message}")

    _check_header(doc, fail)
    changes = doc.get("resource_changes", [])
    if not isinstance(changes, list):
        raise fail("`resource_changes` must be a list")
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(changes):
        rc = _change(raw, index, fail)
        key = (rc.address, rc.deposed)
        if key in seen:
            raise fail(f"resource_changes[{index}]: {rc.address} appears twice")
        seen.add(key)
        plan.changes.append(rc)
    plan.planned = {a: r for a, r in _module_resources(doc["planned_values"].get("root_module"), "planned_values",
                                                       fail) if r.get("mode", "managed") == "managed"}
    prior_values = (doc.get("prior_state") or {}).get("values") if isinstance(doc.get("prior_state"), dict) else None
    plan.prior = dict(_module_resources((prior_values or {}).get("root_module"), "prior_state", fail))
    _check_consistent(plan, "resource_changes" in doc, fail)


def _check_header(doc: Any, fail: Callable[[str], PlanError]) -> None:
    """The top level: a JSON plan of a format this reads, complete and not errored."""
    if not isinstance(doc, dict):
        raise fail("not a Terraform plan: the top level must be a JSON object")
    version = doc.get("format_version")
    if not isinstance(version, str):
        raise fail("not a Terraform JSON plan: `format_version` is missing (write it with `terraform show -json PLAN`)")
    match = _FORMAT.match(version)
    if not match or int(match.group(1)) != SUPPORTED_MAJOR:
        raise fail(f"unsupported plan format_version '{version}': Aegis reads Terraform's JSON plan format "
                   f"{SUPPORTED_MAJOR}.x (Terraform ≥ 1.0 writes it)")
    if not isinstance(doc.get("terraform_version"), str) or not _TF_VERSION.match(doc["terraform_version"]):
        raise fail("`terraform_version` is missing or not a version")
    if "planned_values" not in doc and "values" in doc:
        raise fail("this is a state file (`terraform show -json` without a plan), not a plan")
    for key in ("planned_values", "configuration"):
        if not isinstance(doc.get(key), dict):
            raise fail(f"`{key}` is missing or not an object: not a complete plan")
    if doc.get("errored") is True:
        raise fail("Terraform reports this plan as errored (planning failed part-way): it cannot be judged or applied")


def _check_consistent(plan: Plan, listed: bool, fail: Callable[[str], PlanError]) -> None:
    """`resource_changes` must say what happens to every managed object before (`prior_state`) and after
    (`planned_values`) the apply. The plan checks judge `resource_changes` and checkov `planned_values`:
    an object in one and not the other, or gone from both, would change unjudged. Terraform lists every
    managed instance there (no-op included); a plan made with `-target` or `-refresh-only`, which leaves
    objects out, is refused too."""
    existing = sorted(a for a, r in plan.prior.items() if r.get("mode", "managed") == "managed")
    if not listed:
        if plan.planned or existing:
            raise fail("`resource_changes` is missing, but the plan has resources before or after the apply: "
                       "nothing says what will be created, changed or destroyed (truncated or edited): it cannot "
                       "be trusted")
        return
    changed = {rc.address for rc in plan.changes if rc.managed}
    for address in existing:
        if address not in changed:
            raise fail(f"{address} is in `prior_state` but has no entry in `resource_changes`: what happens to it "
                       "is not stated (truncated or edited, or a -target / -refresh-only plan)")
    for address in plan.planned:
        if address not in changed:
            raise fail(f"{address} is in `planned_values` but has no entry in `resource_changes`: the plan is "
                       "inconsistent (truncated or edited)")
    for rc in plan.changes:
        if not rc.managed or rc.deposed:
            continue
        if rc.remains and rc.address not in plan.planned:
            # checkov judges `planned_values` only: a change it would never see is a change nobody judged.
            raise fail(f"{rc.address} will be {rc.kind}d but is missing from `planned_values`: the plan is "
                       "inconsistent (truncated or edited)")
        if not rc.remains and rc.address in plan.planned:
            raise fail(f"{rc.address} leaves the state ({rc.kind}) but is still in `planned_values`: the plan is "
                       "inconsistent (truncated or edited)")


def _change(raw: Any, index: int, fail) -> ResourceChange:
    where = f"resource_changes[{index}]"
    if not isinstance(raw, dict):
        raise fail(f"{where} is not an object")
    for key in ("address", "type", "name"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise fail(f"{where}: `{key}` is missing")
    where = f"{where} ({raw['address']})"
    mode = raw.get("mode", "managed")
    if mode not in ("managed", "data"):
        raise fail(f"{where}: unknown mode '{mode}'")
    change = raw.get("change")
    if not isinstance(change, dict):
        raise fail(f"{where}: `change` is missing")
    actions = change.get("actions")
    if not isinstance(actions, list) or tuple(actions) not in VALID_ACTIONS:
        raise fail(f"{where}: actions {json.dumps(actions)} are not ones Terraform emits "
                   f"(known: {', '.join(json.dumps(list(a)) for a in VALID_ACTIONS)})")
    actions = tuple(actions)
    before, after = change.get("before"), change.get("after")
    kind = VALID_ACTIONS[actions]
    if kind in ("update", "delete", "replace", "no-op", "forget") and not isinstance(before, dict):
        raise fail(f"{where}: a {kind} needs the object's `before` value")
    if kind in ("create", "update", "replace", "no-op") and not isinstance(after, (dict, type(None))):
        raise fail(f"{where}: `after` must be an object")
    unknown = change.get("after_unknown", {})
    if unknown is None:
        unknown = {}
    return ResourceChange(address=raw["address"], mode=mode, type=raw["type"], name=raw["name"], actions=actions,
                          before=before, after=after if isinstance(after, dict) else None, after_unknown=unknown,
                          module_address=raw.get("module_address") or "", deposed=raw.get("deposed") or "",
                          action_reason=raw.get("action_reason") or "")


def _module_resources(module: Any, section: str, fail) -> Iterator[tuple[str, dict]]:
    if module is None:
        return
    if not isinstance(module, dict):
        raise fail(f"`{section}.root_module` is not an object")
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or not isinstance(res.get("address"), str):
            raise fail(f"`{section}` has a resource without an address")
        yield res["address"], res
    for child in module.get("child_modules") or []:
        yield from _module_resources(child, section, fail)
