"""The versioned framework references: each names its framework and version, lists control IDs with
titles, and every control ID that the catalog, the plan catalog and the Config rule lists cite is in
it; a wrong reference or a cited ID missing from it is an error naming file, key and line."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from modules.errors import ConfigError
from modules.governance.conformance.catalog import FRAMEWORKS_DIR, framework
from policies.catalog import FRAMEWORKS, load_catalog, reference
from policies.framework_refs import REFERENCE_DIR, load_reference

ROOT = Path(__file__).resolve().parents[3]
PLAN_CATALOG = ROOT / "policies" / "plan" / "catalog.yaml"
RULE_LISTS = sorted(p.stem for p in FRAMEWORKS_DIR.glob("*.yaml"))
# The version each reference must name (what an auditor checks first).
VERSIONS = {"hipaa": "45 CFR Part 164, Subpart C", "nist-800-53": "Revision 5", "gdpr": "2016/679",
            "cis": "v3.0.0", "iso27001": "27001:2022", "pci-dss": "v4.0.1"}


def test_every_framework_has_a_versioned_reference():
    keys = set(FRAMEWORKS) | set(RULE_LISTS)
    assert sorted(p.stem for p in REFERENCE_DIR.glob("*.yaml")) == sorted(keys)
    for key in keys:
        ref = load_reference(key)
        assert VERSIONS[key] in ref.version, (key, ref.version)
        assert ref.source.startswith("https://")


@pytest.mark.parametrize("key", sorted(FRAMEWORKS))
def test_reference_ids_are_well_formed(key):
    ref = reference(key)
    pattern = FRAMEWORKS[key][1]
    assert [c for c in ref.controls if not pattern.match(c)] == []
    assert all(len(t) >= 3 for t in ref.controls.values())


def test_references_are_complete_where_the_framework_is_small():
    """Full lists, not just the cited IDs: ISO 27001:2022 Annex A has 93 controls; CIS v3.0.0 sections 1–5."""
    iso = reference("iso27001").controls
    assert len(iso) == 93 and {"A.5.37", "A.6.8", "A.7.14", "A.8.34"} <= set(iso)
    cis = reference("cis").controls
    assert {"1.22", "2.1.1", "2.4.1", "3.9", "4.16", "5.6"} <= set(cis)
    assert "HTTP" in cis["2.1.1"]  # v3.0.0's 2.1.1 is the deny-HTTP recommendation, not default encryption
    hipaa = reference("hipaa").controls
    assert "164.312(b)" in hipaa and hipaa["164.312(b)"] == "Audit controls (standard)"
    assert reference("nist-800-53").controls["SC-28(1)"] == "Protection of Information at Rest | Cryptographic Protection"


@pytest.mark.parametrize("catalog_file", [None, PLAN_CATALOG], ids=["catalog", "plan-catalog"])
def test_every_catalog_id_is_in_its_reference(catalog_file):
    catalog = load_catalog(catalog_file) if catalog_file else load_catalog()
    missing = sorted({(fw, c) for rule in catalog.rules.values() for fw, ids in rule.controls.items()
                      for c in ids if c not in reference(fw).controls})
    assert missing == []


@pytest.mark.parametrize("key", RULE_LISTS)
def test_every_config_rule_list_id_is_in_its_reference(key):
    known = load_reference(key).controls
    missing = sorted({(use.rule.identifier, c) for use in framework(key).rules for c in use.controls if c not in known})
    assert missing == []


CATALOG = """\
builtin:
  CKV_AWS_7:
    title: KMS key rotates automatically
    severity: high
    pillar: data
    remediation: Set enable_key_rotation on the key.
    controls: {hipaa: ["164.312(a)(2)(iv)"], nist-800-53: [SC-12], gdpr: [Art. 32(1)(a)], cis: ["3.6"], iso27001: [A.8.24], pci-dss: ["3.7.4"]}
