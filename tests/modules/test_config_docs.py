"""docs/CONFIG.md is generated from the config models and kept fresh; the rules in it are read from the
models' code (problems() and validators), with the tiers they apply in worked out from their conditions."""
from __future__ import annotations

from typing import Iterator

from click.testing import CliRunner

import main
from modules.config_docs import DOC_PATH, Rule, render_config_docs, rules_of, sections
from modules.schema_base import Problem, Strict
from modules.yaml_source import SourceMap, load_yaml
from tests.conftest import ROOT


def test_config_md_is_fresh():
    """docs/CONFIG.md is generated: run `python main.py validate --write-docs` after changing a config model."""
    actual = (ROOT / DOC_PATH).read_text(encoding="utf-8")
    assert actual == render_config_docs(), f"{DOC_PATH} is stale: run `python main.py validate --write-docs`"


def _key_paths(value: object, prefix: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from _key_paths(inner, path)
    elif isinstance(value, list):
        for item in value:
            yield from _key_paths(item, prefix + "[]")


def test_every_key_the_shipped_environment_files_use_is_documented():
    found = sections()
    documented = {row[0] if not s.path else f"{s.path}.{row[0]}" for s in found for row in s.rows}
    for section in found:  # a shared model's keys under its other paths
        documented |= {f"{also}.{row[0]}" for also in section.also for row in section.rows}
    doc = render_config_docs()
    for path in sorted((ROOT / "environments").glob("*.yaml")):
        for key in _key_paths(load_yaml(path, path.name, SourceMap())):
            generic = ".".join("<name>" if part in {"platform-admin", "ml-engineer", "data-scientist", "app-invoker",
                                                    "security-auditor"} else part for part in key.split("."))
            if not generic.endswith(".<name>"):  # a map's own key: its entries are documented
                assert generic in documented, f"{path.name}: {key} is not in {DOC_PATH}"
    assert "| `access.logs.retention_days` | integer | `365` |" in doc
    assert "| `data.object_lock.mode` | string | **required** | one of `GOVERNANCE`, `COMPLIANCE` |" in doc


def _tier_rules() -> dict[str, Rule]:
    return {r.key: r for s in sections() for r in rules_of(s.model, s.path) if r.tiers != ("dev", "staging", "prod")}


def test_the_tier_rules_come_from_the_models_conditions():
    rules = _tier_rules()
    assert rules["data.object_lock.mode"].tiers == ("prod",)  # nested `if env.tier == "prod":`
    assert rules["governance.macie.sampling_percentage"].tiers == ("prod",)  # `prod = env.tier == "prod"`
    assert rules["platform.models[].artifact_sha256"].tiers == ("prod",)  # after `if env.tier != "prod": return`
    assert rules["tier"].tiers == ("dev", "staging")  # inside `if self.tier != "prod":`
    assert rules["backend.type"].tiers == ("prod",)  # after that block's return
    assert rules["access.logs.retention_days"].message == "prod must retain logs for at least 365 days"  # constant
    assert rules["access.logs.retention_days"].when == "logs.retention_days < PROD_MIN_RETENTION_DAYS"
    assert rules["platform.network.nat_gateway_per_az"].when == "egress and not nat_gateway_per_az"


class _Demo(Strict):
    size: int = 1
    label: str = "x"

    def problems(self, env) -> Iterator[Problem]:
        if env.tier in ("staging", "prod") and self.size < 2:
            yield "size", "staging and prod need a size of 2"
        if env.tier == "dev":
            return
        if self.label == "x":
            yield "label", f"label {self.label} is the default"
        if self.size > 5:
            yield "size", "too big"


def test_tiers_are_evaluated_not_guessed():
    rules = rules_of(_Demo, "demo")
    assert [(r.key, r.tiers, r.when) for r in rules] == [
        ("demo.size", ("staging", "prod"), "size < 2"),
        ("demo.label", ("staging", "prod"), "label == 'x'"),
        ("demo.size", ("staging", "prod"), "size > 5"),
    ]
    assert rules[1].message == "label <label> is the default"


def test_validate_write_docs_writes_the_reference(tmp_path, monkeypatch):
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(main, "ROOT", tmp_path)
    result = CliRunner().invoke(main.cli, ["validate", "--write-docs"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / DOC_PATH).read_text(encoding="utf-8") == render_config_docs()
    assert f"wrote {DOC_PATH}" in result.output
