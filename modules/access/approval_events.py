"""Approval events: an EventBridge rule on "SageMaker Model Package State Change" to `Approved` for the
environment's model package groups, delivered to the alert topic, so every approval is seen the moment
it happens (and is the signal to open the promotion change: README "Promoting a model").

Delivery that fails after EventBridge's retries (24 hours, 185 attempts: the maxima) lands in a dead-letter
queue encrypted with the audit key, the alert topic's key: the key policy already lets EventBridge use
it (modules/data/key_policy.py, AlertPublishers), and the topic policy lets this environment's rules
publish (modules/access/alert_topic.py). The queue policy admits this rule only, over TLS only, and
an alarm on the queue (on the dashboard) says when an approval was not delivered.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.boundary import APPROVED
from modules.grants import deny_insecure_transport
from modules.iam_doc import document, statement
from modules.lookups import data_key_arn
from modules.naming import Naming

EVENT_SOURCE = "aws.sagemaker"
EVENT_TYPE = "SageMaker Model Package State Change"
DLQ_RETENTION_SECONDS = 14 * 86400  # SQS's maximum: two weeks to notice and redrive
MAX_EVENT_AGE_SECONDS, MAX_RETRIES = 86400, 185  # EventBridge's maxima


def approvals_pattern(groups: list[str]) -> str:
    return json.dumps({"source": [EVENT_SOURCE], "detail-type": [EVENT_TYPE],
                       "detail": {"ModelApprovalStatus": [APPROVED], "ModelPackageGroupName": sorted(groups)}},
                      sort_keys=True)


def rule_name(naming: Naming) -> str:
    return naming.resource("model-approvals")


def dlq_name(naming: Naming) -> str:
    return naming.resource("model-approvals-dlq")


def undelivered_alarm_name(naming: Naming) -> str:
    return naming.alarm("model-approvals-undelivered")


def dlq_policy(naming: Naming, queue_arn: str) -> str:
    rule_arn = f"arn:aws:events:{naming.region}:{naming.account_id}:rule/{rule_name(naming)}"
    return document(
        deny_insecure_transport("sqs:*", queue_arn),
        statement("ApprovalRuleDeadLetters", "Allow", "sqs:SendMessage", queue_arn,
                  principal={"Service": "events.amazonaws.com"},
                  condition={"ArnEquals": {"aws:SourceArn": rule_arn}}))


@dataclass(frozen=True)
class ApprovalEventsProps:
    naming: Naming
    groups: tuple[str, ...]  # the environment's model package groups
    topic_arn: str


class ApprovalEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ApprovalEventsProps, *, topic_dependency=None):
        super().__init__(scope, construct_id)
        n = props.naming
        self.rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "rule", name=rule_name(n), state="ENABLED",
            description="Model versions approved in this environment's registries, to the alert topic",
            event_pattern=approvals_pattern(list(props.groups)))
        self.dlq = aws.sqs_queue.SqsQueue(
            self, "dlq", name=dlq_name(n), kms_master_key_id=data_key_arn(self, "audit"),
            kms_data_key_reuse_period_seconds=300, message_retention_seconds=DLQ_RETENTION_SECONDS)
        queue_arn = self.dlq.arn
        policy = aws.sqs_queue_policy.SqsQueuePolicy(self, "dlq-policy", queue_url=self.dlq.url,
                                                     policy=dlq_policy(n, queue_arn))
        t = aws.cloudwatch_event_target
        self.target = t.CloudwatchEventTarget(
            self, "to-alerts", rule=self.rule.name, target_id="alert-topic", arn=props.topic_arn,
            dead_letter_config=t.CloudwatchEventTargetDeadLetterConfig(arn=queue_arn),
            retry_policy=t.CloudwatchEventTargetRetryPolicy(
                maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS, maximum_retry_attempts=MAX_RETRIES),
            depends_on=[d for d in (topic_dependency, policy) if d is not None])
        # Named by convention (no token read): any message in the queue is an approval nobody was told of.
        self.alarm_name = undelivered_alarm_name(n)
        aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self, "undelivered", alarm_name=self.alarm_name,
            alarm_description="A model approval event could not be delivered to the alert topic: see the dead-letter queue",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dlq_name(n)}, statistic="Maximum", period=300, evaluation_periods=1,
            threshold=0, comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
            alarm_actions=[props.topic_arn])