"""


@pytest.mark.parametrize("old,new,framework_key", [
    ('cis: ["3.6"]', 'cis: ["3.10"]', "cis"),  # well-formed, but v3.0.0 section 3 ends at 3.9
    ("iso27001: [A.8.24]", "iso27001: [A.8.35]", "iso27001"),
    ("nist-800-53: [SC-12]", "nist-800-53: [SC-99]", "nist-800-53"),
    ('hipaa: ["164.312(a)(2)(iv)"]', 'hipaa: ["164.312(a)(2)(v)"]', "hipaa"),
    ('pci-dss: ["3.7.4"]', 'pci-dss: ["3.7.10"]', "pci-dss"),
    ("gdpr: [Art. 32(1)(a)]", "gdpr: [Art. 32(5)]", "gdpr"),
])
def test_catalog_cites_an_id_missing_from_the_reference(tmp_path, old, new, framework_key):
    text = CATALOG.replace(old, new)
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert (err.value.file, err.value.key_path, err.value.line) == (
        "catalog.yaml", f"builtin.CKV_AWS_7.controls.{framework_key}", 7)
    assert f"policies/frameworks/{framework_key}.yaml" in err.value.message


GOOD_REFERENCE = """\
framework: cis
title: CIS AWS Foundations Benchmark
version: v3.0.0
source: https://www.cisecurity.org/benchmark/amazon_web_services
controls:
  "1.4": The root user has no access key
  "3.6": Rotation is enabled for customer-created symmetric KMS keys
