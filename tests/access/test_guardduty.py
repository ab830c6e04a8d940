"""GuardDuty: detector, protection plans, and routing of findings at or above the configured severity."""
from __future__ import annotations

import json

from modules.access.settings import FINDING_SEVERITY
from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import Request, evaluate, may_assume


def test_a_detector_with_every_protection_plan_in_every_region_in_use(synthesized, env):
    config = load_env(env)
    resources = synthesized.stack(f"{env}-access")["resource"]
    detectors = {d.get("provider", "aws"): (k, d) for k, d in resources["aws_guardduty_detector"].items()}
    # The DR region holds replicas only when replication is on.
    assert set(detectors) == ({"aws", "aws.dr"} if config.data.replication.enabled else {"aws"})
    wanted = {"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS"}
    if config.access.guardduty.runtime_monitoring:
        wanted.add("RUNTIME_MONITORING")
    for provider, (detector_id, detector) in detectors.items():
        assert detector["enable"] is True
        assert detector["finding_publishing_frequency"] == config.access.guardduty.publishing_frequency
        ref = "${aws_guardduty_detector." + detector_id + ".id}"
        features = {f["name"]: f for f in resources["aws_guardduty_detector_feature"].values() if f["detector_id"] == ref}
        assert set(features) == wanted, provider
        for f in features.values():
            assert f["status"] == "ENABLED" and f.get("provider", "aws") == provider
        if "RUNTIME_MONITORING" in features:
            agents = {a["name"]: a["status"] for a in features["RUNTIME_MONITORING"]["additional_configuration"]}
            assert agents == {"EC2_AGENT_MANAGEMENT": "ENABLED"}


def test_findings_at_or_above_the_configured_severity_reach_the_alert_topic(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    resources = synthesized.stack(f"{env}-access")["resource"]
    ((rule_id, rule),) = [(k, r) for k, r in resources["aws_cloudwatch_event_rule"].items()
                          if "provider" not in r and r["name"] == n.resource("guardduty-findings")]
    assert rule.get("state", "ENABLED") == "ENABLED"
    pattern = json.loads(rule["event_pattern"])
    assert pattern["source"] == ["aws.guardduty"] and pattern["detail-type"] == ["GuardDuty Finding"]
    threshold = FINDING_SEVERITY[config.access.guardduty.finding_min_severity]
    assert pattern["detail"]["severity"] == [{"numeric": [">=", threshold]}]
    (target,) = [t for t in resources["aws_cloudwatch_event_target"].values()
                 if "provider" not in t and t["rule"] == "${aws_cloudwatch_event_rule." + rule_id + ".name}"]
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
        rules = synthesized.resources(f"{env}-access", "aws_cloudwatch_event_rule").values()
        (pattern,) = {r["event_pattern"] for r in rules if "guardduty-findings" in r["name"]}  # the DR rule forwards exactly the same findings
        pattern = json.loads(pattern)
        level = config.access.guardduty.finding_min_severity
        assert _matches(pattern, 8.9) and _matches(pattern, 9.5)
        assert _matches(pattern, 5.0) is (level in ("low", "medium"))
        assert not _matches(pattern, 0.5)


def test_dr_findings_are_forwarded_to_the_primary_bus(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    resources = synthesized.stack(f"{env}-access")["resource"]
    dr_rules = {k: r for k, r in resources["aws_cloudwatch_event_rule"].items() if r.get("provider") == "aws.dr"}
    if not config.data.replication.enabled:
        assert dr_rules == {}
        return
    ((rule_id, rule),) = dr_rules.items()
    (target,) = [t for t in resources["aws_cloudwatch_event_target"].values() if t.get("provider") == "aws.dr"]
    bus = f"arn:aws:events:{config.region}:{config.account_id}:event-bus/default"
    assert target["rule"] == "${aws_cloudwatch_event_rule." + rule_id + ".name}" and target["arn"] == bus
    roles = {"${aws_iam_role." + k + ".arn}": v for k, v in resources["aws_iam_role"].items()}
    role = roles[target["role_arn"]]
    rule_arn = f"arn:aws:events:{config.dr_region}:{config.account_id}:rule/{rule['name']}"
    trust = json.loads(role["assume_role_policy"])
    assert may_assume(trust, {"Service": "events.amazonaws.com"},
                      context={"aws:SourceAccount": config.account_id, "aws:SourceArn": rule_arn})
    assert not may_assume(trust, {"Service": "events.amazonaws.com"},
                          context={"aws:SourceAccount": config.account_id, "aws:SourceArn": rule_arn + "-other"})
    (policy,) = [json.loads(p["policy"]) for p in resources["aws_iam_role_policy"].values()
                 if p["role"] == target["role_arn"].replace(".arn}", ".id}")]
    assert evaluate([policy], Request("events:PutEvents", bus)) == "Allow"
    assert evaluate([policy], Request("events:PutEvents", bus.replace("default", "other"))) != "Allow"
    # The primary rule (and so the alert topic) sees the forwarded findings: same source and type.
    assert rule["name"] == n.resource("guardduty-findings-dr")
