"""The policy catalog (`policies/catalog.yaml`): what each check means to Aegis.

checkov reports no severity without a platform key, so the catalog owns them, together with the
pillar that owns the control, a title, a remediation and the compliance controls it evidences.
Two sections, `builtin` (checkov's own checks) and `custom` (the Aegis pack), merged here. Every
problem is a `ConfigError` naming the file, the key path and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from modules.errors import ConfigError
from modules.yaml_source import KeyPath, SourceMap, _BaseLoader, _StrictLoader, dotted
from policies.framework_refs import Reference, load_reference

CATALOG_FILE = Path(__file__).resolve().parent / "catalog.yaml"
DISPLAY = "policies/catalog.yaml"

SEVERITIES = ("low", "medium", "high", "critical")  # ascending
PILLARS = ("data", "platform", "access", "governance")
SECTIONS = ("builtin", "custom")
# A failing check missing from the catalog is judged at this severity and reported as uncatalogued.
UNCATALOGUED_SEVERITY = "high"

# Framework key → (label, pattern a control ID must match). The patterns catch malformed IDs; each ID
# must also be a control of the framework's versioned reference (policies/frameworks/<key>.yaml).
FRAMEWORKS: dict[str, tuple[str, re.Pattern[str]]] = {
    "hipaa": ("HIPAA Security Rule (45 CFR)", re.compile(r"^164\.(308|310|312|314|316)\([a-z]\)(\(\d+\))?(\((i|ii|iii|iv|v|vi)\))?(\([A-Z]\))?$")),
    "nist-800-53": ("NIST SP 800-53 rev 5", re.compile(r"^[A-Z]{2}-\d{1,2}(\(\d{1,2}\))?$")),
    "gdpr": ("GDPR", re.compile(r"^Art\. \d{1,2}(\(\d\))?(\([a-z]\))?$")),
    "cis": ("CIS AWS Foundations Benchmark v3.0.0", re.compile(r"^[1-5](\.\d{1,2}){1,2}$")),
    "iso27001": ("ISO/IEC 27001:2022 Annex A", re.compile(r"^A\.[5-8]\.\d{1,2}$")),
    "pci-dss": ("PCI DSS v4.0.1", re.compile(r"^\d{1,2}(\.\d{1,2}){2,4}$")),
}
MIN_REASON = 15
_BUILTIN_ID = re.compile(r"^CKV2?_(?!AEGIS)[A-Z0-9]+_\d+$")
# Custom: checkov Python checks (CKV_AEGIS_n), YAML graph policies (CKV2_AEGIS_n), app-level (AEGIS_…).
_CUSTOM_ID = re.compile(r"^(CKV2?_AEGIS_\d+|AEGIS_[A-Z0-9_]+)$")
_FIELDS = {"title", "severity", "pillar", "remediation", "controls", "unmapped"}


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    pillar: str
    remediation: str
    controls: dict[str, tuple[str, ...]]
    unmapped: dict[str, str]
    section: str  # builtin | custom
    line: int | None = None

    @property
    def checkov(self) -> bool:
        """Run by checkov (built-in or from policies/checks), not by the app-level checks."""
        return self.id.startswith("CKV")


@dataclass
class Catalog:
    rules: dict[str, Rule] = field(default_factory=dict)

    def get(self, check_id: str) -> Rule | None:
        return self.rules.get(check_id)

    def section(self, name: str) -> dict[str, Rule]:
        return {i: r for i, r in self.rules.items() if r.section == name}

    def __contains__(self, check_id: object) -> bool:
        return check_id in self.rules

    def __len__(self) -> int:
        return len(self.rules)


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


def load_catalog(path: Path | None = None, display: str | None = None) -> Catalog:
    path = path or CATALOG_FILE
    display = display or (DISPLAY if path == CATALOG_FILE else path.name)
    source = SourceMap()
    raw = _load(path, display, source)

    def fail(key: tuple, message: str) -> ConfigError:
        return source.error(key, message, display)

    if not isinstance(raw, dict):
        raise fail((), "top level must be a mapping with `builtin` and `custom`")
    for key in raw:
        if key not in SECTIONS:
            raise fail((key,), f"unknown section (expected one of: {', '.join(SECTIONS)})")
    catalog = Catalog()
    for section in SECTIONS:
        entries = raw.get(section) or {}
        if not isinstance(entries, dict):
            raise fail((section,), "must be a mapping of check ID → entry")
        pattern = _BUILTIN_ID if section == "builtin" else _CUSTOM_ID
        for check_id, entry in entries.items():
            key = (section, check_id)
            if not pattern.match(check_id):
                expected = ("a checkov ID (CKV_AWS_n, CKV2_AWS_n…)" if section == "builtin"
                            else "CKV_AEGIS_n, CKV2_AEGIS_n or AEGIS_<NAME>")
                raise fail(key, f"'{check_id}' is not {expected}")
            if check_id in catalog.rules:
                raise fail(key, f"{check_id} is already in section '{catalog.rules[check_id].section}'")
            catalog.rules[check_id] = _rule(check_id, entry, section, key, fail, source.locate(key, display)[1])
    return catalog


class _FastLoader(_BaseLoader):
    """The C parser with the project's YAML rules (only true/false are booleans): the catalog is
    large and loaded on every gate run, so the pure-Python loader would cost ~0.5 s."""


_FastLoader.yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers
_STR = "tag:yaml.org,2002:str"


def _load(path: Path, display: str, source: SourceMap) -> Any:
    """Like modules.yaml_source.load_yaml (plain values plus key lines), through the C parser."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=_FastLoader)
    except OSError as exc:
        raise ConfigError(display, "", f"cannot read file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(display, "", f"not valid UTF-8 ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(display, "", f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    if node is None:
        raise ConfigError(display, "", "file is empty")
    constructor = _FastLoader("")

    def build(node: yaml.Node, key_path: KeyPath) -> Any:
        source.locations[key_path] = (display, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                    raise ConfigError(display, dotted(key_path), "mapping keys must be plain strings", line)
                key = key_node.value
                if key in out:
                    raise ConfigError(display, dotted(key_path + (key,)), "duplicate key", line)
                out[key] = build(value_node, key_path + (key,))
                source.locations[key_path + (key,)] = (display, line)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [build(item, key_path + (i,)) for i, item in enumerate(node.value)]
        return node.value if node.tag == _STR else constructor.construct_object(node, deep=True)

    return build(node, ())


_Fail = Callable[[tuple, str], ConfigError]


def _rule(check_id: str, entry: Any, section: str, key: tuple, fail: _Fail, line: int | None) -> Rule:
    _check_fields(entry, key, fail)
    controls, unmapped = _controls(entry, key, fail)
    return Rule(id=check_id, title=entry["title"].strip(), severity=entry["severity"], pillar=entry["pillar"],
                remediation=" ".join(entry["remediation"].split()), controls=controls,
                unmapped={k: " ".join(v.split()) for k, v in unmapped.items()}, section=section, line=line)


def _check_fields(entry: Any, key: tuple, fail: _Fail) -> None:
    """The entry's own keys: known, present, and the plain ones well-formed."""
    if not isinstance(entry, dict):
        raise fail(key, "entry must be a mapping")
    for name in entry:
        if name not in _FIELDS:
            raise fail(key + (name,), f"unknown key (allowed: {', '.join(sorted(_FIELDS))})")
    for name in ("title", "severity", "pillar", "remediation", "controls"):
        if name not in entry:
            raise fail(key, f"required key '{name}' is missing")
    for name in ("title", "remediation"):
        if not isinstance(entry[name], str) or len(entry[name].strip()) < 10:
            raise fail(key + (name,), "must be a sentence (at least 10 characters)")
    if entry["severity"] not in SEVERITIES:
        raise fail(key + ("severity",), f"'{entry['severity']}' is not one of: {', '.join(SEVERITIES)}")
    if entry["pillar"] not in PILLARS:
        raise fail(key + ("pillar",), f"'{entry['pillar']}' is not one of: {', '.join(PILLARS)}")


def _controls(entry: dict, key: tuple, fail: _Fail) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Every framework's control IDs (or the reason it has none), and only known frameworks."""
    controls = entry["controls"]
    if not isinstance(controls, dict):
        raise fail(key + ("controls",), "must map each framework to a list of control IDs")
    unmapped = entry.get("unmapped") or {}
    if not isinstance(unmapped, dict):
        raise fail(key + ("unmapped",), "must map a framework to the reason it has no control")
    parsed = {framework: _framework_controls(framework, controls, unmapped.get(framework), key, fail)
              for framework in FRAMEWORKS}
    for framework in controls:
        if framework not in FRAMEWORKS:
            raise fail(key + ("controls", framework), f"unknown framework (expected: {', '.join(FRAMEWORKS)})")
    for framework in unmapped:
        if framework not in FRAMEWORKS:
            raise fail(key + ("unmapped", framework), f"unknown framework (expected: {', '.join(FRAMEWORKS)})")
    return parsed, unmapped


def _framework_controls(framework: str, controls: dict, reason: Any, key: tuple, fail: _Fail) -> tuple[str, ...]:
    """One framework's control IDs: well-formed and unique, or none with a written reason (never both)."""
    label, control_pattern = FRAMEWORKS[framework]
    where = key + ("controls", framework)
    if framework not in controls:
        raise fail(key + ("controls",), f"framework '{framework}' is missing (use [] plus an "
                                        f"`unmapped.{framework}` reason when no control applies)")
    values = controls[framework]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise fail(where, "must be a list of control IDs (strings)")
    known = reference(framework).controls
    for value in values:
        if not control_pattern.match(value):
            raise fail(where, f"'{value}' is not a {label} control ID")
        if value not in known:
            raise fail(where, f"'{value}' is not a control of {label} (policies/frameworks/{framework}.yaml)")
    if len(set(values)) != len(values):
        raise fail(where, "control IDs must not repeat")
    if not values and not (isinstance(reason, str) and len(reason.strip()) >= MIN_REASON):
        raise fail(where, f"empty list needs `unmapped.{framework}`: why no control applies "
                          f"(at least {MIN_REASON} characters)")
    if values and reason is not None:
        raise fail(key + ("unmapped", framework), "has controls; drop the unmapped reason")
    return tuple(values)


def reference(framework: str) -> Reference:
    """The versioned reference of a catalog framework: its control IDs and their titles."""
    return load_reference(framework, FRAMEWORKS[framework][1])


def check_sort_key(check_id: str) -> tuple:
    """Natural order: CKV_AWS_2 before CKV_AWS_10; checkov checks before graph ones before app-level."""
    match = re.match(r"^(.*?)(\d+)$", check_id)
    return (match.group(1), int(match.group(2))) if match else (check_id, 0)
