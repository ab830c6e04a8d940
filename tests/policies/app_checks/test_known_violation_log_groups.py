"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION for CLOUDWATCH_LOG_GROUP_ENCRYPTED and CW_LOGGROUP_RETENTION_PERIOD_CHECK: a log
group of the app without a customer key or kept too briefly, and the RDSOSMetrics group that RDS would create
(no customer key, 30 days) for enhanced monitoring when no stack owns it. The shipped prod deploys both rules
and complies: its data store owns RDSOSMetrics."""
from __future__ import annotations

import json

import pytest

from tests.policies.app_checks.helpers import app, fails_on, failures, run, verdict

CHECK = "AEGIS_CONFIG_RULE_KNOWN_VIOLATION"
PROVIDER = {"aws": [{"region": "eu-west-1"}]}
KEY = "${data.aws_kms_key.kms-audit.arn}"
INSTANCE = {"aws_rds_cluster_instance": {"store": {"identifier": "aegis-dev-training-store-1", "monitoring_interval": 60}}}


def _rule(identifier: str, parameters: dict | None = None) -> dict:
    rule = {"source": {"owner": "AWS", "source_identifier": identifier}}
    return {**rule, "input_parameters": json.dumps(parameters)} if parameters else rule


def log_app(identifier: str, groups: dict, platform_extra: dict | None = None, parameters: dict | None = None) -> dict:
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": {"r": _rule(identifier, parameters)}}}
    platform = {"provider": PROVIDER, "resource": {"aws_cloudwatch_log_group": groups, **(platform_extra or {})}}
    return app("dev", governance=governance, platform=platform)


OWNED = {"os": {"name": "RDSOSMetrics", "kms_key_id": KEY, "retention_in_days": 365}}


@pytest.mark.parametrize("identifier", ["CLOUDWATCH_LOG_GROUP_ENCRYPTED", "CW_LOGGROUP_RETENTION_PERIOD_CHECK"])
def test_enhanced_monitoring_without_an_owned_os_metrics_group_fails(identifier):
    problems = fails_on(run(CHECK, log_app(identifier, {}, INSTANCE)), "aws_config_config_rule.r")
    assert "RDSOSMetrics (created by RDS for dev-platform/aws_rds_cluster_instance.store)" in problems


@pytest.mark.parametrize("identifier", ["CLOUDWATCH_LOG_GROUP_ENCRYPTED", "CW_LOGGROUP_RETENTION_PERIOD_CHECK"])
def test_an_owned_encrypted_os_metrics_group_kept_a_year_passes(identifier):
    results = run(CHECK, log_app(identifier, OWNED, INSTANCE))
    assert verdict(results, "aws_config_config_rule.r"), failures(results)


def test_without_enhanced_monitoring_no_group_is_needed():
    instance = {"aws_rds_cluster_instance": {"store": {"monitoring_interval": 0}}}
    results = run(CHECK, log_app("CLOUDWATCH_LOG_GROUP_ENCRYPTED", {}, instance))
    assert verdict(results, "aws_config_config_rule.r"), failures(results)


def test_a_log_group_without_a_customer_key_fails():
    problems = fails_on(run(CHECK, log_app("CLOUDWATCH_LOG_GROUP_ENCRYPTED", {"app": {"name": "/aegis/app"}})),
                        "aws_config_config_rule.r")
    assert "aws_cloudwatch_log_group.app" in problems


@pytest.mark.parametrize("days, parameters, passes", [
    (365, None, True), (90, None, False), (90, {"MinRetentionTime": "90"}, True), (30, {"MinRetentionTime": 90}, False),
    (None, None, True),  # never expires
])
def test_retention_is_judged_against_min_retention_time(days, parameters, passes):
    group = {"app": {"name": "/aegis/app", "kms_key_id": KEY, **({"retention_in_days": days} if days else {})}}
    results = run(CHECK, log_app("CW_LOGGROUP_RETENTION_PERIOD_CHECK", group, parameters=parameters))
    assert verdict(results, "aws_config_config_rule.r") is passes, failures(results)


def test_the_shipped_prod_deploys_both_rules_and_its_log_groups_comply(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}
    packs = " ".join(p["template_body"] for p in
                     synthesized.resources("prod-governance", "aws_config_conformance_pack").values())
    assert "CW_LOGGROUP_RETENTION_PERIOD_CHECK" in packs and "CLOUDWATCH_LOG_GROUP_ENCRYPTED" in packs
    assert any(g["name"] == "RDSOSMetrics" for g in synthesized.resources("prod-platform", "aws_cloudwatch_log_group").values())
    results = run(CHECK, stacks, "prod")
    assert results and all(r.passed for r in results), failures(results)


def test_the_shipped_prod_without_its_os_metrics_group_fails(synthesized):
    """The state before the data store owned the group: RDS would make it, unencrypted and kept 30 days."""
    import copy

    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}
    stacks["prod-platform"] = platform = copy.deepcopy(stacks["prod-platform"])
    groups = platform["resource"]["aws_cloudwatch_log_group"]
    (logical,) = [k for k, g in groups.items() if g["name"] == "RDSOSMetrics"]
    del groups[logical]
    problems = [r.message for r in run(CHECK, stacks, "prod") if not r.passed]
    assert any("CLOUDWATCH_LOG_GROUP_ENCRYPTED" in p and "RDSOSMetrics (created by RDS" in p for p in problems)
    assert any("CW_LOGGROUP_RETENTION_PERIOD_CHECK" in p and "30 days, below 365" in p for p in problems)
