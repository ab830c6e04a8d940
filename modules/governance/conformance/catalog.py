"""The rule lists kept in this folder, loaded and checked.

- `managed_rules.yaml`: the AWS Config managed rules Aegis may use (identifier, trigger, resource
  types, documented parameters with their types). It is the only source of identifiers.
- `account_rules.yaml`: the baseline every environment deploys as standalone rules.
- `frameworks/<framework>.yaml`: one rule list per compliance framework, each rule mapped to the
  framework's control IDs; rendered into a conformance pack by `render.py`.

A rule that the project's own resources would violate by design (a permanent alert nobody can clear)
is narrowed where it is listed, with the reason beside it: `scope` (a subset of the rule's resource
types, or a tag key and value, as AWS Config's Scope allows) and parameters whose value comes from the
environment (`{environment: <name>}`, one of ENVIRONMENT_VALUES). The gate's
AEGIS_CONFIG_RULE_KNOWN_VIOLATION holds the result to what the app deploys.

Any mistake (unknown identifier, unknown or mistyped parameter, repeated rule, control ID that
does not look like the framework's) raises `RuleListError` naming the file and the entry.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
MANAGED_RULES = HERE / "managed_rules.yaml"
ACCOUNT_RULES = HERE / "account_rules.yaml"
FRAMEWORKS_DIR = HERE / "frameworks"
TRIGGERS = ("change", "periodic", "both")
PARAMETER_TYPES = ("int", "bool", "csv", "string")
TIERS = ("dev", "staging", "prod")
IDENTIFIER = re.compile(r"^[A-Z][A-Z0-9_]{2,127}$")
RESOURCE_TYPE = re.compile(r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$")


class RuleListError(ValueError):
    """A rule list in modules/governance/conformance is wrong; the message names file and entry."""


@dataclass(frozen=True)
class ParameterSpec:
    type: str
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManagedRule:
    identifier: str
    name: str
    trigger: str
    resource_types: tuple[str, ...]
    parameters: dict[str, ParameterSpec]
    description: str

    @property
    def scoped(self) -> bool:
        """Evaluated on configuration changes: scoped to its resource types."""
        return self.trigger in ("change", "both")

    @property
    def scheduled(self) -> bool:
        """Evaluated on a schedule: takes a maximum execution frequency."""
        return self.trigger in ("periodic", "both")


# Values a rule list may take from the environment: name → parameter type.
ENVIRONMENT_VALUES = {
    "trail_data_event_buckets": "csv",  # the buckets whose S3 data events the environment's trail records
    "environment_vpc_ids": "csv",  # the environment's VPC, whose id AWS assigns: known only at apply time
    "backup_resource_tags": "string",  # {"Backup": "<prefix>"}: the tag the environment's AWS Backup plan selects by
    "bucket_policy_ceiling": "string",  # the most a bucket policy may grant (modules/data/bucket_policy.py)
}
# Environment values known only once an earlier stack is applied: the template declares them without a
# default, and the pack receives them as input parameters (modules/governance/conformance_packs.py).
APPLY_TIME_VALUES = frozenset({"environment_vpc_ids"})


@dataclass(frozen=True)
class EnvironmentValue:
    """A parameter value that each environment supplies (ENVIRONMENT_VALUES)."""
    name: str


@dataclass(frozen=True)
class RuleScope:
    """Which resources a change-triggered rule evaluates: resource types, or a tag key (and value)."""
    resource_types: tuple[str, ...] = ()
    tag_key: str | None = None
    tag_value: str | None = None


@dataclass(frozen=True)
class RuleUse:
    """One managed rule as a list uses it: parameter values (as AWS receives them), controls, and the
    narrowing (scope, environment values) with its reason."""
    rule: ManagedRule
    parameters: tuple[tuple[str, str | EnvironmentValue], ...]
    controls: tuple[str, ...]
    tiers: tuple[str, ...]
    scope: RuleScope | None = None
    reason: str | None = None

    def parameter_values(self, environment: dict[str, str], where: str = "") -> tuple[tuple[str, str], ...]:
        """The parameters as AWS receives them, environment values filled in from `environment`."""
        out = []
        for name, value in self.parameters:
            if isinstance(value, EnvironmentValue) and value.name in APPLY_TIME_VALUES:
                continue  # an input parameter of the pack, not a value in the template
            if isinstance(value, EnvironmentValue):
                if not environment.get(value.name):
                    raise RuleListError(f"{where or self.rule.identifier}: parameter {name} needs the environment "
                                        f"value '{value.name}', which was not given")
                out.append((name, environment[value.name]))
            else:
                out.append((name, value))
        return tuple(out)

    @property
    def resource_types(self) -> tuple[str, ...]:
        """The resource types the deployed rule is scoped to (none when a tag scopes it)."""
        if not self.rule.scoped or (self.scope is not None and self.scope.tag_key is not None):
            return ()
        return self.scope.resource_types if self.scope is not None else self.rule.resource_types


@dataclass(frozen=True)
class Framework:
    key: str
    title: str
    control_pattern: str
    rules: tuple[RuleUse, ...]


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleListError(f"{_display(path)}: invalid YAML ({exc})") from None


def _display(path: Path) -> str:
    return path.relative_to(HERE.parent.parent.parent).as_posix()


@lru_cache(maxsize=None)
def managed_rules() -> dict[str, ManagedRule]:
    raw = _load(MANAGED_RULES)
    where = _display(MANAGED_RULES)
    if not isinstance(raw, dict) or not raw:
        raise RuleListError(f"{where}: expected a mapping of identifier → rule")
    rules: dict[str, ManagedRule] = {}
    names: set[str] = set()
    for identifier, entry in raw.items():
        at = f"{where} [{identifier}]"
        if not IDENTIFIER.match(str(identifier)):
            raise RuleListError(f"{at}: not an AWS managed rule identifier (UPPER_SNAKE_CASE)")
        unknown = set(entry) - {"name", "trigger", "resource_types", "parameters", "description"}
        if unknown:
            raise RuleListError(f"{at}: unknown key(s) {sorted(unknown)}")
        trigger = entry.get("trigger")
        if trigger not in TRIGGERS:
            raise RuleListError(f"{at}: trigger must be one of {TRIGGERS}")
        types = tuple(entry.get("resource_types") or ())
        if trigger != "periodic" and not types:
            raise RuleListError(f"{at}: a {trigger}-triggered rule needs resource_types")
        bad = [t for t in types if not RESOURCE_TYPE.match(t)]
        if bad:
            raise RuleListError(f"{at}: not CloudFormation resource types: {bad}")
        name = entry.get("name", "")
        if not re.match(r"^[a-z0-9]+(-[a-z0-9]+)*$", name) or name in names:
            raise RuleListError(f"{at}: name must be unique kebab case, got '{name}'")
        names.add(name)
        description = entry.get("description", "")
        if not description or len(description) > 150:
            raise RuleListError(f"{at}: description must be 1–150 characters")
        parameters = {}
        for pname, spec in (entry.get("parameters") or {}).items():
            if spec.get("type") not in PARAMETER_TYPES:
                raise RuleListError(f"{at}: parameter {pname} type must be one of {PARAMETER_TYPES}")
            parameters[pname] = ParameterSpec(spec["type"], tuple(str(a) for a in spec.get("allowed", ())))
        rules[identifier] = ManagedRule(identifier, name, trigger, types, parameters, description)
    return rules


def parameter_value(spec: ParameterSpec, value: Any, at: str) -> str:
    """A rule parameter as AWS Config receives it (a string), after checking its documented type."""
    if spec.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleListError(f"{at}: expected an integer, got {value!r}")
        text = str(value)
    elif spec.type == "bool":
        if not isinstance(value, bool):
            raise RuleListError(f"{at}: expected true or false, got {value!r}")
        text = "true" if value else "false"
    elif spec.type == "csv":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v and "," not in v for v in value):
            raise RuleListError(f"{at}: expected a non-empty list of strings, got {value!r}")
        text = ",".join(value)
    else:
        if not isinstance(value, str) or not value:
            raise RuleListError(f"{at}: expected a non-empty string, got {value!r}")
        text = value
    if spec.allowed and text not in spec.allowed:
        raise RuleListError(f"{at}: {text!r} is not one of {list(spec.allowed)}")
    return text


def parse_rules(entries: Any, where: str, *, controls_pattern: str | None) -> tuple[RuleUse, ...]:
    if not isinstance(entries, list) or not entries:
        raise RuleListError(f"{where}: `rules` must be a non-empty list")
    catalogue = managed_rules()
    seen: set[str] = set()
    uses = []
    for index, entry in enumerate(entries):
        at = f"{where} [rules[{index}]]"
        if not isinstance(entry, dict):
            raise RuleListError(f"{at}: expected a mapping with `rule`")
        unknown = set(entry) - {"rule", "parameters", "controls", "tiers", "scope", "reason"}
        if unknown:
            raise RuleListError(f"{at}: unknown key(s) {sorted(unknown)}")
        identifier = entry.get("rule")
        if identifier not in catalogue:
            raise RuleListError(f"{at}: '{identifier}' is not in managed_rules.yaml (not a known AWS managed rule)")
        if identifier in seen:
            raise RuleListError(f"{at}: {identifier} is listed twice")
        seen.add(identifier)
        rule = catalogue[identifier]
        values = entry.get("parameters") or {}
        unknown_params = set(values) - set(rule.parameters)
        if unknown_params:
            raise RuleListError(f"{at}: {identifier} has no parameter(s) {sorted(unknown_params)}")
        parameters = tuple(sorted(
            (name, _parameter(rule.parameters[name], value, f"{at} parameter {name}"))
            for name, value in values.items()))
        scope = _scope(rule, entry.get("scope"), at)
        reason = entry.get("reason")
        narrowed = scope is not None or any(isinstance(v, EnvironmentValue) for _, v in parameters)
        if reason is not None and (not isinstance(reason, str) or not reason.strip()):
            raise RuleListError(f"{at}: reason must be a sentence")
        if narrowed and reason is None:
            raise RuleListError(f"{at}: {identifier} is narrowed (scope or environment value): say why in `reason`")
        controls = tuple(entry.get("controls") or ())
        if controls_pattern is not None:
            if not controls:
                raise RuleListError(f"{at}: {identifier} maps to no control IDs")
            bad = [c for c in controls if not re.match(controls_pattern, str(c))]
            if bad or len(set(controls)) != len(controls):
                raise RuleListError(f"{at}: control IDs {bad or list(controls)} do not match the framework or repeat")
        elif controls:
            raise RuleListError(f"{at}: only framework rule lists map control IDs")
        tiers = tuple(entry.get("tiers") or TIERS)
        if not set(tiers) <= set(TIERS):
            raise RuleListError(f"{at}: tiers must be among {TIERS}")
        uses.append(RuleUse(rule, parameters, controls, tiers, scope, reason))
    return tuple(uses)


def _parameter(spec: ParameterSpec, value: Any, at: str) -> str | EnvironmentValue:
    if isinstance(value, dict):
        name = value.get("environment")
        if set(value) != {"environment"} or name not in ENVIRONMENT_VALUES:
            raise RuleListError(f"{at}: a mapping value must be {{environment: <name>}} with a name among "
                                f"{sorted(ENVIRONMENT_VALUES)}")
        if ENVIRONMENT_VALUES[name] != spec.type:
            raise RuleListError(f"{at}: environment value '{name}' is a {ENVIRONMENT_VALUES[name]}, not a {spec.type}")
        return EnvironmentValue(name)
    return parameter_value(spec, value, at)


def _scope(rule: ManagedRule, raw: Any, at: str) -> RuleScope | None:
    if raw is None:
        return None
    if not rule.scoped:
        raise RuleListError(f"{at}: {rule.identifier} is periodic: AWS Config scopes only change-triggered rules")
    if not isinstance(raw, dict) or not raw or set(raw) - {"resource_types", "tag_key", "tag_value"}:
        raise RuleListError(f"{at}: scope is {{resource_types: [...]}} or {{tag_key: ..., tag_value: ...}}")
    if "resource_types" in raw:
        types = tuple(raw["resource_types"] or ())
        if set(raw) != {"resource_types"} or not types or not set(types) <= set(rule.resource_types):
            raise RuleListError(f"{at}: scope resource_types must be some of {list(rule.resource_types)}, "
                                "without a tag (AWS Config takes resource types or a tag)")
        return RuleScope(resource_types=types)
    key, value = raw.get("tag_key"), raw.get("tag_value")
    if not isinstance(key, str) or not key or (value is not None and (not isinstance(value, str) or not value)):
        raise RuleListError(f"{at}: a tag scope needs a tag_key (and optionally a tag_value) as text")
    return RuleScope(tag_key=key, tag_value=value)


@lru_cache(maxsize=None)
def account_rules() -> tuple[RuleUse, ...]:
    raw = _load(ACCOUNT_RULES)
    return parse_rules((raw or {}).get("rules"), _display(ACCOUNT_RULES), controls_pattern=None)


# Frameworks an environment may list that get no conformance pack of their own, and what evaluates
# them in the account instead (the policy gate's catalog maps every framework's controls).
WITHOUT_PACK = {
    "cis": "Security Hub's CIS AWS Foundations Benchmark v3.0.0 standard, subscribed in every environment",
    "iso27001": "no AWS Config rule list is kept for ISO/IEC 27001:2022; the policy gate's catalog mapping evidences it",
}


def packed(frameworks: list[str]) -> list[str]:
    """The frameworks of `frameworks` that get a conformance pack, sorted."""
    return sorted(f for f in frameworks if f not in WITHOUT_PACK)


def framework_path(key: str) -> Path:
    return FRAMEWORKS_DIR / f"{key}.yaml"


@lru_cache(maxsize=None)
def framework(key: str) -> Framework:
    path = framework_path(key)
    where = _display(path)
    if not path.is_file():
        raise RuleListError(f"{where}: no rule list for framework '{key}'")
    raw = _load(path)
    if not isinstance(raw, dict) or raw.get("framework") != key:
        raise RuleListError(f"{where}: `framework` must be '{key}'")
    pattern = raw.get("control_pattern")
    title = raw.get("title")
    if not pattern or not title:
        raise RuleListError(f"{where}: needs `title` and `control_pattern`")
    rules = parse_rules(raw.get("rules"), where, controls_pattern=pattern)
    if any(use.tiers != TIERS for use in rules):
        raise RuleListError(f"{where}: a conformance pack applies to every tier that lists the framework")
    return Framework(key, title, pattern, rules)
