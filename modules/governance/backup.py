"""AWS Backup: a KMS-encrypted, locked vault; a daily plan for the DynamoDB tables, EFS file systems,
Aurora clusters and S3 buckets that carry the environment's Backup tag and for the Studio domain's home
file system, with (prod) a copy of each recovery point to a locked vault in the DR region; and (prod by
default: governance.backup.gpu_fleets) a daily plan for the GPU fleets' instances and volumes, never copied.

S3: prod tags its versioned data buckets (datasets, model artifacts, inference data: modules/data/stack.py),
so a deleted or overwritten object can be restored from a recovery point that its own bucket's permissions
cannot reach; AWS Backup requires versioning, which every bucket has. The backup role carries AWS's S3 backup
and restore policies, and the bucket keys admit it through S3 (modules/data/key_users.py).

Vault lock mode. The provider has no "mode" argument; the mode follows from
`changeable_for_days` on aws_backup_vault_lock_configuration:
- omitted → governance mode: the retention range is enforced, but a principal allowed
  backup:DeleteBackupVaultLockConfiguration can still remove or change the lock (dev, staging);
- set (≥ 3 days) → compliance mode: after that cooling-off period the lock is immutable; no one,
  not even the root user or AWS, can shorten retention or delete a recovery point early (prod).

Each vault also carries an access policy that denies everyone the manual deletion of recovery points,
the change of their lifecycle and the replacement of the policy itself: the shape AWS Config's
BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED accepts (a Deny with `*` as principal and resource).
AWS Backup still expires recovery points by their lifecycle. Because the policy denies its own
replacement, changing it means deleting it first (backup:DeleteBackupVaultAccessPolicy is not denied):
`terraform apply -replace` on the aws_backup_vault_policy.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.boundary import BACKUP_ROLE, boundary_arn
from modules.governance.settings import BackupSettings
from modules.iam_doc import document, service_trust, statement
from modules.naming import BACKUP_TAG_KEY, Naming

# DynamoDB, EFS and the training data store (RDS) by ARN and tag together: with an explicit resource type the plan does not
# depend on the region's service opt-in settings.
SELECTED_RESOURCE_PATTERNS = ("arn:aws:dynamodb:{region}:{account}:table/*",
                              "arn:aws:elasticfilesystem:{region}:{account}:file-system/*",
                              "arn:aws:rds:{region}:{account}:cluster:*",  # the training data store
                              "arn:aws:s3:::*")  # bucket ARNs name no region or account: the tag picks the buckets
# The GPU fleets' instances (an AMI with a snapshot of each volume) and their volumes, where they are backed up
# (governance.backup.gpu_fleets), in a plan of their own: AWS Config judges instances and volumes apart
# (EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN, EBS_IN_BACKUP_PLAN); a volume's second snapshot of the day is
# incremental to the first. The instances are stateless, so their recovery points are evidence and a forensic
# image, kept in this region only: a copy in the DR region would cost a full snapshot per new instance and could
# not be restored there (the DR vault's key admits no EC2 volume attachment).
FLEET_RESOURCE_PATTERNS = ("arn:aws:ec2:{region}:{account}:instance/*",
                           "arn:aws:ec2:{region}:{account}:volume/*")
# The home file system of the environment's SageMaker Studio domain (user notebooks and data), which SageMaker
# creates and tags ManagedByAmazonSageMakerResource=<domain ARN>: no Terraform resource carries the Backup tag
# for it, and EFS_IN_BACKUP_PLAN judges every file system of the region.
STUDIO_HOME_PATTERN = "arn:aws:elasticfilesystem:{region}:{account}:file-system/*"
STUDIO_HOME_TAG = ("ManagedByAmazonSageMakerResource", "arn:aws:sagemaker:{region}:{account}:domain/*")
# What the vault access policy denies to every principal (the actions the Config rule requires).
MANUAL_DELETION_ACTIONS = ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle",
                           "backup:PutBackupVaultAccessPolicy")
SERVICE_POLICIES = ("arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
                    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
                    # S3 has policies of its own (no service-role/ path): read, EventBridge rules, KMS via S3.
                    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
                    "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore")


class Backup(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: BackupSettings, tier: str,
                 vault_key_arn: str, dr_vault_key_arn: str | None = None, dr_provider=None,
                 studio_home: bool = False):
        super().__init__(scope, construct_id)
        self.lock_mode = settings.vault_lock.mode_for(tier)
        name = naming.resource("backup")
        self.vault = aws.backup_vault.BackupVault(
            self, "vault", name=name, kms_key_arn=vault_key_arn, force_destroy=False)
        self.lock = self._lock("vault-lock", self.vault, settings)
        self.vault_policy = self._deny_manual_deletion("vault-policy", self.vault)
        self.dr_vault = self.dr_lock = self.dr_vault_policy = None
        if dr_vault_key_arn is not None:
            self.dr_vault = aws.backup_vault.BackupVault(
                self, "dr-vault", name=name, kms_key_arn=dr_vault_key_arn, force_destroy=False, provider=dr_provider)
            self.dr_lock = self._lock("dr-vault-lock", self.dr_vault, settings, provider=dr_provider)
            self.dr_vault_policy = self._deny_manual_deletion("dr-vault-policy", self.dr_vault, provider=dr_provider)
        self.role = self._role(naming)
        self.plan = self._plan("plan", naming.resource("backup-plan"), settings, copy_to_dr=True)
        self.selection = self._select("selection", naming, self.plan, "tagged", SELECTED_RESOURCE_PATTERNS)
        self.studio_selection = None
        if studio_home:
            key, value = STUDIO_HOME_TAG
            self.studio_selection = self._select(
                "studio-selection", naming, self.plan, "studio-home", (STUDIO_HOME_PATTERN,),
                tag=(key, value.format(region=naming.region, account=naming.account_id)), operator="like")
        self.fleet_plan = self.fleet_selection = None
        if settings.backs_up_fleets(tier):
            self.fleet_plan = self._plan("fleet-plan", naming.resource("fleet-backup-plan"), settings, copy_to_dr=False)
            self.fleet_selection = self._select("fleet-selection", naming, self.fleet_plan, "fleets",
                                                FLEET_RESOURCE_PATTERNS)

    def _select(self, construct_id: str, naming: Naming, plan, name: str, patterns: tuple[str, ...],
                tag: tuple[str, str] | None = None, operator: str = "equals"):
        """A selection of `patterns` that carry `tag` (default: the environment's Backup tag)."""
        s = aws.backup_selection
        key, value = tag or (BACKUP_TAG_KEY, naming.backup_tag_value)
        condition = (s.BackupSelectionCondition(string_like=[s.BackupSelectionConditionStringLike(
            key=f"aws:ResourceTag/{key}", value=value)]) if operator == "like" else
            s.BackupSelectionCondition(string_equals=[s.BackupSelectionConditionStringEquals(
                key=f"aws:ResourceTag/{key}", value=value)]))
        return s.BackupSelection(
            self, construct_id, name=naming.resource(name), plan_id=plan.id, iam_role_arn=self.role.arn,
            resources=[p.format(region=naming.region, account=naming.account_id) for p in patterns],
            condition=[condition])

    def _lock(self, construct_id: str, vault, settings: BackupSettings, provider=None):
        lock = settings.vault_lock
        return aws.backup_vault_lock_configuration.BackupVaultLockConfiguration(
            self, construct_id, backup_vault_name=vault.name,
            min_retention_days=lock.min_retention_days, max_retention_days=lock.max_retention_days,
            # Present only in compliance mode: see the module docstring.
            changeable_for_days=lock.changeable_for_days if self.lock_mode == "compliance" else None,
            provider=provider)

    def _deny_manual_deletion(self, construct_id: str, vault, provider=None):
        return aws.backup_vault_policy.BackupVaultPolicy(
            self, construct_id, backup_vault_name=vault.name, provider=provider,
            policy=document(statement("DenyManualRecoveryPointDeletion", "Deny", list(MANUAL_DELETION_ACTIONS), "*",
                                      principal="*")))

    def _role(self, naming: Naming):
        role = aws.iam_role.IamRole(
            self, "role", name=naming.role(BACKUP_ROLE),
            assume_role_policy=service_trust("backup.amazonaws.com", naming.account_id),
            permissions_boundary=boundary_arn(naming),
            description="AWS Backup: back up and restore the resources that carry the environment's Backup tag")
        for index, policy_arn in enumerate(SERVICE_POLICIES):
            aws.iam_role_policy_attachment.IamRolePolicyAttachment(
                self, f"role-policy-{index}", role=role.name, policy_arn=policy_arn)
        return role

    def _plan(self, construct_id: str, name: str, settings: BackupSettings, *, copy_to_dr: bool):
        p = aws.backup_plan
        copies = []
        if copy_to_dr and self.dr_vault is not None:
            copies.append(p.BackupPlanRuleCopyAction(
                destination_vault_arn=self.dr_vault.arn,
                lifecycle=p.BackupPlanRuleCopyActionLifecycle(delete_after=settings.effective_dr_retention_days)))
        return p.BackupPlan(
            self, construct_id, name=name,
            rule=[p.BackupPlanRule(
                rule_name="daily", target_vault_name=self.vault.name, schedule=settings.schedule,
                start_window=settings.start_window_minutes, completion_window=settings.completion_window_minutes,
                lifecycle=p.BackupPlanRuleLifecycle(delete_after=settings.retention_days),
                copy_action=copies or None,
                recovery_point_tags={"BackupPlan": name})])
