"""The catalog: schema validation with file/key/line errors, completeness over what the app emits,
honest (varied) mappings, and docs/RULES.md kept in sync."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from modules.errors import ConfigError
from policies.catalog import FRAMEWORKS, load_catalog
from policies.rules_doc import render_rules
from policies.tools.checkov_ids import applicable_checks, emitted_types

ROOT = Path(__file__).resolve().parents[3]
GOOD = """\
builtin:
  CKV_AWS_7:
    title: KMS key rotates automatically
    severity: high
    pillar: data
    remediation: Set enable_key_rotation on the key.
    controls: {hipaa: ["164.312(a)(2)(iv)"], nist-800-53: [SC-12], gdpr: [Art. 32(1)(a)], cis: ["3.6"], iso27001: [A.8.24], pci-dss: ["3.7.4"]}
custom:
  AEGIS_EXAMPLE:
    title: An app-level example check
    severity: low
    pillar: governance
    remediation: Do what the example says to do.
    controls: {hipaa: [], nist-800-53: [CM-8], gdpr: [Art. 30(1)], cis: [], iso27001: [A.5.9], pci-dss: ["12.5.1"]}
    unmapped: {hipaa: Inventory is not a Security Rule safeguard, cis: No CIS recommendation covers this}
"""


def _load(tmp_path, text: str):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return load_catalog(path)


def test_valid_catalog_loads(tmp_path):
    catalog = _load(tmp_path, GOOD)
    assert catalog.get("CKV_AWS_7").controls["cis"] == ("3.6",)
    assert catalog.get("AEGIS_EXAMPLE").unmapped["cis"].startswith("No CIS")


@pytest.mark.parametrize("old,new,key,line,words", [
    ("severity: high", "severity: severe", "builtin.CKV_AWS_7.severity", 4, "not one of"),
    ("pillar: data", "pillar: storage", "builtin.CKV_AWS_7.pillar", 5, "not one of"),
    ('cis: ["3.6"]', 'cis: ["three"]', "builtin.CKV_AWS_7.controls.cis", 7, "not a CIS"),
    ("gdpr: [Art. 32(1)(a)], cis", "cis", "builtin.CKV_AWS_7.controls", 7, "'gdpr' is missing"),
    ("cis: [], iso27001: [A.5.9]", "cis: [], iso27001: []", "custom.AEGIS_EXAMPLE.controls.iso27001", 14,
     "needs `unmapped.iso27001`"),
    ("    title: KMS key rotates automatically\n", "", "builtin.CKV_AWS_7", 2, "'title' is missing"),
    ("  CKV_AWS_7:", "  CKV_AEGIS_1:", "builtin.CKV_AEGIS_1", 2, "not a checkov ID"),
    ("  AEGIS_EXAMPLE:", "  CKV_AWS_7:", "custom.CKV_AWS_7", 9, "is not CKV_AEGIS_n"),
    ("    severity: low\n", "    severity: low\n    owner: me\n", "custom.AEGIS_EXAMPLE.owner", 12, "unknown key"),
])
def test_bad_entry_names_file_key_and_line(tmp_path, old, new, key, line, words):
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, GOOD.replace(old, new, 1))
    assert (err.value.file, err.value.key_path, err.value.line) == ("catalog.yaml", key, line), str(err.value)
    assert words in err.value.message


def test_catalog_covers_every_check_that_can_fire_on_the_emitted_types(synthesized):
    """Fails when a pillar starts emitting a type whose checkov checks are not catalogued yet:
    run `python -m policies.tools.checkov_ids --out <synth output> --yaml` for the stubs."""
    catalog = load_catalog()
    applicable = applicable_checks(emitted_types(synthesized.out))
    assert len(applicable) > 30
    missing = sorted(i for i in applicable if i not in catalog)
    assert missing == [], f"uncatalogued checkov checks for emitted types: {missing}"


def test_every_check_that_ran_is_catalogued(app_gate):
    assert sorted({f.check_id for f in app_gate.findings if not f.catalogued}) == []


def test_mappings_are_specific_not_one_template(synthesized):
    catalog = load_catalog()
    builtin = catalog.section("builtin").values()
    mappings = Counter(tuple(tuple(r.controls[f]) for f in FRAMEWORKS) for r in builtin)
    assert len(mappings) > len(catalog.section("builtin")) // 3
    assert mappings.most_common(1)[0][1] <= 10
    severities = Counter(r.severity for r in builtin)
    assert set(severities) == {"low", "medium", "high", "critical"}
    assert len({r.remediation for r in builtin}) > 0.9 * len(builtin)


def test_rules_doc_is_in_sync():
    """docs/RULES.md is generated: run `python main.py checks --write-docs` after editing a catalog."""
    from policies.plan.plan_gate import plan_checks_catalog

    expected = render_rules(load_catalog(), plan_checks_catalog())
    actual = (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8")
    assert actual == expected, "docs/RULES.md is stale: run `python main.py checks --write-docs`"


def test_rules_doc_lists_every_check_that_can_block_a_deployment():
    from policies.plan.plan_checks import all_checks

    doc = (ROOT / "docs" / "RULES.md").read_text(encoding="utf-8")
    plan_section = doc[doc.index("## Plan checks"):]
    plan_ids = {c.id for c in all_checks()}
    assert plan_ids and all(f"| `{i}` *(Aegis)* |" in plan_section for i in plan_ids)
    assert all(f"| `{i}`" in doc[:doc.index("## Plan checks")] for i in load_catalog().rules)
