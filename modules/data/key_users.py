"""Who may use each data key, by name. The key policy denies everyone else in the account.

The account-root statement of a key policy delegates to IAM, so without a deny in the key policy
any principal whose IAM policy allows `kms:*` (an account administrator, a permission set with
AdministratorAccess) could decrypt datasets and audit logs. Each class's key therefore names:

- the roles of this environment that use it, only through the AWS services of the class
  (`kms:ViaService`): personas, model execution roles, the replication and backup roles;
- the provisioners: the deployer role Terraform runs as creates encrypted resources (endpoint
  configs, tables, repositories, vaults) through the class's provisioning services, never the
  services that hold the data itself (S3 objects, queue and topic messages);
- the AWS service-linked roles that AWS requires as key principals (Auto Scaling for EBS volumes,
  Macie for its classification job); other service-linked roles (GuardDuty malware scans,
  Inspector) keep working through their AWS-managed policies: only their service can assume them
  and nobody in the account can change what they do;
- for the EBS key, `aws:ec2-infrastructure`, the session EC2 uses to decrypt an attached volume.

Service principals (CloudTrail, CloudWatch Logs) belong to no account: the key policy names them in
statements of their own (modules/data/key_policy.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from modules.boundary import DEPLOYER_PERSONA, hand_deploys
from modules.config import EnvConfig
from modules.monitoring import MONITOR_ROLE, baseline_prefix, monitored_models
from modules.naming import Naming
from modules.serving import EXECUTION_ROLE_SUFFIX, KINDS
from modules.training import PIPELINE_JOBS_ROLE, PIPELINE_ROLE, TRAINING_ROLE, studio_role, training_roles

# AWS services through which the environment's roles may use each class of key.
VIA_SERVICES: dict[str, tuple[str, ...]] = {
    # elasticfilesystem and ec2: the Studio domain's home file system and app volumes (modules/platform/studio.py);
    # rds and secretsmanager: the training data store and its master secret (modules/platform/data_store.py).
    "training": ("s3", "sagemaker", "elasticfilesystem", "ec2", "rds", "secretsmanager", "backup"),
    "model": ("s3", "sagemaker", "ecr", "ec2", "lambda"),
    "inference": ("s3", "sagemaker", "lambda", "dynamodb", "elasticfilesystem", "sqs", "sns", "backup"),
    # sqs: the alert archive queue (modules/access/alert_archive.py), which the security auditor reads.
    "audit": ("s3", "logs", "sns", "sqs", "cloudtrail", "backup"),
    "state": ("s3",),
}
# Services whose API returns the data a key protects: provisioning never goes through them.
DATA_SERVICES = ("s3", "sqs", "sns")

# Personas and the key classes their policies use (modules/access/persona_policies.py).
PERSONA_KEYS: dict[str, tuple[str, ...]] = {
    "ml-engineer": ("training", "model", "inference"),  # inference: the endpoint configs it deploys (dev)
    "data-scientist": ("training", "model"),  # model: reads what training wrote under models/
    "security-auditor": ("audit",),
}
# Personas that use a key class only through fewer services than the class's (VIA_SERVICES):
# platform-admin publishes its incident announcement to the alerts topic, which the audit key
# encrypts, so SNS uses the key on its behalf; it reads no audit data with it.
PERSONA_KEYS_THROUGH: dict[str, dict[str, tuple[str, ...]]] = {
    "platform-admin": {"audit": ("sns",)},
}
# Role purposes (`<prefix>-<purpose>`) of the other workload roles that use keys.
REPLICATION_ROLE = "s3-replication"  # modules/data/replication.py
STATE_REPLICATION_ROLE = "tfstate-replication"  # modules/bootstrap/stack.py
BACKUP_ROLE = "backup"  # modules/governance/backup.py: vault (audit key), restores of tables and file systems
WORKLOAD_KEYS: dict[str, tuple[str, ...]] = {
    # training: the data store's snapshots and the datasets bucket; model: the model-artifacts bucket (prod backs
    # up its data buckets, reading them through S3).
    BACKUP_ROLE: ("inference", "audit", "training", "model"),
}
# Workload roles that use a class's key through services beyond the class's own. AWS Backup re-encrypts
# each copy in the DR region with the DR vault's key (the audit key), through the service that owns the
# recovery point there: RDS for the data store's cluster snapshots (DynamoDB, EFS and S3 recovery points
# go through AWS Backup itself; the fleets' AMIs are not copied: modules/governance/backup.py). A class has
# the same users in both regions, so the home-region audit key admits the role through RDS too.
WORKLOAD_KEYS_ALSO_THROUGH: dict[str, dict[str, tuple[str, ...]]] = {
    BACKUP_ROLE: {"audit": ("rds",)},
}
# The training lane's roles (modules/training.py), when the environment has one: the training role
# reads datasets and writes under models/ of the model-artifacts bucket (whose key is the model key);
# the Studio roles work with datasets, and the ml-engineer's also reads model artifacts.
TRAINING_WORKLOAD_KEYS: dict[str, tuple[str, ...]] = {
    TRAINING_ROLE: ("training", "model"),
    studio_role("data-scientist"): ("training",),
    studio_role("ml-engineer"): ("training", "model"),
    PIPELINE_ROLE: ("model",),  # reads the evaluation reports its pipelines' jobs wrote under models/
    PIPELINE_JOBS_ROLE: ("training", "model"),  # the pipelines' jobs: datasets and job volumes in, models/ out
}


@dataclass(frozen=True)
class ServiceLinkedRole:
    service: str  # aws_iam_service_linked_role.aws_service_name
    name: str

    def arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/aws-service-role/{self.service}/{self.name}"


AUTOSCALING = ServiceLinkedRole("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling")
MACIE = ServiceLinkedRole("macie.amazonaws.com", "AWSServiceRoleForAmazonMacie")
# Key classes whose keys a service-linked role uses: the EBS key (the GPU fleet's launch template and
# the account's default EBS key) and the keys of the buckets Macie classifies (datasets, inference).
EBS_KEY_CLASS = "model"  # GPU instance volumes hold model weights
SERVICE_LINKED_KEYS: dict[ServiceLinkedRole, tuple[str, ...]] = {
    AUTOSCALING: (EBS_KEY_CLASS,),
    MACIE: ("training", "inference"),
}


def service_linked_roles_of(key_class: str) -> tuple[ServiceLinkedRole, ...]:
    return tuple(role for role, classes in SERVICE_LINKED_KEYS.items() if key_class in classes)


@dataclass(frozen=True)
class KeyUsers:
    """The principals a key policy lets use the key; everyone else in the account is denied."""

    account_id: str
    roles: tuple[str, ...]  # role ARNs, through `services` only
    services: tuple[str, ...]  # service prefixes of kms:ViaService
    provisioners: tuple[str, ...] = ()  # through `provisioning` only
    provisioning: tuple[str, ...] = ()
    service_linked: tuple[ServiceLinkedRole, ...] = ()
    ebs: bool = False
    # (role ARN, the only services it uses the key through) where they are not the class's: PERSONA_KEYS_THROUGH
    # (fewer), WORKLOAD_KEYS_ALSO_THROUGH (more)
    own_services: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def service_linked_path(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/aws-service-role/*"

    @property
    def ec2_infrastructure(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/aws:ec2-infrastructure"

    def exempt(self) -> list[str]:
        """aws:PrincipalArn values the key policy's deny of other principals leaves out."""
        out = [*self.roles, *self.provisioners, *(role for role, _ in self.own_services), self.service_linked_path]
        return sorted(set(out + ([self.ec2_infrastructure] if self.ebs else [])))


