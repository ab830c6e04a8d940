"""Shield Advanced: off in every default environment (it costs ~3,000 USD/month); when an
environment enables it, synth prints a cost note on stderr and the JSON stays deterministic."""
from __future__ import annotations

import json

from tests.governance.conftest import synth_governance


def test_off_by_default(gov):
    assert gov.settings.shield.enabled is False
    assert not gov.res("aws_shield_subscription") and not gov.res("aws_shield_protection")


def test_enabled_prints_a_cost_note(variant):
    assert "Shield Advanced is enabled" in variant.stderr and "3,000 USD per month" in variant.stderr
    assert variant.config.name in variant.stderr
    assert "3,000" not in variant.text  # the note never reaches the Terraform JSON


def test_enabled_subscribes_and_protects_discovered_resources(variant):
    name, subscription = variant.one("aws_shield_subscription")
    assert subscription["auto_renew"] == "ENABLED"
    protections = variant.res("aws_shield_protection")
    assert len(protections) == 2  # internet-facing ALBs, CloudFront distributions
    for conf in protections.values():
        assert conf["for_each"].startswith("${local.") and conf["resource_arn"] == "${each.key}"
        assert f"aws_shield_subscription.{name}" in conf["depends_on"]
    lookups = variant.data("aws_resourcegroupstaggingapi_resources").values()
    for lookup in lookups:  # only this environment's resources
        assert {f["key"]: f["values"] for f in lookup["tag_filter"]} == {
            "Project": [variant.config.project], "Environment": [variant.config.name]}
    assert sorted(lookup.get("region", "") for lookup in lookups) == ["", "us-east-1"]
    assert any("!lb.internal" in expression for expression in variant.doc["locals"].values())


def test_enabled_synth_is_deterministic(variant, tmp_path):
    text, stderr = synth_governance(variant.config, tmp_path / "again")
    assert text == variant.text
    assert stderr == variant.stderr
    json.loads(text)
