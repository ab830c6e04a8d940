"""Names, tags and ARN patterns shared by every pillar.

Later stacks build names and ARNs of earlier stacks' resources from this convention instead of
cross-stack references, which keeps the stack graph a simple DAG with no remote-state reads.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from modules.config import EnvConfig

PILLARS = ("data", "platform", "access", "governance")
BOOTSTRAP = "bootstrap"
# Apply order: each stack may use names from the ones before it, never after.
STACK_ORDER = (BOOTSTRAP, *PILLARS)

# The published alias of every model's Lambda function (invoke and alarm on `<function>:live`).
LAMBDA_ALIAS = "live"

# Data classes: each has its own customer-managed KMS key.
KEY_CLASSES = ("training", "model", "inference", "audit")

# Bucket purpose → the key class that encrypts it (None: SSE-S3, see modules/data/secure_bucket.py).
BUCKETS = {
    "datasets": "training",
    "model-artifacts": "model",
    # Function code packages and their Signer output: replaced on every code change, so never in an
    # object-locked bucket (a locked version cannot be deleted when Terraform replaces the object).
    "code": "model",
    "inference": "inference",
    "access-logs": None,
    "audit": "audit",
}

# Buckets whose S3 data events (object reads and writes) the environment's CloudTrail trail records.
TRAIL_DATA_EVENT_BUCKETS = ("datasets", "model-artifacts")
# The trail's key prefix in the audit bucket (its bucket policy admits CloudTrail only below it).
TRAIL_PREFIX = "cloudtrail"

# Tags that AWS Config rules are scoped by (conformance rule lists): a bucket's default encryption
# (`aws:kms` or `AES256`) and whether a SageMaker model runs in a VPC with network isolation (`vpc`)
# or cannot (`none`: serverless inference supports neither).
ENCRYPTION_TAG_KEY = "DefaultEncryption"
# Whether a bucket writes server access logs (`enabled`) or is itself where they land (`log-target`:
# logging a log bucket would log its own log deliveries without end).
ACCESS_LOGGING_TAG_KEY = "AccessLogging"
# Whether a bucket has object lock with a default retention (`enabled`) or not (`none`).
OBJECT_LOCK_TAG_KEY = "ObjectLock"
# Whether a bucket replicates to the DR region (`enabled`) or not (`none`: log buckets, replicas, no DR).
REPLICATION_TAG_KEY = "Replication"
NETWORK_ISOLATION_TAG_KEY = "NetworkIsolation"

# Tag that opts a DynamoDB table or EFS file system into the environment's AWS Backup plan
# (`<env>-governance` selects by it): value `Naming.backup_tag_value` (the environment prefix).
BACKUP_TAG_KEY = "Backup"

# WAF IP sets of addresses to block, one per web ACL and IP version (modules/platform/waf.py), which the
# platform-admin persona edits in an incident: its grant names them by this suffix.
BLOCKED_IP_SET_SUFFIX = "-blocked"


def blocked_ip_set_name(web_acl_name: str, ip_address_version: str) -> str:
    """`<web ACL name>-ipv4-blocked` / `-ipv6-blocked`."""
    return f"{web_acl_name}-{ip_address_version.lower()}{BLOCKED_IP_SET_SUFFIX}"


@dataclass(frozen=True)
class Naming:
    project: str
    env: str
    account_id: str
    region: str
    dr_region: str

    @classmethod
    def of(cls, config: EnvConfig) -> "Naming":
        return cls(config.project, config.name, config.account_id, config.region, config.dr_region)

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.env}"

    def stack(self, pillar: str) -> str:
        return f"{self.env}-{pillar}"

    def resource(self, *parts: str) -> str:
        """A regional resource name: `<project>-<env>-<parts…>`."""
        return "-".join((self.prefix, *parts))

    # S3 bucket names are global: account and region make them unique.
    def bucket(self, purpose: str, region: str | None = None) -> str:
        return f"{self.prefix}-{purpose}-{self.account_id}-{region or self.region}"

    def bucket_arn(self, purpose: str, region: str | None = None) -> str:
        return f"arn:aws:s3:::{self.bucket(purpose, region)}"

    def state_bucket(self) -> str:
        return self.bucket("tfstate")

    def kms_alias(self, key_class: str, region: str | None = None) -> str:
        suffix = "" if region in (None, self.region) else "-dr"
        return f"alias/{self.prefix}-{key_class}{suffix}"

    def kms_alias_arn(self, key_class: str, region: str | None = None) -> str:
        region = region or self.region
        return f"arn:aws:kms:{region}:{self.account_id}:{self.kms_alias(key_class, region)}"

    def role(self, purpose: str) -> str:
        return self.resource(purpose)

    def role_arn(self, purpose: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.role(purpose)}"

    @property
    def role_arn_pattern(self) -> str:
        """Every IAM role this environment creates (for key policies and PassRole scoping)."""
        return f"arn:aws:iam::{self.account_id}:role/{self.prefix}-*"

    @property
    def account_root(self) -> str:
        return f"arn:aws:iam::{self.account_id}:root"

    def trail_arn(self) -> str:
        return f"arn:aws:cloudtrail:{self.region}:{self.account_id}:trail/{self.resource('trail')}"

    # Per-model resources (endpoint, function, fleet, alarms) share one name: `<project>-<env>-<model>`.
    def model_resource(self, model: str) -> str:
        return self.resource(model)

    def endpoint_arn(self, model: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{self.model_resource(model)}"

    def function_arn(self, model: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.model_resource(model)}"

    # A container model's image repository: created by `<env>-data`, pulled from by `<env>-platform`.
    def model_repository(self, model: str) -> str:
        return self.model_resource(model)

    def model_repository_arn(self, model: str) -> str:
        return f"arn:aws:ecr:{self.region}:{self.account_id}:repository/{self.model_repository(model)}"

    @property
    def registry(self) -> str:
        """The account's private ECR registry host in the environment's region."""
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com"

    # ALB and target-group names have at most 32 characters: `model_resource` when it fits, else
    # shortened with a stable hash suffix (see `shortened`). Look ALBs up by these names.

    def live_alias_arn(self, model: str) -> str:
        """The alias every model function is published and invoked under."""
        return f"{self.function_arn(model)}:{LAMBDA_ALIAS}"
    def load_balancer(self, model: str) -> str:
        return self.shortened(self.model_resource(model), 32)

    def target_group(self, model: str) -> str:
        return self.shortened(self.model_resource(model) + "-tg", 32)

    @staticmethod
    def shortened(name: str, limit: int) -> str:
        """`name` if it fits in `limit` characters, else a prefix of it plus a 6-hex-digit hash."""
        if len(name) <= limit:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[:6]
        return f"{name[:limit - 7].rstrip('-')}-{digest}"

    def alert_topic(self) -> str:
        return self.resource("alerts")

    def alert_topic_arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{self.alert_topic()}"

    def alert_archive(self) -> str:
        """The SQS queue that keeps every alert of the topic (modules/access/alert_archive.py)."""
        return self.resource("alert-archive")

    def alert_archive_arn(self) -> str:
        return self.queue_arn(self.alert_archive())

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"

    def alert_delivery_log_groups(self) -> tuple[str, str]:
        """The log groups SNS writes the alert topic's delivery status to: successes, then failures
        (SNS's own naming, `sns/<region>/<account>/<topic>[/Failure]`)."""
        base = f"sns/{self.region}/{self.account_id}/{self.alert_topic()}"
        return base, f"{base}/Failure"

    @property
    def backup_tag_value(self) -> str:
        return self.prefix

    def backup_tag(self) -> dict[str, str]:
        """Put this tag on a DynamoDB table or EFS file system to have AWS Backup protect it."""
        return {BACKUP_TAG_KEY: self.backup_tag_value}

    def log_group(self, purpose: str) -> str:
        """A log group the project creates itself: `/<project>/<env>/<purpose>`."""
        return f"/{self.project}/{self.env}/{purpose}"

    def alarm(self, *parts: str) -> str:
        return self.resource(*parts)

    def alarm_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"

    def macie_results_source_arns(self) -> list[str]:
        """What Macie names in aws:SourceArn when it stores discovery results: its results-repository
        (export) configuration, and the classification job that produced them (Macie User Guide,
        "Storing and retaining sensitive data discovery results")."""
        base = f"arn:aws:macie2:{self.region}:{self.account_id}"
        return [f"{base}:export-configuration:*", f"{base}:classification-job/*"]


def default_tags(config: EnvConfig) -> dict[str, str]:
    """Tags the provider puts on every taggable resource."""
    return {
        "Environment": config.name,
        "Project": config.project,
        "OwnerTeam": config.tags.owner_team,
        "CostCenter": config.tags.cost_center,
        "DataClassification": config.tags.data_classification,
        "ManagedBy": "aegis",
    }
