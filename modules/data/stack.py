"""`<env>-data`: the Secure Data Handling pillar."""
from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.data.bucket_policy import access_log_delivery, audit_log_delivery, cloudtrail_digest_prefix
from modules.data.data_key import DataKey
from modules.data.key_users import EBS_KEY_CLASS, key_users
from modules.data.model_registry import ModelRegistry, ModelRegistryProps
from modules.data.model_repository import ModelRepository
from modules.data.replication import BucketReplication, ReplicationPair
from modules.data.secure_bucket import BucketOptions, ObjectLock, SecureBucket
from modules.data.service_linked_roles import ServiceLinkedRoles
from modules.data.write_once import write_once_statements
from modules.naming import BUCKETS, KEY_CLASSES
from modules.pillar_stack import PillarStack
from modules.serving import KINDS
from modules.suppress import suppress

LOCKED_BUCKETS = ("model-artifacts", "audit")  # integrity of what was deployed and of the audit trail
REPLICATED_BUCKETS = ("datasets", "model-artifacts", "code", "inference", "audit")
LOG_BUCKET = "access-logs"
# Versioned data buckets prod backs up with AWS Backup (modules/governance/backup.py); code packages are rebuilt
# from the repository, logs and the audit trail are locked and replicated.
BACKED_UP_BUCKETS = ("datasets", "model-artifacts", "inference")
IMAGE_KEY_CLASS = "model"  # container images carry model code (and often weights)


class DataStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "data")
        settings = config.data
        self.service_linked_roles = ServiceLinkedRoles(self, "service-linked-roles",
                                                       settings=settings.service_linked_roles)
        self.keys = {cls: self._key(cls) for cls in KEY_CLASSES}
        self.buckets = {purpose: self._bucket(purpose) for purpose in BUCKETS}
        self.replicas: dict[str, SecureBucket] = {}
        if settings.replication.enabled:
            self._replicate()
        # Images are published between this stack and <env>-platform, which pulls them by digest.
        self.repositories = {
            model.name: ModelRepository(
                self, f"image-{model.name}", name=self.naming.model_repository(model.name), model_name=model.name,
                kms_key_arn=self.keys[IMAGE_KEY_CLASS].arn, prevent_destroy=config.tier == "prod")
            for model in config.platform.models if KINDS[model.serving].image}
        # Model registries: versions are registered between this stack and <env>-platform (model publish).
        training = config.platform.training
        self.registries = {
            model.name: ModelRegistry(self, f"registry-{model.name}", ModelRegistryProps(
                naming=self.naming, model_name=model.name, deployer_role_arn=config.deployer_role_arn,
                promotion_source_account_id=training.registry.promotion_source_account_id))
            for model in config.platform.models if training.enabled}

        aws.s3_account_public_access_block.S3AccountPublicAccessBlock(
            self, "account-public-access-block", account_id=config.account_id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
        aws.ebs_encryption_by_default.EbsEncryptionByDefault(self, "ebs-encryption-by-default", enabled=True)
        aws.ebs_default_kms_key.EbsDefaultKmsKey(self, "ebs-default-key", key_arn=self.keys[EBS_KEY_CLASS].arn)
        self._outputs()

    def _key(self, key_class: str, dr: bool = False) -> DataKey:
        return DataKey(
            self, f"kms-{key_class}" + ("-dr" if dr else ""), naming=self.naming, key_class=key_class,
            key_admin_arn=self.config.deployer_role_arn,
            deletion_window_days=self.config.data.kms_deletion_window_days,
            region=self.config.dr_region if dr else None, provider=self.dr_provider if dr else None,
            prevent_destroy=self.config.tier == "prod", users=key_users(self.config, key_class),
            depends_on=self.service_linked_roles.needed_by(key_class))

    def _bucket(self, purpose: str, dr: bool = False) -> SecureBucket:
        naming, settings = self.naming, self.config.data
        region = self.config.dr_region if dr else self.config.region
        key_class = BUCKETS[purpose]
        keys = self.dr_keys if dr else self.keys
        name = naming.bucket(purpose, region)
        log_bucket_name = naming.bucket(LOG_BUCKET, region)
        extra: list = []
        sse_s3_prefixes: tuple[str, ...] = ()
        if purpose == LOG_BUCKET:
            sources = [naming.bucket_arn(p, region) for p in BUCKETS if p != LOG_BUCKET]
            extra = access_log_delivery(f"arn:aws:s3:::{name}", naming.account_id, sources)
        elif purpose == "audit" and not dr:
            extra = audit_log_delivery(f"arn:aws:s3:::{name}", naming.account_id, naming.trail_arn(),
                                       naming.macie_results_source_arns())
            sse_s3_prefixes = (cloudtrail_digest_prefix(naming.account_id),)
        elif purpose == "model-artifacts":  # published versions (replicas arrive by s3:ReplicateObject)
            extra = write_once_statements(naming, f"arn:aws:s3:::{name}")
        lock = settings.object_lock
        bucket = SecureBucket(
            self, f"bucket-{purpose}" + ("-dr" if dr else ""),
            BucketOptions(
                name=name,
                kms_key_arn=keys[key_class].arn if key_class else None,
                lifecycle=settings.lifecycle,
                log_bucket=None if purpose == LOG_BUCKET else log_bucket_name,
                object_lock=ObjectLock(lock.mode, lock.retention_days) if purpose in LOCKED_BUCKETS else None,
                tiering=purpose == "datasets",
                prevent_destroy=self.config.tier == "prod",
                replicated=settings.replication.enabled and not dr and purpose in REPLICATED_BUCKETS,
                event_notifications=not (purpose == "inference" and not dr
                                         and self.config.platform.owns_inference_notifications),
                extra_statements=extra,
                sse_s3_prefixes=sse_s3_prefixes,
                backup_tag=naming.backup_tag() if self.config.tier == "prod" and not dr
                and purpose in BACKED_UP_BUCKETS else {},
            ),
            provider=self.dr_provider if dr else None)
        if purpose == "inference" and not dr and self.config.platform.owns_inference_notifications:
            suppress(bucket.bucket, "CKV2_AWS_62",
                     "The platform stack owns this bucket's single notification configuration: it triggers "
                     "the Lambda inference functions and sends every object event to EventBridge",
                     "2027-11-30")
        if purpose == LOG_BUCKET:
            self._log_target_suppressions(bucket)
        return bucket

    def _log_target_suppressions(self, bucket: SecureBucket) -> None:
        """What the access-log target relaxes, each only while the fact its reason states holds."""
        options = bucket.options
        if options.kms_key_arn is None:  # SSE-S3, the only encryption log delivery accepts
            suppress(bucket.bucket, "CKV_AWS_145",
                     "S3 server access logs and ALB access logs can only be delivered to SSE-S3 (AES256) "
                     "buckets; the bucket denies non-TLS and non-AES256 puts and blocks all public access",
                     "2027-11-30")
        if options.log_bucket is None:  # it is the log target itself
            suppress(bucket.bucket, "CKV_AWS_18",
                     "This is the access-log target itself; logging it into itself would loop. Only the S3 "
                     "and ELB log delivery services may write to it (bucket policy) and CloudTrail records "
                     "every change to its configuration", "2027-11-30")
        if (self.config.data.replication.enabled and LOG_BUCKET not in REPLICATED_BUCKETS
                and "audit" in REPLICATED_BUCKETS):
            # Each region keeps its own log bucket (the DR one is built beside the replicas).
            suppress(bucket.bucket, "CKV_AWS_144",
                     "Access logs are per-region delivery telemetry: each region (primary and DR) has its "
                     "own log bucket, and the audit trail of record (CloudTrail, audit bucket) is "
                     "replicated to the DR region", "2027-11-30")

    def _replicate(self) -> None:
        self.dr_keys = {cls: self._key(cls, dr=True) for cls in KEY_CLASSES}
        pairs = []
        self.replicas[LOG_BUCKET] = self._bucket(LOG_BUCKET, dr=True)
        for purpose in REPLICATED_BUCKETS:
            self.replicas[purpose] = self._bucket(purpose, dr=True)
            key_class = BUCKETS[purpose]
            assert key_class is not None, f"replicated bucket {purpose} has no KMS key class"
            pairs.append(ReplicationPair(self.buckets[purpose], self.replicas[purpose],
                                         self.keys[key_class].arn, self.dr_keys[key_class].arn))
        BucketReplication(self, "replication", naming=self.naming, pairs=pairs)

    def _outputs(self) -> None:
        for key_class, key in self.keys.items():
            TerraformOutput(self, f"kms-{key_class}-arn", value=key.arn,
                            description=f"ARN of the {key_class} data key ({key.alias.name})")
        for purpose, bucket in self.buckets.items():
            TerraformOutput(self, f"bucket-{purpose}-name", value=bucket.name)
            TerraformOutput(self, f"bucket-{purpose}-arn", value=bucket.arn)
        for model_name, repository in self.repositories.items():
            TerraformOutput(self, f"repository-{model_name}-url", value=repository.repository.repository_url,
                            description=f"Where to push the images of model {model_name} (README: Publishing a model)")
        for model_name, registry in self.registries.items():
            TerraformOutput(self, f"registry-{model_name}-arn", value=registry.group.arn,
                            description=f"Model package group of model {model_name} (model publish --register)")
