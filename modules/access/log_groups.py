"""CloudWatch log groups: always encrypted with the audit key, always with the environment's retention.

Any stack can use `EncryptedLogGroup` (`LogGroupProps.of` takes the retention from
`config.access.logs`). Log groups that an AWS service would otherwise create on first write
(unencrypted, kept forever) must be created by the stack that creates the service, before it.
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.lookups import data_key_arn
from modules.naming import Naming
from modules.suppress import suppress

CHECKOV_MIN_RETENTION = 365  # CKV_AWS_338 wants a year


def log_group_arn(naming: Naming, name: str) -> str:
    return f"arn:aws:logs:{naming.region}:{naming.account_id}:log-group:{name}"


@dataclass(frozen=True)
class LogGroupProps:
    """- `name`: the log group's full name;
    - `retention_days`: `access.logs.retention_days` of the environment;
    - `tier`: the environment's tier; in prod the log group refuses deletion."""

    naming: Naming
    name: str
    retention_days: int
    tier: str

    @classmethod
    def of(cls, config: EnvConfig, name: str) -> "LogGroupProps":
        return cls(naming=Naming.of(config), name=name, retention_days=config.access.logs.retention_days,
                   tier=config.tier)


class EncryptedLogGroup(Construct):
    """Encrypted with the audit key of the stack it is in."""

    def __init__(self, scope: Construct, construct_id: str, props: LogGroupProps):
        super().__init__(scope, construct_id)
        retention, tier = props.retention_days, props.tier
        self.name = props.name
        self.arn = log_group_arn(props.naming, props.name)
        self.log_group = aws.cloudwatch_log_group.CloudwatchLogGroup(
            self, "log-group", name=props.name,
            kms_key_id=data_key_arn(self, "audit"),
            retention_in_days=retention,
            # Prod evidence must not disappear with a stray `terraform destroy` or API call.
            deletion_protection_enabled=tier == "prod",
        )
        if retention < CHECKOV_MIN_RETENTION and tier != "prod":
            # The reason is about a non-prod tier: a prod log group short of a year (which
            # AccessSettings.problems() refuses anyway) must fail the gate, never carry it.
            suppress(self.log_group, "CKV_AWS_338",
                     f"{tier} keeps logs {retention} days by config to limit cost; it holds no "
                     f"production data, and prod is held to >= {CHECKOV_MIN_RETENTION} days by config validation",
                     "2027-06-30")
