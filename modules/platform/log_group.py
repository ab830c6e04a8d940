"""A CloudWatch log group that is always encrypted with a customer-managed key and has a retention."""
from __future__ import annotations

from constructs import Construct

from modules import aws


def encrypted_log_group(scope: Construct, construct_id: str, *, name: str, kms_key_arn: str,
                        retention_days: int, protected: bool, region: str | None = None):
    """Created here, before any service writes to it: otherwise AWS creates it unencrypted and with
    no retention on first write. `protected` (platform.deletion_protection) refuses its deletion."""
    return aws.cloudwatch_log_group.CloudwatchLogGroup(
        scope, construct_id, name=name, kms_key_id=kms_key_arn, retention_in_days=retention_days,
        deletion_protection_enabled=protected, region=region)
