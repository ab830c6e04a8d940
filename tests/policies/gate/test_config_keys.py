"""Findings caused by configuration name the environment-file key to change (policies/config_keys.py): the
mapping's keys exist in the config models, its constructs read them, and the gate's findings on Aegis's own
output carry them."""
from __future__ import annotations

from modules.config_docs import sections
from policies.config_keys import CONFIG_KEYS, config_key_of, name_config_key
from policies.findings import FAILED, PASSED, SUPPRESSED, Finding
from tests.conftest import ROOT


def _documented_keys() -> set[str]:
    keys = set()
    for section in sections():
        for path in (section.path, *section.also):
            keys |= {f"{path}.{row[0]}" if path else row[0] for row in section.rows}
    return keys


def test_every_mapped_key_exists_in_the_config_models():
    documented = _documented_keys()
    missing = {check: entry.key for check, entry in CONFIG_KEYS.items() if entry.key not in documented}
    assert not missing, f"policies/config_keys.py names keys the config models do not have: {missing}"


def test_every_mapped_construct_reads_its_key():
    """The mapping follows the constructs: each named construct reads the key's attribute from the config."""
    for check, entry in CONFIG_KEYS.items():
        attribute = entry.key.split(".")[-1]
        for construct in entry.constructs:
            source = (ROOT / construct).read_text(encoding="utf-8")
            assert f".{attribute}" in source or f"{attribute}=" in source, (check, construct, attribute)


def test_every_mapped_check_is_catalogued(app_gate):
    assert set(CONFIG_KEYS) <= set(app_gate.catalog.rules)


def _finding(check_id: str, address: str, status: str = FAILED) -> Finding:
    return Finding(check_id=check_id, status=status, severity="medium", env="dev", stack="dev-access",
                   pillar="access", address=address, construct_path="", title="t",
                   remediation="Set retention_in_days to 365 or more.", controls={}, file="x")


def test_only_failures_of_mapped_checks_on_the_mapped_resources_name_a_key():
    assert config_key_of(_finding("CKV_AWS_338", "aws_cloudwatch_log_group.trail")) == "access.logs.retention_days"
    assert config_key_of(_finding("CKV_AWS_338", "aws_cloudwatch_log_group.trail", PASSED)) == ""
    assert config_key_of(_finding("CKV_AWS_144", "aws_cloudwatch_log_group.trail")) == ""  # not a bucket
    assert config_key_of(_finding("CKV_AWS_18", "aws_s3_bucket.b")) == ""  # access logging: not configurable
    named = name_config_key(_finding("CKV_AWS_338", "aws_cloudwatch_log_group.trail"))
    assert named.config_key == "access.logs.retention_days"
    assert named.remediation == ("Set retention_in_days to 365 or more. This value comes from the configuration: "
                                 "change `access.logs.retention_days` in environments/dev.yaml (or base.yaml), not "
                                 "the Terraform.")


def test_the_gate_names_the_key_of_config_driven_failures(app_gate):
    """dev keeps logs 90 days and does not replicate (its environment file): those failures name the keys, in the
    JSON (`config_key`) and in the remediation every report shows; failures no key decides name none, and
    neither do suppressed findings."""
    failed = [f for f in app_gate.findings if f.status == FAILED]
    retention = [f for f in failed if f.check_id == "CKV_AWS_338"]
    replication = [f for f in failed if f.check_id == "CKV_AWS_144" and f.env == "dev"]
    assert retention and replication
    for finding in retention:
        assert finding.config_key == "access.logs.retention_days"
        assert f"`access.logs.retention_days` in environments/{finding.env}.yaml" in finding.remediation
        assert finding.as_dict()["config_key"] == "access.logs.retention_days"
    assert {f.config_key for f in replication} == {"data.replication.enabled"}
    # a suppressed finding is not to fix: prod's per-region access-log buckets do not replicate, whatever the key
    suppressed = [f for f in app_gate.findings if f.status == SUPPRESSED and f.check_id in CONFIG_KEYS]
    assert suppressed and all(f.config_key == "" for f in suppressed)
    unmapped = [f for f in app_gate.findings if f.status != PASSED and f.check_id not in CONFIG_KEYS]
    assert unmapped and all(f.config_key == "" and "comes from the configuration" not in f.remediation
                            for f in unmapped)
