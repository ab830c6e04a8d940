"""`<env>-bootstrap`: the encrypted, versioned, TLS-only remote-state bucket of one environment.

It keeps local state itself (it creates the bucket the other stacks' S3 backend needs); apply it
first, once per environment.
"""
from __future__ import annotations

from constructs import Construct
from cdktf import TerraformOutput

from modules.config import EnvConfig
from modules.data.data_key import DataKey
from modules.data.secure_bucket import BucketOptions, SecureBucket
from modules.naming import BOOTSTRAP
from modules.pillar_stack import PillarStack
from modules.data.bucket_policy import access_log_delivery
from policies.suppress import suppress


class BootstrapStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, BOOTSTRAP, local_backend=True)
        naming = self.naming
        self.key = DataKey(self, "kms-state", naming=naming, key_class="state",
                           key_admin_arn=config.deployer_role_arn,
                           deletion_window_days=config.data.kms_deletion_window_days,
                           prevent_destroy=config.tier == "prod")
        state_name = naming.state_bucket()
        logs_name = naming.bucket("tfstate-logs")
        self.log_bucket = SecureBucket(self, "state-access-logs", BucketOptions(
            name=logs_name, kms_key_arn=None, lifecycle=config.data.lifecycle,
            prevent_destroy=config.tier == "prod",
            extra_statements=access_log_delivery(f"arn:aws:s3:::{logs_name}", naming.account_id,
                                                 [f"arn:aws:s3:::{state_name}"])))
        suppress(self.log_bucket.bucket, "CKV_AWS_145",
                 "S3 server access logs can only be delivered to SSE-S3 (AES256) buckets; the bucket "
                 "denies non-TLS and non-AES256 puts and blocks all public access", "2027-12-31")
        suppress(self.log_bucket.bucket, "CKV_AWS_18",
                 "This is the access-log target of the state bucket; logging it into itself would loop",
                 "2027-12-31")
        self.state_bucket = SecureBucket(self, "state", BucketOptions(
            name=state_name, kms_key_arn=self.key.arn, lifecycle=config.data.lifecycle, log_bucket=logs_name,
            prevent_destroy=config.tier == "prod"))
        TerraformOutput(self, "state-bucket", value=state_name)
        TerraformOutput(self, "state-kms-key-arn", value=self.key.arn)
