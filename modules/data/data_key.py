"""One customer-managed KMS key for one data class, with its alias."""
from __future__ import annotations

import functools

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.data.key_policy import key_policy
from modules.data.key_users import KeyUsers, state_key_users
from modules.naming import Naming


class DataKey(Construct):
    """CMK with rotation, an explicit key policy and the alias `alias/<project>-<env>-<class>[-dr]`.

    `users`: who may use the key (modules/data/key_users.py); None is the state key's users (the
    deployer, as Terraform's S3 backend, and the state replication role). `depends_on`: what must
    exist before KMS accepts the policy (the service-linked roles it names as principals)."""

    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, key_class: str,
                 key_admin_arn: str, deletion_window_days: int, region: str | None = None, provider=None,
                 prevent_destroy: bool = False, users: KeyUsers | None = None, depends_on: list | None = None):
        super().__init__(scope, construct_id)
        self.key_class = key_class
        self.users = users or state_key_users(naming, key_admin_arn)
        self.key = aws.kms_key.KmsKey(
            self, "key",
            description=f"{naming.prefix} {key_class} data" + (" (DR replica region)" if provider else ""),
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=key_policy(naming, key_class, key_admin_arn, self.users, region),
            tags={"DataClass": key_class},
            provider=provider,
            # prod: a plan that would schedule the key's deletion is refused by Terraform itself.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None,
            depends_on=depends_on or None,
        )
        self.alias = aws.kms_alias.KmsAlias(
            self, "alias", name=naming.kms_alias(key_class, region), target_key_id=self.key.key_id,
            provider=provider)

    @functools.cached_property
    def arn(self) -> str:
        return self.key.arn  # read once: each attribute read is a jsii round trip
