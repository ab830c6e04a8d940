"""The edge audit key: a customer-managed key in us-east-1 for the log groups that AWS requires in
us-east-1 (CloudFront-scope WAF logs and CloudFront access logs).

CloudWatch Logs only uses keys from its own region and the data stack's audit key lives in the
environment's region, so the platform owns this one key, of the audit class, with the same rules
as the data keys: rotation, explicit policy, key administrators who cannot use it, and use only by
CloudWatch Logs for this account's log groups in us-east-1 (every principal of the account is denied).
"""
from __future__ import annotations

import functools

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.data.key_users import edge_key_users
from modules.edge import EDGE_REGION
from modules.grants import key_administration, key_use_restrictions, logs_may_encrypt
from modules.iam_doc import document
from modules.naming import Naming

__all__ = ["EDGE_REGION", "EdgeAuditKey", "edge_key_policy"]


def edge_key_policy(naming: Naming, key_admin_arn: str) -> str:
    return document(*key_administration(naming.account_root, key_admin_arn),
                    logs_may_encrypt(EDGE_REGION, naming.account_id),
                    *key_use_restrictions(edge_key_users(naming), EDGE_REGION))


class EdgeAuditKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, key_admin_arn: str,
                 deletion_window_days: int, prevent_destroy: bool = False):
        """`prevent_destroy` (prod): like every data key, Terraform refuses a plan that deletes it."""
        super().__init__(scope, construct_id)
        self.key = aws.kms_key.KmsKey(
            self, "key", region=EDGE_REGION, description=f"{naming.prefix} audit data at the edge ({EDGE_REGION} logs)",
            enable_key_rotation=True, rotation_period_in_days=365, deletion_window_in_days=deletion_window_days,
            key_usage="ENCRYPT_DECRYPT", customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=edge_key_policy(naming, key_admin_arn), tags={"DataClass": "audit"},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None)
        self.alias = aws.kms_alias.KmsAlias(
            self, "alias", region=EDGE_REGION, name=f"alias/{naming.prefix}-audit-edge", target_key_id=self.key.key_id)

    @functools.cached_property
    def arn(self) -> str:
        return self.key.arn  # read once: every CloudFront-fronted fleet logs with it (each read is a jsii round trip)
