"""GuardDuty: detector, protection plans, and routing of findings at or above the configured severity."""
from __future__ import annotations

import json

from modules.access.settings import FINDING_SEVERITY
from modules.config import load_env
from modules.naming import Naming


def test_detector_with_every_protection_plan(synthesized, env):
    config = load_env(env)
    resources = synthesized.stack(f"{env}-access")["resource"]
    ((detector_id, detector),) = resources["aws_guardduty_detector"].items()
    assert detector["enable"] is True
    assert detector["finding_publishing_frequency"] == config.access.guardduty.publishing_frequency
    features = {f["name"]: f for f in resources["aws_guardduty_detector_feature"].values()}
    for f in features.values():
        assert f["detector_id"] == "${aws_guardduty_detector." + detector_id + ".id}"
        assert f["status"] == "ENABLED"
    wanted = {"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS"}
    if config.access.guardduty.runtime_monitoring:
        wanted.add("RUNTIME_MONITORING")
        agents = {a["name"]: a["status"] for a in features["RUNTIME_MONITORING"]["additional_configuration"]}
        assert agents == {"EC2_AGENT_MANAGEMENT": "ENABLED"}
    assert set(features) == wanted


def test_findings_at_or_above_the_configured_severity_reach_the_alert_topic(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    resources = synthesized.stack(f"{env}-access")["resource"]
    ((rule_id, rule),) = resources["aws_cloudwatch_event_rule"].items()
    assert rule["name"] == n.resource("guardduty-findings") and rule.get("state", "ENABLED") == "ENABLED"
    pattern = json.loads(rule["event_pattern"])
    assert pattern["source"] == ["aws.guardduty"] and pattern["detail-type"] == ["GuardDuty Finding"]
    threshold = FINDING_SEVERITY[config.access.guardduty.finding_min_severity]
    assert pattern["detail"]["severity"] == [{"numeric": [">=", threshold]}]
    (target,) = resources["aws_cloudwatch_event_target"].values()
    (topic_id,) = resources["aws_sns_topic"]
    assert target["rule"] == "${aws_cloudwatch_event_rule." + rule_id + ".name}"
    assert target["arn"] == "${aws_sns_topic." + topic_id + ".arn}"


def _matches(pattern: dict, severity: float) -> bool:
    (numeric,) = pattern["detail"]["severity"]
    op, bound = numeric["numeric"]
    assert op == ">="
    return severity >= bound


def test_severity_threshold_semantics(synthesized):
    """High (7.0–8.9) passes a 'high' rule, medium (4.0–6.9) does not; a 'medium' rule passes both."""
    for env in ("dev", "staging", "prod"):
        config = load_env(env)
        (rule,) = synthesized.resources(f"{env}-access", "aws_cloudwatch_event_rule").values()
        pattern = json.loads(rule["event_pattern"])
        level = config.access.guardduty.finding_min_severity
        assert _matches(pattern, 8.9) and _matches(pattern, 9.5)
        assert _matches(pattern, 5.0) is (level in ("low", "medium"))
        assert not _matches(pattern, 0.5)
