"""AWS Config: the recorder (every supported resource type), its delivery channel and status.

The recorder uses AWS Config's service-linked role rather than a project role: recording every
supported resource type needs read access to every AWS service, which the permission boundary
deliberately does not grant (a bounded role would silently leave gaps in the inventory). The
service-linked role's policy is maintained by AWS as resource types are added, only
config.amazonaws.com can assume it, and nobody can attach other policies to it.
Delivery goes to the audit bucket (`config/` prefix, audit KMS key): its bucket policy admits
config.amazonaws.com for this account, and the audit key policy lets Config encrypt.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import RecorderSettings
from modules.governance.singletons import AdoptSettings, import_existing
from modules.naming import Naming

DELIVERY_PREFIX = "config"


def service_linked_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"


class ConfigRecorder(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: RecorderSettings,
                 audit_key_arn: str, adopt: AdoptSettings | None = None):
        """`adopt`: an existing recorder and delivery channel (one of each per region) to import; their names,
        which cannot change in place, are kept."""
        super().__init__(scope, construct_id)
        adopt = adopt or AdoptSettings()
        role_arn = service_linked_role_arn(naming.account_id)
        if settings.create_service_linked_role:
            role_arn = aws.iam_service_linked_role.IamServiceLinkedRole(
                self, "service-role", aws_service_name="config.amazonaws.com",
                description="AWS Config recorder (AWS-managed permissions for every resource type)").arn
        m = aws.config_configuration_recorder
        # Global resource types (IAM users, roles, policies) are recorded in the home region only;
        # recording them in every region would duplicate configuration items and their cost.
        self.records_global = naming.region == settings.home_region(naming.region)
        self.recorder = m.ConfigConfigurationRecorder(
            self, "recorder", name=adopt.config_recorder or naming.resource("recorder"), role_arn=role_arn,
            recording_group=m.ConfigConfigurationRecorderRecordingGroup(
                all_supported=True, include_global_resource_types=self.records_global),
            recording_mode=m.ConfigConfigurationRecorderRecordingMode(
                recording_frequency=settings.recording_frequency))
        import_existing(self.recorder, adopt.config_recorder)
        d = aws.config_delivery_channel
        self.channel = d.ConfigDeliveryChannel(
            self, "delivery-channel", name=adopt.config_delivery_channel or naming.resource("config-delivery"),
            s3_bucket_name=naming.bucket("audit"), s3_key_prefix=DELIVERY_PREFIX, s3_kms_key_arn=audit_key_arn,
            snapshot_delivery_properties=d.ConfigDeliveryChannelSnapshotDeliveryProperties(
                delivery_frequency=settings.snapshot_frequency),
            depends_on=[self.recorder])
        import_existing(self.channel, adopt.config_delivery_channel)
        self.status = aws.config_configuration_recorder_status.ConfigConfigurationRecorderStatus(
            self, "status", name=self.recorder.name, is_enabled=True, depends_on=[self.channel])
