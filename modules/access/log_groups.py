"""CloudWatch log groups: always encrypted with the audit key, always with the environment's retention.

Any stack can use `EncryptedLogGroup` (retention and deletion protection come from
`config.access.logs`). Log groups that an AWS service would otherwise create on first write
(unencrypted, kept forever) must be created by the stack that creates the service, before it.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.lookups import data_key_arn
from modules.suppress import suppress

CHECKOV_MIN_RETENTION = 365  # CKV_AWS_338 wants a year


def log_group_arn(config: EnvConfig, name: str) -> str:
    return f"arn:aws:logs:{config.region}:{config.account_id}:log-group:{name}"


class EncryptedLogGroup(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stack, name: str):
        super().__init__(scope, construct_id)
        config: EnvConfig = stack.config
        retention = config.access.logs.retention_days
        self.name = name
        self.arn = log_group_arn(config, name)
        self.log_group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "log-group", name=name,
            kms_key_id=data_key_arn(stack, "audit"),
            retention_in_days=retention,
            # Prod evidence must not disappear with a stray `terraform destroy` or API call.
            deletion_protection_enabled=config.tier == "prod",
        )
        if retention < CHECKOV_MIN_RETENTION:
            # Only non-prod can get here: AccessSettings.problems() enforces a year in prod.
            suppress(self.log_group, "CKV_AWS_338",
                     f"{config.tier} keeps logs {retention} days by config to limit cost; it holds no "
                     f"production data, and prod is held to >= {CHECKOV_MIN_RETENTION} days by config validation",
                     "2027-06-30")