# What a plan itself reads through a data service: the platform plan verifies each published model
# artifact's SHA-256 (modules/platform/published.py), which S3 returns for an SSE-KMS object only to a
# caller that may decrypt it.
PLAN_TIME_READS: dict[str, tuple[str, ...]] = {"model": ("s3",)}


def monitor_keys(config: EnvConfig) -> tuple[str, ...]:
    """Key classes the Model Monitor role uses (modules/monitoring.py): the inference key for the capture,
    the job volumes and the results, the model key when a baseline is read from the model-artifacts bucket."""
    models = monitored_models(config)
    if not models:
        return ()
    return ("inference", "model") if any(baseline_prefix(m) is not None for m in models) else ("inference",)


def persona_key_classes(persona: str, tier: str) -> tuple[str, ...]:
    """The key classes a persona's policy uses: the ml-engineer needs the inference key only where it
    deploys endpoints by hand (dev); elsewhere the key policy does not name it."""
    classes = PERSONA_KEYS.get(persona, ())
    if persona == DEPLOYER_PERSONA and not hand_deploys(tier):
        return tuple(c for c in classes if c != "inference")
    return classes


def provisioning_services(key_class: str) -> tuple[str, ...]:
    own = tuple(s for s in VIA_SERVICES[key_class] if s not in DATA_SERVICES)
    return own + tuple(s for s in PLAN_TIME_READS.get(key_class, ()) if s not in own)


