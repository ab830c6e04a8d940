"""The alert archive: an SQS queue subscribed to the alert topic, so every alert is kept for 14 days.

Email subscribers lose alerts silently (no delivery status, mail filters); the queue keeps each one, and
SNS logs every delivery to it (modules/access/alert_delivery_status.py). The queue is encrypted with the
audit key (the key policy lets SNS, for this topic only, and the auditor, through SQS, use it), admits
messages from the alert topic only and over TLS only, and keeps SNS's envelope (raw delivery off): the
envelope carries SNS's signature, which proves an archived alert came from the topic. The
security-auditor persona reads it (modules/access/persona_policies.py); nobody may delete from it but the
retention.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.grants import deny_insecure_transport
from modules.iam_doc import document, statement
from modules.lookups import data_key_arn
from modules.naming import Naming

RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum (1,209,600 s)


def archive_policy(naming: Naming) -> str:
    queue, topic = naming.alert_archive_arn(), naming.alert_topic_arn()
    return document(
        deny_insecure_transport("sqs:*", queue),
        statement("AlertTopicDelivers", "Allow", "sqs:SendMessage", queue, principal={"Service": "sns.amazonaws.com"},
                  condition={"ArnEquals": {"aws:SourceArn": topic}}),
        # A sender without the topic as its source (any principal, any other topic) is refused, whatever IAM grants.
        statement("DenyOtherSenders", "Deny", "sqs:SendMessage", queue, principal="*",
                  condition={"ArnNotEquals": {"aws:SourceArn": topic}}),
    )


class AlertArchive(Construct):
    """`topic_arn`: the topic's ARN token, so the subscription waits for the topic."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, topic_arn: str):
        super().__init__(scope, construct_id)
        self.queue = aws.sqs_queue.SqsQueue(
            self, "queue", name=naming.alert_archive(), kms_master_key_id=data_key_arn(self, "audit"),
            kms_data_key_reuse_period_seconds=300, message_retention_seconds=RETENTION_SECONDS)
        self.policy = aws.sqs_queue_policy.SqsQueuePolicy(
            self, "policy", queue_url=self.queue.url, policy=archive_policy(naming))
        self.subscription = aws.sns_topic_subscription.SnsTopicSubscription(
            self, "subscription", topic_arn=topic_arn, protocol="sqs", endpoint=self.queue.arn,
            raw_message_delivery=False, depends_on=[self.policy])
