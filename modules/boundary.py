"""The permission boundary every role of an environment carries.

It caps what any role can ever do, whatever policies are attached later: only the services the
architecture uses, only in the environment's regions, and no way to escape the boundary (no users,
no access keys, no roles without this boundary, no edits to the boundary itself, no edits to the
persona roles). It also holds the rules that must hold for every role, not just the personas:
only the ml-engineer persona deploys models, and only in dev (in staging and prod only the deployer
role, outside the boundary, does), SageMaker compute needs a VPC, and nobody inside the
boundary can switch off the audit trail or threat detection (the deployer role, outside it, can).

SageMaker Serverless Inference runs models without a VPC (AWS supports no VPC config there), so a
model may be created without one only under the serverless name convention
`<project>-<env>-serverless-*`, and an endpoint config may not put such a model on instances: a
real-time model without a VPC stays impossible. The rule names no model of the configuration, so
adding a model never changes the boundary (applied once, with the bootstrap stack).
It is created in the `<env>-bootstrap` stack, the first stack applied; the others refer to it by
its conventional ARN.

The region guard mirrors the region SCP (modules/access/scps.py): outside the environment's regions
only global services, and where the platform manages CloudFront's regional parts (us-east-1: WAF web
ACL, log groups and log delivery, the edge key; modules/edge.py) also exactly those services there,
so the personas can operate the edge. Putting the first model behind CloudFront therefore changes the
boundary: apply `<env>-bootstrap` again before `<env>-platform`.
"""
from __future__ import annotations

from typing import Mapping

from modules.access.settings import PERSONAS
from modules.iam_doc import Statement, document, statement
from modules.naming import Naming

# Services the project's roles may use at most (each role's own policy narrows this further).
ALLOWED_SERVICES = (
    "application-autoscaling", "autoscaling", "cloudwatch", "dynamodb", "ec2", "ecr", "elasticfilesystem",
    "elasticloadbalancing", "events", "kms", "lambda", "logs", "s3", "sagemaker", "sns", "sqs", "ssm",
    "ssmmessages", "ec2messages",  # SSM Agent on the GPU fleets (AmazonSSMManagedInstanceCore)
    "sts", "xray", "cloudtrail", "config", "guardduty", "securityhub", "inspector2", "macie2",
    "access-analyzer", "backup", "budgets", "ce", "wafv2", "cloudfront", "signer", "tag",
)
# Deploying models: in dev only the ml-engineer persona may (hand deploys, to try a model); in staging
# and prod nobody inside the boundary may, so the deployer role alone changes serving, through gated
# Terraform, and whoever publishes and registers a version cannot also put it in service.
DEPLOY_ACTIONS = (
    "lambda:CreateAlias", "lambda:PublishVersion", "lambda:UpdateAlias", "lambda:UpdateFunctionCode",
    "sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig", "sagemaker:CreateModel",
    "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities",
)
DEPLOYER_PERSONA = "ml-engineer"
HAND_DEPLOY_TIERS = ("dev",)
# SageMaker calls that start compute: denied without VPC config (sagemaker:VpcSubnets null).
VPC_REQUIRED_ACTIONS = (
    "sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
)
# Training-side jobs run only with this account's KMS keys for their volumes and outputs; the VPC rule
# above covers their network (VpcConfig needs subnets and security groups together, so requiring
# sagemaker:VpcSubnets requires both). Traffic encryption and network isolation are required by the
# policies of every role that may start such jobs (modules/training.py: JOB_GUARDS), to keep this
# managed policy under IAM's 6,144-character limit.
# Instance types with local NVMe storage, encrypted by the instance's hardware: SageMaker refuses a
# VolumeKmsKeyId on them (API reference, ResourceConfig.VolumeKmsKeyId), so the volume-key rule exempts
# jobs that run only on them. The `*d`/`*dn` families (m5d, c5d, r5d, m6id, p4d, g4dn, p3dn, m5dn …) and
# the GPU and Trainium families whose every size has instance store (EC2 "Instance store volumes").
LOCAL_STORAGE_INSTANCE_PATTERNS = (
    "ml.*d.*", "ml.*dn.*", "ml.g5.*", "ml.g6*", "ml.p4de.*", "ml.p5*", "ml.trn*",  # g6, g6e; p5, p5e, p5en; trn1, trn1n, trn2
)
# Approving a model version: only the model-approver persona, who neither trains, registers nor deploys.
APPROVER_PERSONA = "model-approver"
APPROVED = "Approved"  # sagemaker:ModelApprovalStatus value that makes a package deployable
# Models served by SageMaker Serverless Inference are named `<prefix>-serverless-<model>-…`.
SERVERLESS_MODEL_INFIX = "serverless"
# Switching off detection or evidence. Resource "*": these are denies, and several of the actions
# (guardduty:DeleteDetector, securityhub:DisableSecurityHub) have no resource-level permissions.
TAMPER_ACTIONS = (
    "access-analyzer:DeleteAnalyzer",
    "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors",
    "cloudtrail:StopLogging", "cloudtrail:UpdateTrail",
    "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "config:StopConfigurationRecorder",
    "guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount", "guardduty:UpdateDetector",
    "inspector2:Disable", "kms:DisableKey", "kms:ScheduleKeyDeletion", "logs:DeleteLogGroup",
    "macie2:DisableMacie", "securityhub:BatchDisableStandards", "securityhub:DisableSecurityHub",
)
# Changing a persona role would undo separation of duties.
ROLE_CHANGE_ACTIONS = (
    "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
    "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
BACKUP_ROLE = "backup"  # AWS Backup's role (modules/governance/backup.py), the one bounded role that calls RDS
# Services that the environment's roles may hand a role to (each persona narrows this further).
PASS_ROLE_SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "sagemaker.amazonaws.com")
# Global services that the region guard must not block.
GLOBAL_SERVICES = ("iam:*", "sts:*", "cloudfront:*", "budgets:*", "ce:*", "organizations:*", "support:*")


