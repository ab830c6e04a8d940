"""`<env>-bootstrap`: what every other stack needs before it can be planned.

- the remote-state bucket (KMS, versioning, TLS-only, access logs; replicated to the DR region
  when the environment replicates its data), and
- the permission boundary that every role of the environment carries.

It keeps local state itself (it creates the bucket the other stacks' S3 backend needs); apply it
first, once per environment.
"""
from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules import aws
from modules.boundary import boundary_document, boundary_name, hand_deploys
from modules.config import STATE_KEY_OUTPUT, EnvConfig
from modules.data.bucket_policy import access_log_delivery
from modules.data.data_key import DataKey
from modules.data.replication import BucketReplication, ReplicationPair
from modules.data.secure_bucket import BucketOptions, SecureBucket
from modules.edge import managed_outside
from modules.naming import BOOTSTRAP
from modules.pillar_stack import PillarStack
from modules.suppress import suppress

STATE_KEY_CLASS = "state"


class BootstrapStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, BOOTSTRAP, local_backend=True)
        self.boundary = aws.iam_policy.IamPolicy(
            self, "permission-boundary", name=boundary_name(self.naming),
            policy=boundary_document(self.naming, managed_outside(config, sorted({config.region, config.dr_region})),
                                     by_hand=hand_deploys(config.tier)),
            description=f"Permission boundary of every role in {config.name}")
        self.key, self.state_bucket = self._state(dr=False)
        if config.data.replication.enabled:
            dr_key, dr_bucket = self._state(dr=True)
            # The boundary is created here too: a reference orders the role after it.
            BucketReplication(self, "state-replication", naming=self.naming, role_purpose="tfstate-replication",
                              pairs=[ReplicationPair(self.state_bucket, dr_bucket, self.key.arn, dr_key.arn)],
                              permissions_boundary=self.boundary.arn)
        TerraformOutput(self, "state-bucket", value=self.state_bucket.name)
        TerraformOutput(self, STATE_KEY_OUTPUT, value=self.key.arn)

    def _state(self, dr: bool) -> tuple[DataKey, SecureBucket]:
        config, naming = self.config, self.naming
        region = config.dr_region if dr else config.region
        provider = self.dr_provider if dr else None
        suffix = "-dr" if dr else ""
        prod = config.tier == "prod"
        key = DataKey(self, f"kms-state{suffix}", naming=naming, key_class=STATE_KEY_CLASS,
                      key_admin_arn=config.deployer_role_arn, region=region if dr else None, provider=provider,
                      deletion_window_days=config.data.kms_deletion_window_days, prevent_destroy=prod)
        state_name = naming.bucket("tfstate", region)
        logs_name = naming.bucket("tfstate-logs", region)
        logs = SecureBucket(self, f"state-access-logs{suffix}", BucketOptions(
            name=logs_name, kms_key_arn=None, lifecycle=config.data.lifecycle, prevent_destroy=prod,
            extra_statements=access_log_delivery(f"arn:aws:s3:::{logs_name}", naming.account_id,
                                                 [f"arn:aws:s3:::{state_name}"])), provider=provider)
        # Each relaxation only while the fact its reason states holds.
        if logs.options.kms_key_arn is None:
            suppress(logs.bucket, "CKV_AWS_145",
                     "S3 server access logs can only be delivered to SSE-S3 (AES256) buckets; the bucket "
                     "denies non-TLS and non-AES256 puts and blocks all public access", "2027-11-30")
        if logs.options.log_bucket is None:
            suppress(logs.bucket, "CKV_AWS_18",
                     "This is the access-log target of the state bucket; logging it into itself would loop. Only "
                     "the S3 log delivery service may write to it (bucket policy)", "2027-11-30")
        if config.data.replication.enabled:  # __init__ replicates the state bucket exactly then
            suppress(logs.bucket, "CKV_AWS_144",
                     "Access logs are per-region delivery telemetry: each region keeps its own log bucket, "
                     "while the state they describe is replicated to the DR region", "2027-11-30")
        state = SecureBucket(self, f"state{suffix}", BucketOptions(
            name=state_name, kms_key_arn=key.arn, lifecycle=config.data.lifecycle, log_bucket=logs_name,
            prevent_destroy=prod, replicated=config.data.replication.enabled and not dr), provider=provider)
        return key, state
