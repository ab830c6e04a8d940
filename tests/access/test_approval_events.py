"""Approval events in `<env>-access`: approvals of every package group reach the alert topic, with
retries, a dead-letter queue only the rule may write to (over TLS), and an alarm on that queue."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.naming import Naming
from modules.training import package_group
from policies.iam_eval import Request, evaluate


def _one(resources: dict, rtype: str, **where) -> tuple[str, dict]:
    (hit,) = [(k, v) for k, v in resources[rtype].items() if all(v.get(a) == b for a, b in where.items())]
    return hit


def test_approvals_of_every_group_reach_the_alert_topic_with_a_dead_letter_queue(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    resources = synthesized.stack(f"{env}-access")["resource"]
    rule_id, rule = _one(resources, "aws_cloudwatch_event_rule", name=n.resource("model-approvals"))
    pattern = json.loads(rule["event_pattern"])
    assert pattern == {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                       "detail": {"ModelApprovalStatus": ["Approved"],
                                  "ModelPackageGroupName": sorted(package_group(n, m.name)
                                                                  for m in config.platform.models)}}
    _, target = _one(resources, "aws_cloudwatch_event_target", rule="${aws_cloudwatch_event_rule." + rule_id + ".name}")
    (topic_id,) = resources["aws_sns_topic"]
    assert target["arn"] == "${aws_sns_topic." + topic_id + ".arn}"
    assert target["retry_policy"] == {"maximum_event_age_in_seconds": 86400, "maximum_retry_attempts": 185}
    queue_id, queue = _one(resources, "aws_sqs_queue", name=n.resource("model-approvals-dlq"))
    assert target["dead_letter_config"]["arn"] == "${aws_sqs_queue." + queue_id + ".arn}"
    assert queue["kms_master_key_id"] == "${data.aws_kms_key.kms-audit.arn}"
    _, alarm = _one(resources, "aws_cloudwatch_metric_alarm", alarm_name=n.alarm("model-approvals-undelivered"))
    assert alarm["dimensions"] == {"QueueName": queue["name"]} and alarm["namespace"] == "AWS/SQS"
    assert alarm["alarm_actions"] == ["${aws_sns_topic." + topic_id + ".arn}"]


def test_only_the_approval_rule_may_send_to_the_dead_letter_queue_and_only_over_tls(synthesized):
    n = Naming.of(load_env("prod"))
    resources = synthesized.stack("prod-access")["resource"]
    queue_id, _ = _one(resources, "aws_sqs_queue", name=n.resource("model-approvals-dlq"))
    (policy,) = [p for p in resources["aws_sqs_queue_policy"].values() if queue_id in p["queue_url"]]
    document = json.loads(policy["policy"].replace("${aws_sqs_queue." + queue_id + ".arn}", "arn:aws:sqs:q"))
    rule = f"arn:aws:events:{n.region}:{n.account_id}:rule/{n.resource('model-approvals')}"

    def decision(source: str, tls: bool = True) -> str:
        return evaluate([document], Request("sqs:SendMessage", "arn:aws:sqs:q", {
            "aws:SourceArn": source, "aws:SecureTransport": "true" if tls else "false"},
            principal={"Service": "events.amazonaws.com"}))

    assert decision(rule) == "Allow"
    assert decision(rule.replace("model-approvals", "other-rule")) != "Allow"
    assert decision(rule, tls=False) == "Deny"


def test_the_topic_and_its_key_let_eventbridge_deliver_the_approvals(synthesized):
    """The topic is encrypted with the audit key: SNS needs the rule's publish allowed by the topic policy,
    and EventBridge's GenerateDataKey and Decrypt (for the topic and the dead-letter queue) by the key policy."""
    n = Naming.of(load_env("prod"))
    rule = f"arn:aws:events:{n.region}:{n.account_id}:rule/{n.resource('model-approvals')}"
    events = {"Service": "events.amazonaws.com"}
    context = {"aws:SourceArn": rule, "aws:SourceAccount": n.account_id, "aws:SecureTransport": "true"}
    access = synthesized.stack("prod-access")["resource"]
    (topic_policy,) = access["aws_sns_topic_policy"].values()
    publish = Request("sns:Publish", n.alert_topic_arn(), context, principal=events)
    assert evaluate([json.loads(topic_policy["policy"])], publish) == "Allow"
    foreign = Request("sns:Publish", n.alert_topic_arn(), {**context, "aws:SourceAccount": "999900001111"},
                      principal=events)
    assert evaluate([json.loads(topic_policy["policy"])], foreign) != "Allow"
    data = synthesized.stack("prod-data")["resource"]
    (alias,) = [a for a in data["aws_kms_alias"].values() if a["name"] == n.kms_alias("audit")]
    key_id = alias["target_key_id"].split(".")[1]
    key_policy = json.loads(data["aws_kms_key"][key_id]["policy"])
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert evaluate([key_policy], Request(action, "*", context, principal=events)) == "Allow", action