def key_users(config: EnvConfig, key_class: str) -> KeyUsers:
    """Users of one data class's key (the same in the primary and the DR region)."""
    naming = Naming.of(config)
    personas = [p for p in config.access.enabled_personas() if key_class in persona_key_classes(p, config.tier)]
    roles = [naming.role_arn(p) for p in personas]
    roles += [naming.role_arn(f"{m.name}{EXECUTION_ROLE_SUFFIX}") for m in config.platform.models
              if key_class in KINDS[m.serving].execution_keys]
    roles += [naming.role_arn(purpose) for purpose, classes in WORKLOAD_KEYS.items()
              if key_class in classes and key_class not in WORKLOAD_KEYS_ALSO_THROUGH.get(purpose, {})]
    roles += [naming.role_arn(purpose) for purpose in training_roles(config)
              if key_class in TRAINING_WORKLOAD_KEYS.get(purpose, ())]
    if key_class in monitor_keys(config):
        roles.append(naming.role_arn(MONITOR_ROLE))
    if config.data.replication.enabled:
        roles.append(naming.role_arn(REPLICATION_ROLE))
    own_services = tuple((naming.role_arn(p), PERSONA_KEYS_THROUGH[p][key_class])
                         for p in sorted(PERSONA_KEYS_THROUGH) if p in config.access.enabled_personas()
                         and key_class in PERSONA_KEYS_THROUGH[p])
    own_services += tuple((naming.role_arn(purpose), VIA_SERVICES[key_class] + extra[key_class])
                          for purpose, extra in sorted(WORKLOAD_KEYS_ALSO_THROUGH.items())
                          if key_class in extra and key_class in WORKLOAD_KEYS.get(purpose, ()))
    return KeyUsers(
        account_id=naming.account_id, roles=tuple(sorted(set(roles))), services=VIA_SERVICES[key_class],
        provisioners=(config.deployer_role_arn,), provisioning=provisioning_services(key_class),
        service_linked=service_linked_roles_of(key_class), ebs=key_class == EBS_KEY_CLASS,
        own_services=own_services)


def state_key_users(naming: Naming, deployer_arn: str) -> KeyUsers:
    """The state key: Terraform's S3 backend runs as the deployer; the state replication role copies it."""
    return KeyUsers(account_id=naming.account_id,
                    roles=tuple(sorted({deployer_arn, naming.role_arn(STATE_REPLICATION_ROLE)})),
                    services=VIA_SERVICES["state"])


def edge_key_users(naming: Naming) -> KeyUsers:
    """The us-east-1 audit key of the edge log groups: only CloudWatch Logs (a service principal) uses it."""
    return KeyUsers(account_id=naming.account_id, roles=(), services=())