def boundary_name(naming: Naming) -> str:
    return naming.resource("permission-boundary")


def boundary_arn(naming: Naming) -> str:
    return f"arn:aws:iam::{naming.account_id}:policy/{boundary_name(naming)}"


def serverless_model_arn_pattern(naming: Naming) -> str:
    """Models that may be created without a VPC: only serverless endpoints may use them."""
    return f"arn:aws:sagemaker:*:{naming.account_id}:model/{naming.resource(SERVERLESS_MODEL_INFIX)}-*"


def region_guard(naming: Naming, managed_outside: Mapping[str, tuple[str, ...]]) -> list[Statement]:
    """Deny outside the environment's regions but for global services; in each region outside them where the
    app manages resources itself (`managed_outside`: region → IAM services, modules/edge.py), deny all but
    the global services and those resources' services, as the region SCP does."""
    regions = sorted({naming.region, naming.dr_region})
    statements = [statement("DenyOutsideEnvironmentRegions", "Deny", list(GLOBAL_SERVICES), "*", not_actions=True,
                            condition={"StringNotEquals": {"aws:RequestedRegion": sorted([*regions, *managed_outside])}})]
    for region, services in sorted(managed_outside.items()):
        sid = "DenyInManagedRegionExceptItsServices" + "".join(p.capitalize() for p in region.split("-"))
        statements.append(statement(sid, "Deny", sorted({*GLOBAL_SERVICES, *(f"{s}:*" for s in services)}), "*",
                                    not_actions=True, condition={"StringEquals": {"aws:RequestedRegion": region}}))
    return statements


def own_key_pattern(naming: Naming) -> str:
    """KMS keys of this account in the environment's region (training jobs run there)."""
    return f"arn:aws:kms:{naming.region}:{naming.account_id}:key/*"


def training_job_statements(naming: Naming) -> list:
    """Training, processing and tuning jobs encrypt volumes and outputs with this account's keys.
    One condition key per statement (keys inside one condition block are ANDed); `ArnNotLikeIfExists`
    also matches an absent key, so a job that names no key (AWS-managed encryption) is denied too,
    unless it runs on local-storage instances only, which take no volume key (ANDed second key)."""
    jobs, keys = list(VPC_REQUIRED_ACTIONS), own_key_pattern(naming)
    return [
        statement("DenyJobsWithoutOwnVolumeKey", "Deny", jobs, "*",
                  condition={"ArnNotLikeIfExists": {"sagemaker:VolumeKmsKey": keys},
                             "ForAllValues:StringNotLike": {
                                 "sagemaker:InstanceTypes": list(LOCAL_STORAGE_INSTANCE_PATTERNS)}}),
        statement("DenyJobsWithoutOwnOutputKey", "Deny", jobs, "*",
                  condition={"ArnNotLikeIfExists": {"sagemaker:OutputKmsKey": keys}}),
    ]


