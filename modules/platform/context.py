"""What every platform construct needs from its stack, in one place (passed explicitly)."""
from __future__ import annotations

from dataclasses import dataclass

from modules.config import EnvConfig
from modules.naming import Naming


@dataclass(frozen=True)
class Keys:
    """ARNs of the data-stack KMS keys, by class (looked up by alias in this stack)."""

    model: str
    inference: str
    audit: str


@dataclass(frozen=True)
class PlatformContext:
    config: EnvConfig
    naming: Naming
    keys: Keys

    @property
    def settings(self):
        return self.config.platform

    @property
    def log_retention_days(self) -> int:
        # One retention for every log group of the environment: `access.logs.retention_days`.
        return self.config.access.logs.retention_days

    def bucket(self, purpose: str) -> str:
        return self.naming.bucket(purpose)

    def bucket_arn(self, purpose: str) -> str:
        return self.naming.bucket_arn(purpose)

    def log_group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.naming.region}:{self.naming.account_id}:log-group:{name}"

    def log_group_name(self, *parts: str) -> str:
        """Log groups the platform owns outside AWS-fixed names: `/<project>/<env>/<parts…>`."""
        return self.naming.log_group("/".join(parts))
