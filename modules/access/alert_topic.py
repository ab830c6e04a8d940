"""The environment's alert topic: KMS-encrypted (audit key), TLS-only, and publishable only by the
AWS services that raise alerts in this account (alarms, EventBridge rules of this environment,
Budgets and cost anomaly detection). Subscriptions come from config; SNS logs every delivery to the
alert archive (SQS) through the delivery status role (modules/access/alert_delivery_status.py)."""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.access.alert_delivery_status import SUCCESS_SAMPLE_PERCENT, AlertDeliveryStatus
from modules.access.settings import AlertSettings
from modules.grants import deny_insecure_transport
from modules.iam_doc import document, statement
from modules.lookups import data_key_arn
from modules.naming import Naming


def topic_policy(naming) -> str:
    topic = naming.alert_topic_arn()
    account = naming.account_id
    same_account = {"StringEquals": {"aws:SourceAccount": account}}
    return document(
        deny_insecure_transport("sns:Publish", topic),
        statement("AlarmsPublish", "Allow", "sns:Publish", topic,
                  principal={"Service": "cloudwatch.amazonaws.com"},
                  condition={**same_account, "ArnLike": {
                      "aws:SourceArn": f"arn:aws:cloudwatch:{naming.region}:{account}:alarm:*"}}),
        # Rules of this environment only (GuardDuty findings here, Security Hub/Config in governance).
        statement("EnvironmentRulesPublish", "Allow", "sns:Publish", topic,
                  principal={"Service": "events.amazonaws.com"},
                  condition={**same_account, "ArnLike": {
                      "aws:SourceArn": f"arn:aws:events:{naming.region}:{account}:rule/{naming.prefix}-*"}}),
        statement("CostAlertsPublish", "Allow", "sns:Publish", topic,
                  principal={"Service": ["budgets.amazonaws.com", "costalerts.amazonaws.com"]},
                  condition=same_account),
    )


@dataclass(frozen=True)
class AlertTopicProps:
    """- `env_name`: in the topic's display name;
    - `settings`: the subscriptions (`access.alerts`);
    - `log_retention_days`, `tier`: of the delivery status log groups (`access.logs`, the environment's tier)."""

    naming: Naming
    env_name: str
    settings: AlertSettings
    log_retention_days: int
    tier: str


class AlertTopic(Construct):
    """Encrypted with the audit key of the stack it is in."""

    def __init__(self, scope: Construct, construct_id: str, props: AlertTopicProps):
        super().__init__(scope, construct_id)
        naming, settings = props.naming, props.settings
        self.delivery_status = AlertDeliveryStatus(self, "delivery-status", naming=naming, env_name=props.env_name,
                                                   retention_days=props.log_retention_days, tier=props.tier)
        role = self.delivery_status.role_arn
        self.topic = aws.sns_topic.SnsTopic(
            self, "topic", name=naming.alert_topic(), display_name=f"Aegis {props.env_name} alerts",
            kms_master_key_id=data_key_arn(self, "audit"),
            # Delivery status of the SQS protocol (the alert archive); email deliveries have none.
            sqs_success_feedback_role_arn=role, sqs_failure_feedback_role_arn=role,
            sqs_success_feedback_sample_rate=SUCCESS_SAMPLE_PERCENT,
            depends_on=self.delivery_status.ready)
        self.arn = self.topic.arn
        self.policy = aws.sns_topic_policy.SnsTopicPolicy(self, "policy", arn=self.topic.arn, policy=topic_policy(naming))
        self.subscriptions = [
            aws.sns_topic_subscription.SnsTopicSubscription(
                self, f"subscription-{i}", topic_arn=self.topic.arn, protocol=sub.protocol, endpoint=sub.endpoint)
            for i, sub in enumerate(settings.subscriptions)
        ]