def approval_statements(naming: Naming) -> list[Statement]:
    """Separation of duties in the model registry: nobody but the approver registers a package Approved,
    or updates a package at all: an update that leaves the status alone may still swap an Approved
    version's inference specification or source (UpdateModelPackage), so no status condition there.
    The approver's own policy denies it training and registration; the deployment rule above denies
    it deployment."""
    not_approver = {"ArnNotEquals": {"aws:PrincipalArn": naming.role_arn(APPROVER_PERSONA)}}
    return [statement("DenyModelApprovalExceptApprover", "Deny", "sagemaker:CreateModelPackage", "*",
                      condition={"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVED}, **not_approver}),
            statement("DenyPackageUpdatesExceptApprover", "Deny", "sagemaker:UpdateModelPackage", "*",
                      condition=not_approver)]


def hand_deploys(tier: str) -> bool:
    """Whether the ml-engineer persona deploys models by hand in an environment of this tier."""
    return tier in HAND_DEPLOY_TIERS


def deployment_statement(naming: Naming, by_hand: bool) -> Statement:
    """Deployment inside the boundary: the ml-engineer alone where it deploys by hand, nobody otherwise."""
    if by_hand:
        return statement("DenyDeploymentExceptMlEngineer", "Deny", list(DEPLOY_ACTIONS), "*",
                         condition={"ArnNotEquals": {"aws:PrincipalArn": naming.role_arn(DEPLOYER_PERSONA)}})
    return statement("DenyDeployment", "Deny", list(DEPLOY_ACTIONS), "*")


def boundary_document(naming: Naming, managed_outside: Mapping[str, tuple[str, ...]] | None = None, *,
                      by_hand: bool = False) -> str:
    """`managed_outside`: region outside the environment's → the IAM services the app manages there
    (modules/edge.py `managed_outside`); None or empty: none. `by_hand`: the ml-engineer deploys
    (`hand_deploys(tier)`); otherwise only the deployer, outside the boundary, does."""
    own_arn = boundary_arn(naming)
    return document(
        # A ceiling, not a grant: service-wide on "*" here; each role's own policy scopes by ARN.
        statement("AllowArchitectureServices", "Allow", [f"{svc}:*" for svc in ALLOWED_SERVICES], "*"),
        statement("AllowReadIam", "Allow", ["iam:Get*", "iam:List*"], "*"),
        statement("AllowPassingEnvironmentRoles", "Allow", "iam:PassRole", naming.role_arn_pattern,
                  condition={"StringEquals": {"iam:PassedToService": list(PASS_ROLE_SERVICES)}}),
        *region_guard(naming, managed_outside or {}),
        # Long-lived credentials, escaping the boundary, leaving the organization: one statement, as the
        # boundary must stay under IAM's 6,144-character limit for managed policies.
        statement("DenyCredentialsBoundaryEscapeAndLeaving", "Deny",
                  ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreateUser", "iam:UpdateLoginProfile",
                   "iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
                   "iam:PutUserPermissionsBoundary", "organizations:LeaveOrganization"], "*"),
        statement("DenyRolesWithoutThisBoundary", "Deny",
                  ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "*",
                  condition={"ArnNotEquals": {"iam:PermissionsBoundary": own_arn}}),
        statement("DenyBoundaryChanges", "Deny",
                  ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                   "iam:SetDefaultPolicyVersion"], own_arn),
        deployment_statement(naming, by_hand),
        statement("DenySageMakerComputeWithoutVpc", "Deny", list(VPC_REQUIRED_ACTIONS), "*",
                  condition={"Null": {"sagemaker:VpcSubnets": "true"}}),
        statement("DenyModelsWithoutVpcExceptServerless", "Deny", "sagemaker:CreateModel",
                  serverless_model_arn_pattern(naming), not_resources=True,
                  condition={"Null": {"sagemaker:VpcSubnets": "true"}}),
        statement("DenyServerlessModelsOnInstances", "Deny", "sagemaker:CreateEndpointConfig", "*",
                  condition={"ArnLike": {"sagemaker:ModelArn": serverless_model_arn_pattern(naming)},
                             "Null": {"sagemaker:InstanceTypes": "false"}}),
        statement("DenyAuditAndDetectionTampering", "Deny", list(TAMPER_ACTIONS), "*"),
        statement("DenyPersonaRoleChanges", "Deny", list(ROLE_CHANGE_ACTIONS),
                  sorted(naming.role_arn(p) for p in PERSONAS)),
        *training_job_statements(naming),
        *approval_statements(naming),
        # The training data store (modules/platform/data_store.py): IAM authentication tokens for every role
        # (its own policy names its database user), RDS itself only for AWS Backup's role, whose AWS managed
        # policies snapshot, copy, expire and restore the cluster. No other bounded role calls RDS, so none
        # can delete or modify the cluster or share its snapshots.
        statement("AllowDbConnect", "Allow", "rds-db:connect", "*"),
        statement("AllowRdsForBackup", "Allow", "rds:*", "*",
                  condition={"ArnEquals": {"aws:PrincipalArn": naming.role_arn(BACKUP_ROLE)}}),
    )
