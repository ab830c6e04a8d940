"""A bucket with every control the data pillar requires, secure by default.

SSE (KMS with bucket keys, or SSE-S3 where AWS allows nothing else), versioning, all four public
access block settings, BucketOwnerEnforced, a TLS-only / right-key-only bucket policy, server access
logging, lifecycle rules and, when asked, object lock with default retention.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.data.bucket_policy import transport_and_encryption_denies
from modules.data.settings import LifecycleSettings
from modules.iam_doc import Statement, document
from modules.naming import ACCESS_LOGGING_TAG_KEY, ENCRYPTION_TAG_KEY, OBJECT_LOCK_TAG_KEY, REPLICATION_TAG_KEY


@dataclass(frozen=True)
class ObjectLock:
    mode: str
    retention_days: int


@dataclass(frozen=True)
class BucketOptions:
    name: str
    kms_key_arn: str | None  # None: SSE-S3 (only for log targets that cannot use KMS)
    lifecycle: LifecycleSettings
    log_bucket: str | None = None  # None: this bucket is itself a log target
    object_lock: ObjectLock | None = None
    tiering: bool = False  # datasets move to cheaper storage classes as they age
    prevent_destroy: bool = False  # prod: Terraform refuses any plan that deletes or replaces the bucket
    replicated: bool = False  # the owning stack replicates it to the DR region (tag only: it owns the rule)
    backup_tag: dict[str, str] = field(default_factory=dict)  # the environment's Backup tag: AWS Backup selects it
    # Object events to EventBridge (monitoring rules can react to deletes or unexpected writes).
    # False only where another stack owns the bucket's single notification configuration.
    event_notifications: bool = True
    extra_statements: list[Statement] = field(default_factory=list)
    # Key prefixes where an AWS service writes with SSE-S3 despite the KMS default (CloudTrail digests).
    sse_s3_prefixes: tuple[str, ...] = ()


class SecureBucket(Construct):
    def __init__(self, scope: Construct, construct_id: str, options: BucketOptions, provider=None):
        super().__init__(scope, construct_id)
        self.options = options
        default = ({"sse_algorithm": "aws:kms", "kms_master_key_id": options.kms_key_arn}
                   if options.kms_key_arn else {"sse_algorithm": "AES256"})
        self.bucket = aws.s3_bucket.S3Bucket(
            self, "bucket", bucket=options.name, object_lock_enabled=options.object_lock is not None,
            force_destroy=False, provider=provider,
            # AWS Config's S3 KMS-encryption, logging, object-lock and replication rules are scoped by these tags (conformance rule lists).
            tags={ENCRYPTION_TAG_KEY: default["sse_algorithm"],
                  ACCESS_LOGGING_TAG_KEY: "enabled" if options.log_bucket else "log-target",
                  OBJECT_LOCK_TAG_KEY: "enabled" if options.object_lock else "none",
                  REPLICATION_TAG_KEY: "enabled" if options.replicated else "none", **options.backup_tag},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if options.prevent_destroy else None)
        bucket_id = self.bucket.id
        self.arn = self.bucket.arn
        self.name = options.name

        sse = aws.s3_bucket_server_side_encryption_configuration
        self.encryption = sse.S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket_id, provider=provider,
            rule=[sse.S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=sse.S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(**default),
                bucket_key_enabled=bool(options.kms_key_arn))])
        self.versioning = aws.s3_bucket_versioning.S3BucketVersioningA(
            self, "versioning", bucket=bucket_id, provider=provider,
            versioning_configuration={"status": "Enabled"})
        self.public_access_block = aws.s3_bucket_public_access_block.S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket_id, provider=provider,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True)
        self.ownership = aws.s3_bucket_ownership_controls.S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id, provider=provider,
            rule={"object_ownership": "BucketOwnerEnforced"})
        arn = f"arn:aws:s3:::{options.name}"
        self.policy = aws.s3_bucket_policy.S3BucketPolicy(
            self, "policy", bucket=bucket_id, provider=provider,
            policy=document(*transport_and_encryption_denies(arn, options.kms_key_arn, options.sse_s3_prefixes),
                            *options.extra_statements),
            depends_on=[self.public_access_block])
        if options.log_bucket:
            self.logging = aws.s3_bucket_logging.S3BucketLoggingA(
                self, "access-logging", bucket=bucket_id, provider=provider,
                target_bucket=options.log_bucket, target_prefix=f"s3/{options.name}/")
        self.lifecycle = aws.s3_bucket_lifecycle_configuration.S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id, provider=provider, rule=self._lifecycle_rules(),
            depends_on=[self.versioning])
        if options.event_notifications:
            self.notifications = aws.s3_bucket_notification.S3BucketNotification(
                self, "notifications", bucket=bucket_id, eventbridge=True, provider=provider)
        if options.object_lock:
            lock = aws.s3_bucket_object_lock_configuration
            self.object_lock = lock.S3BucketObjectLockConfigurationA(
                self, "object-lock", bucket=bucket_id, provider=provider,
                object_lock_enabled="Enabled",
                rule=lock.S3BucketObjectLockConfigurationRuleA(
                    default_retention=lock.S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=options.object_lock.mode, days=options.object_lock.retention_days)),
                depends_on=[self.versioning])

    def _lifecycle_rules(self) -> list:
        lc = self.options.lifecycle
        m = aws.s3_bucket_lifecycle_configuration
        everything = [m.S3BucketLifecycleConfigurationRuleFilter()]
        rules = [
            m.S3BucketLifecycleConfigurationRule(
                id="abort-incomplete-uploads", status="Enabled", filter=everything,
                abort_incomplete_multipart_upload=[m.S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                    days_after_initiation=lc.abort_incomplete_upload_days)]),
            m.S3BucketLifecycleConfigurationRule(
                id="expire-noncurrent-versions", status="Enabled", filter=everything,
                noncurrent_version_expiration=[m.S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                    noncurrent_days=lc.noncurrent_version_expiry_days)]),
        ]
        if self.options.tiering:
            rules.append(m.S3BucketLifecycleConfigurationRule(
                id="tier-aging-datasets", status="Enabled", filter=everything,
                transition=[
                    m.S3BucketLifecycleConfigurationRuleTransition(
                        days=lc.datasets_infrequent_access_after_days, storage_class="STANDARD_IA"),
                    m.S3BucketLifecycleConfigurationRuleTransition(
                        days=lc.datasets_glacier_after_days, storage_class="GLACIER_IR"),
                ]))
        return rules
