"""EventBridge sends HIGH/CRITICAL Security Hub findings, Config non-compliance, Macie findings and
failed backups to the alert topic of `<env>-access` (by its conventional ARN)."""
from __future__ import annotations

import json


def _rules(gov) -> dict[str, dict]:
    return {c["name"][len(gov.naming.prefix) + 1:]: c for c in gov.res("aws_cloudwatch_event_rule").values()}


def test_securityhub_high_and_critical_findings(gov):
    pattern = json.loads(_rules(gov)["securityhub-high-findings"]["event_pattern"])
    assert pattern["source"] == ["aws.securityhub"]
    assert pattern["detail-type"] == ["Security Hub Findings - Imported"]
    assert sorted(pattern["detail"]["findings"]["Severity"]["Label"]) == ["CRITICAL", "HIGH"]
    # GuardDuty (alerted by <env>-access) and Macie (rule below) are not alerted a second time.
    assert pattern["detail"]["findings"]["ProductName"] == [{"anything-but": ["GuardDuty", "Macie"]}]
    assert "macie-findings" in _rules(gov)


def test_config_non_compliance(gov):
    pattern = json.loads(_rules(gov)["config-noncompliant"]["event_pattern"])
    assert pattern["source"] == ["aws.config"]
    assert pattern["detail-type"] == ["Config Rules Compliance Change"]
    assert pattern["detail"]["newEvaluationResult"]["complianceType"] == ["NON_COMPLIANT"]


def test_every_rule_targets_the_alert_topic(gov):
    rules = gov.res("aws_cloudwatch_event_rule")
    targets = gov.res("aws_cloudwatch_event_target").values()
    assert len(rules) >= 2
    for name, rule in rules.items():
        assert rule["state"] == "ENABLED"
        assert rule["name"].startswith(gov.naming.prefix + "-")  # the topic policy admits rules by this prefix
        mine = [t for t in targets if t["rule"] == gov.ref("aws_cloudwatch_event_rule", name, "name")]
        assert [t["arn"] for t in mine] == [gov.naming.alert_topic_arn()], rule["name"]
