"""SNS delivery status logging of the alert topic: the role SNS writes with, and the two log groups.

SNS logs, for the protocols whose feedback roles the topic names, each failed delivery (and a sample of
the successful ones) to `sns/<region>/<account>/<topic>` and `.../Failure`. Without it an alert that
never reached the archive leaves no trace (AWS Config: sns-topic-message-delivery-notification-enabled).
The log groups are created here, encrypted and with the environment's retention, before SNS would create
them unencrypted and kept forever; the role writes only into their streams.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.access.log_groups import EncryptedLogGroup, LogGroupProps, log_group_arn
from modules.boundary import boundary_arn
from modules.grants import write_log_streams
from modules.iam_doc import document, service_trust, statement
from modules.naming import Naming

DELIVERY_STATUS_ROLE = "sns-delivery-status"
SUCCESS_SAMPLE_PERCENT = 100  # every delivery to the archive is evidence, and alerts are few


def delivery_status_policy(naming: Naming) -> str:
    groups = [log_group_arn(naming, name) for name in naming.alert_delivery_log_groups()]
    return document(
        # SNS asks for CreateLogGroup; the groups already exist (below), so it can create nothing else.
        statement("SnsCreatesOnlyItsGroups", "Allow", "logs:CreateLogGroup", groups),
        write_log_streams("WriteDeliveryStatus", groups[0]),
        write_log_streams("WriteDeliveryFailures", groups[1]),
    )


class AlertDeliveryStatus(Construct):
    """`role_arn` is built from the naming convention (no token read); `ready` is what the topic waits for."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, env_name: str,
                 retention_days: int, tier: str):
        super().__init__(scope, construct_id)
        success, failure = naming.alert_delivery_log_groups()
        self.logs = [EncryptedLogGroup(self, f"log-group-{label}", LogGroupProps(naming, name, retention_days, tier))
                     for label, name in (("success", success), ("failure", failure))]
        self.role = aws.iam_role.IamRole(
            self, "role", name=naming.role(DELIVERY_STATUS_ROLE),
            description=f"SNS writes the delivery status of the {env_name} alert topic",
            assume_role_policy=service_trust("sns.amazonaws.com", naming.account_id),
            permissions_boundary=boundary_arn(naming), max_session_duration=3600)
        self.policy = aws.iam_role_policy.IamRolePolicy(
            self, "policy", name="write-delivery-status", role=self.role.id, policy=delivery_status_policy(naming))
        self.role_arn = naming.role_arn(DELIVERY_STATUS_ROLE)
        self.ready = [self.policy, *(group.log_group for group in self.logs)]