"""


@pytest.mark.parametrize("old,new,key,line,words", [
    ("framework: cis", "framework: iso27001", "framework", 1, "must be 'cis'"),
    ("version: v3.0.0\n", "", "", 1, "'version' is missing"),
    ("title: CIS", "titel: CIS", "titel", 2, "unknown key"),
    ('  "3.6": Rotation', '  "3.6.x": Rotation', "controls.3.6.x", 7, "not a CIS"),
    ('  "3.6": Rotation is enabled for customer-created symmetric KMS keys', '  "3.6": ""', "controls.3.6", 7,
     "title must be text"),
    ('  "3.6": Rotation', '  "1.4": Rotation', "controls.1.4", 7, "duplicate key"),
])
def test_bad_reference_names_file_key_and_line(tmp_path, old, new, key, line, words):
    assert old in GOOD_REFERENCE
    path = tmp_path / "cis.yaml"
    path.write_text(GOOD_REFERENCE.replace(old, new, 1))
    with pytest.raises(ConfigError) as err:
        load_reference("cis", FRAMEWORKS["cis"][1], path)
    assert (err.value.file, err.value.key_path, err.value.line) == ("cis.yaml", key, line), str(err.value)
    assert words in err.value.message
    path.write_text(GOOD_REFERENCE)
    assert load_reference("cis", FRAMEWORKS["cis"][1], path).title_of("1.4") == "The root user has no access key"


def test_reference_titles_are_not_empty_patterns():
    """A title is words, not a restated ID (a placeholder would pass the length check)."""
    for key in set(FRAMEWORKS) | set(RULE_LISTS):
        ref = load_reference(key)
        assert [c for c, t in ref.controls.items() if re.fullmatch(r"[\w.() -]{0,12}", t) and c in t] == []


# Mappings an audit found wrong, each checked against the framework's own text: (check, framework,
# IDs it must not cite, IDs it must cite).
CORRECTED = [
    ("CKV_AWS_19", "cis", {"2.1.1"}, set()),  # CIS v3.0.0 2.1.1 is deny-HTTP; S3 default encryption was dropped
    ("CKV_AWS_145", "cis", {"2.1.1"}, set()),
    ("AEGIS_STATE_BACKEND_KEY", "cis", {"2.1.1"}, set()),
    ("CKV_AEGIS_7", "cis", set(), {"2.1.1"}),  # the check that does deny HTTP
    ("CKV_AWS_41", "cis", {"1.4"}, set()),  # keys in the provider block, not the root user's access key
    ("CKV_AWS_273", "cis", {"1.15"}, {"1.21"}),  # identity federation / central management
    ("CKV2_AWS_41", "cis", set(), {"1.18"}),  # IAM instance roles
    ("CKV_AWS_229", "cis", {"5.1"}, set()),  # FTP ports are not remote administration ports
    ("CKV_AWS_230", "cis", {"5.1"}, set()),
    ("CKV2_AWS_61", "hipaa", {"164.310(d)(2)(iv)"}, set()),
    ("CKV_AWS_300", "hipaa", {"164.310(d)(2)(iv)"}, set()),
    ("CKV_AWS_23", "hipaa", {"164.308(a)(1)(ii)(B)"}, set()),
    ("CKV_AWS_66", "hipaa", {"164.316(b)(2)(i)"}, {"164.312(b)"}),
    ("CKV_AWS_319", "gdpr", {"Art. 33(1)"}, set()),
    ("CKV_AWS_23", "gdpr", {"Art. 30"}, set()),
    ("CKV2_AWS_48", "gdpr", {"Art. 30"}, {"Art. 5(2)"}),
    ("CKV_AWS_153", "gdpr", {"Art. 30"}, set()),
    ("CKV2_AWS_19", "gdpr", {"Art. 25(2)"}, set()),
    ("CKV_AWS_313", "gdpr", {"Art. 30"}, set()),  # tag propagation (to RDS snapshots) is inventory, not Art. 30
    ("CKV_AWS_116", "nist-800-53", {"SI-11"}, {"CP-10"}),
    ("CKV_AWS_51", "nist-800-53", {"CM-14"}, {"SI-7"}),
    ("CKV_AWS_386", "nist-800-53", {"CM-14"}, {"SR-4"}),
    ("CKV_AWS_272", "nist-800-53", set(), {"CM-14"}),  # code signing is what CM-14 (signed components) is
]


@pytest.mark.parametrize("check_id,framework_key,wrong,right", CORRECTED)
def test_corrected_mappings(check_id, framework_key, wrong, right):
    controls = set(load_catalog().get(check_id).controls[framework_key])
    assert not controls & wrong and right <= controls, (check_id, framework_key, sorted(controls))


def test_logging_checks_evidence_accountability_not_testing():
    """GDPR: audit logging demonstrates compliance (Art. 5(2)), as the GDPR rule list maps it; it is not
    the regular testing of measures (Art. 32(1)(d)). No check cites an alarm as a breach notification."""
    catalog = load_catalog()
    for check_id in ("CKV_AWS_18", "CKV2_AWS_11", "CKV_AWS_91", "CKV_AWS_86", "CKV_AWS_67", "CKV2_AWS_39",
                     "CKV2_AWS_27", "CKV_AWS_324", "CKV_AWS_325"):  # the training data store's database logs
        assert catalog.get(check_id).controls["gdpr"] == ("Art. 5(2)",), check_id


def test_no_waf_check_cites_web_filtering():
    """ISO 27001:2022 A.8.23 is filtering users' access to external websites; a WAF protects the
    application (A.8.20 network security, A.8.26 application security requirements)."""
    catalog = load_catalog()
    waf = [r for r in catalog.rules.values() if "WAF" in r.title]
    assert len(waf) >= 8
    assert [r.id for r in waf if "A.8.23" in r.controls["iso27001"]] == []
    for check_id in ("CKV2_AWS_28", "CKV_AWS_68", "CKV_AWS_175", "CKV_AWS_342"):
        assert {"A.8.20", "A.8.26"} <= set(catalog.get(check_id).controls["iso27001"]), check_id


@pytest.mark.parametrize("catalog_file", [None, PLAN_CATALOG], ids=["catalog", "plan-catalog"])
def test_every_check_maps_pci_dss_or_says_why(catalog_file):
    """PCI DSS v4.0.1 is a catalog framework like the others: each entry cites requirements or gives a reason."""
    catalog = load_catalog(catalog_file) if catalog_file else load_catalog()
    for rule in catalog.rules.values():
        assert bool(rule.controls["pci-dss"]) != bool(rule.unmapped.get("pci-dss")), rule.id
    mapped = [r for r in catalog.rules.values() if r.controls["pci-dss"]]
    assert len(mapped) >= 0.7 * len(catalog)


# What each kind of check evidences in PCI DSS v4.0.1 (requirement numbering of v4.0.1).
PCI = [
    ("CKV_AWS_145", {"3.5.1"}),  # stored data unreadable
    ("CKV_AWS_7", {"3.7.4"}),  # key changed at the end of its cryptoperiod
    ("CKV_AEGIS_7", {"4.2.1"}),  # strong cryptography in transit
    ("CKV_AWS_24", {"1.3.1", "1.4.2"}),  # inbound traffic restricted
    ("CKV_AWS_382", {"1.3.2"}),  # outbound traffic restricted
    ("CKV_AWS_53", {"1.4.4"}),  # stores not reachable from untrusted networks
    ("CKV2_AWS_28", {"6.4.2"}),  # automated web attack prevention
    ("CKV_AWS_363", {"6.3.3"}),  # supported, patched runtimes
    ("CKV_AWS_62", {"7.2.2"}),  # least privilege
    ("CKV_AEGIS_12", {"8.4.2"}),  # MFA into the environment
    ("CKV_AWS_10", {"8.3.6"}), ("CKV_AWS_13", {"8.3.7"}),  # password rules
    ("CKV_AWS_46", {"8.6.2"}),  # no hard-coded credentials
    ("CKV_AWS_67", {"10.2.1"}), ("AEGIS_TRAIL_DATA_EVENTS", {"10.2.1.1"}),  # audit logs
    ("CKV_AWS_36", {"10.3.4"}), ("AEGIS_OBJECT_LOCK_BUCKETS", {"10.3.2"}), ("CKV_AWS_338", {"10.5.1"}),
    ("CKV_AWS_238", {"11.5.1"}),  # intrusion detection
    ("AEGIS_REQUIRED_TAGS", {"12.5.1"}),  # inventory of in-scope components
]


@pytest.mark.parametrize("check_id,expected", PCI)
def test_pci_dss_mappings(check_id, expected):
    assert expected <= set(load_catalog().get(check_id).controls["pci-dss"])


def test_availability_checks_are_not_claimed_for_pci_dss():
    """PCI DSS protects account data; availability checks give their reason instead of a requirement."""
    catalog = load_catalog()
    for check_id in ("CKV_AWS_152", "CKV2_AWS_15", "AEGIS_ENDPOINT_AUTOSCALING", "AEGIS_BUDGET_AND_ANOMALY"):
        rule = catalog.get(check_id)
        assert rule.controls["pci-dss"] == () and rule.unmapped["pci-dss"], check_id


def test_deployed_pci_pack_is_labelled_v4_0_1():
    """v4.0 was retired at the end of 2024: the pack and the Security Hub standard name v4.0.1."""
    from modules.governance.security_hub import STANDARDS

    assert framework("pci-dss").title == "PCI DSS v4.0.1"
    assert STANDARDS["pci-dss"].endswith("/v/4.0.1")
    assert FRAMEWORKS["pci-dss"][0] == "PCI DSS v4.0.1" and reference("pci-dss").version == "v4.0.1"


def test_gdpr_ids_are_written_one_way_everywhere():
    """`Art. 32(1)(a)`, as the regulation cites itself: in both catalogs, the rule list and the README."""
    texts = [ROOT / "policies" / "catalog.yaml", PLAN_CATALOG, FRAMEWORKS_DIR / "gdpr.yaml", ROOT / "README.md",
             REFERENCE_DIR / "gdpr.yaml"]
    for path in texts:
        assert re.findall(r"Art\.\d", path.read_text(encoding="utf-8")) == [], path.name
