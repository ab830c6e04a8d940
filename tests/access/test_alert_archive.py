"""The alert archive and the alert topic's delivery status logging: what each policy lets in and keeps out,
evaluated, not just present (SQS queue, its policy, the subscription, the logging role, the key)."""
from __future__ import annotations

import json

from modules.access.approval_events import dlq_name as approvals_dlq_name
from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import as_principal, as_service, evaluate, kms_is_allowed, may_assume
from tests.modules.test_key_access import _keys_cache as _keys_cache  # noqa: F401
from tests.modules.test_key_access import keys as keys  # noqa: F401  (the fixture)
from tests.modules.test_key_access import request, via

AUDIT_KEY = "${data.aws_kms_key.kms-audit.arn}"


def _one(resources: dict, rtype: str, **match) -> dict:
    found = [c for c in resources.get(rtype, {}).values() if all(c.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (rtype, match, len(found))
    return found[0]


def test_the_queue_keeps_alerts_14_days_under_the_audit_key(synthesized, env):
    n = Naming.of(load_env(env))
    queue = _one(synthesized.stack(f"{env}-access")["resource"], "aws_sqs_queue", name=n.alert_archive())
    assert queue["kms_master_key_id"] == AUDIT_KEY and "sqs_managed_sse_enabled" not in queue
    assert queue["message_retention_seconds"] == 14 * 86400


def test_only_the_alert_topic_delivers_and_only_over_tls(synthesized, env):
    n = Naming.of(load_env(env))
    resources = synthesized.stack(f"{env}-access")["resource"]
    (policy,) = [json.loads(p["policy"]) for p in resources["aws_sqs_queue_policy"].values()
                 if n.alert_archive_arn() in p["policy"]]
    queue, topic = n.alert_archive_arn(), n.alert_topic_arn()

    def send(request_context: dict, service: str = "sns.amazonaws.com") -> str:
        return evaluate([policy], as_service(service, "sqs:SendMessage", queue,
                                             {"aws:SecureTransport": "true", **request_context}))

    assert send({"aws:SourceArn": topic}) == "Allow"
    assert send({"aws:SourceArn": topic.replace(n.alert_topic(), "someone-elses-topic")}) == "Deny"
    assert send({}) == "Deny"
    assert send({"aws:SourceArn": topic, "aws:SecureTransport": "false"}) == "Deny"
    # A role of the account whose IAM policy allows SendMessage is refused by the queue policy.
    insider = as_principal(n.role_arn("platform-admin"), "sqs:SendMessage", queue, {"aws:SecureTransport": "true"})
    assert evaluate([policy], insider) == "Deny"


def test_the_topic_delivers_the_signed_envelope_to_the_queue(synthesized, env):
    n = Naming.of(load_env(env))
    resources = synthesized.stack(f"{env}-access")["resource"]
    (queue_name,) = [k for k, v in resources["aws_sqs_queue"].items() if v["name"] == n.alert_archive()]
    (topic_name,) = resources["aws_sns_topic"]
    sub = _one(resources, "aws_sns_topic_subscription", protocol="sqs")
    assert sub["endpoint"] == "${aws_sqs_queue." + queue_name + ".arn}"
    assert sub["topic_arn"] == "${aws_sns_topic." + topic_name + ".arn}"
    assert sub["raw_message_delivery"] is False  # the envelope carries SNS's signature
    assert any(d.startswith("aws_sqs_queue_policy.") for d in sub["depends_on"])  # no alert before SNS may send


def test_sns_logs_every_delivery_to_the_archive_with_a_role_that_writes_only_its_log_groups(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    resources = synthesized.stack(f"{env}-access")["resource"]
    (topic,) = resources["aws_sns_topic"].values()
    role_arn = n.role_arn("sns-delivery-status")
    assert topic["sqs_success_feedback_role_arn"] == topic["sqs_failure_feedback_role_arn"] == role_arn
    assert topic["sqs_success_feedback_sample_rate"] == 100

    success, failure = (f"sns/{n.region}/{n.account_id}/{n.alert_topic()}",
                        f"sns/{n.region}/{n.account_id}/{n.alert_topic()}/Failure")
    for name in (success, failure):
        group = _one(resources, "aws_cloudwatch_log_group", name=name)
        assert group["kms_key_id"] == AUDIT_KEY and group["retention_in_days"] == config.access.logs.retention_days

    role = _one(resources, "aws_iam_role", name=n.role("sns-delivery-status"))
    trust = json.loads(role["assume_role_policy"])
    assert may_assume(trust, {"Service": "sns.amazonaws.com"}, context={"aws:SourceAccount": n.account_id})
    assert not may_assume(trust, {"Service": "sns.amazonaws.com"}, context={"aws:SourceAccount": "123456789012"})
    assert role["permissions_boundary"].endswith(f"policy/{n.prefix}-permission-boundary")
    (policy,) = [json.loads(p["policy"]) for p in resources["aws_iam_role_policy"].values()
                 if p["name"] == "write-delivery-status"]

    def allowed(action: str, resource: str) -> bool:
        return evaluate([policy], as_principal(role_arn, action, resource)) == "Allow"

    group_arn = f"arn:aws:logs:{n.region}:{n.account_id}:log-group:"
    for name in (success, failure):
        assert allowed("logs:PutLogEvents", f"{group_arn}{name}:log-stream:sqs-1")
        assert allowed("logs:CreateLogStream", f"{group_arn}{name}:log-stream:sqs-1")
    assert not allowed("logs:PutLogEvents", f"{group_arn}/{n.project}/{n.env}/cloudtrail:log-stream:x")
    assert not allowed("logs:CreateLogGroup", f"{group_arn}sns/{n.region}/{n.account_id}/another-topic")
    assert not allowed("logs:DeleteLogGroup", f"{group_arn}{success}")
    assert {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])} \
        == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_sns_may_use_the_audit_key_for_the_alert_topic_only(keys):  # noqa: F811
    n = keys.naming
    audit = keys.keys[("audit", n.region)]
    key_arn = audit.arn(n.account_id)
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        ours = as_service("sns.amazonaws.com", action, key_arn,
                          {"aws:SourceAccount": n.account_id, "aws:SourceArn": n.alert_topic_arn()})
        assert kms_is_allowed(audit.policy, [], ours), action
        other = as_service("sns.amazonaws.com", action, key_arn,
                           {"aws:SourceAccount": n.account_id,
                            "aws:SourceArn": n.alert_topic_arn().replace(n.alert_topic(), "other")})
        assert not kms_is_allowed(audit.policy, [], other), action


def test_the_security_auditor_reads_the_archive_and_nobody_deletes_from_it(keys):  # noqa: F811
    n = keys.naming
    auditor = n.role_arn("security-auditor")
    policies = keys.roles[auditor]
    # The archive, and the approval events EventBridge could not deliver to the topic.
    for queue in (n.alert_archive_arn(), n.queue_arn(approvals_dlq_name(n))):
        for action in ("sqs:ReceiveMessage", "sqs:GetQueueAttributes"):
            assert evaluate(policies, as_principal(auditor, action, queue)) == "Allow", (queue, action)
        for action in ("sqs:DeleteMessage", "sqs:PurgeQueue", "sqs:SendMessage", "sqs:SetQueueAttributes"):
            assert evaluate(policies, as_principal(auditor, action, queue)) != "Allow", (queue, action)
    audit = keys.keys[("audit", n.region)]
    assert kms_is_allowed(audit.policy, policies, request(keys, auditor, "kms:Decrypt", audit, via("sqs", n.region)),
                          boundary=keys.boundary)
