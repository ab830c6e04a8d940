"""Shared storage: a DynamoDB table for online features and prediction results, and an EFS file
system for the shared model cache. Neither exists unless something needs it: the table when config
opts in (`platform.storage.predictions_table`), the cache when config opts in
(`platform.storage.model_cache`) or when a serving construct mounts it (its first use of
`file_system`, `access_point` or `admit_nfs_from` creates it: GPU fleets do).

Both are encrypted with the inference key. The table has point-in-time recovery and (from config,
always in prod) deletion protection. Both carry the Backup tag the governance pillar's AWS Backup
plan selects by. The file system has AWS Backup enabled, mount targets in every
private subnet, one access point (fixed POSIX identity, its own root directory), and a policy that
denies non-TLS access and anonymous mounts; in prod Terraform refuses to destroy it.
"""
from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.grants import deny_insecure_transport
from modules.iam_doc import document, statement
from modules.platform.context import PlatformContext
from modules.platform.network import Network
from modules.platform.settings import StorageSettings

CACHE_UID = 1000
CACHE_ROOT = "/model-cache"


class SharedStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, network: Network,
                 settings: StorageSettings):
        super().__init__(scope, construct_id)
        self._ctx, self._network, self._settings = ctx, network, settings
        self.table = self._table() if settings.predictions_table else None
        self._cache_built = False
        if settings.model_cache:
            self._model_cache()

    @property
    def has_model_cache(self) -> bool:
        return self._cache_built

    @property
    def file_system(self):
        self._model_cache()
        return self._file_system

    @property
    def access_point(self):
        self._model_cache()
        return self._access_point

    def _table(self):
        n, t = self._ctx.naming, aws.dynamodb_table
        return t.DynamodbTable(
            self, "table", name=n.resource("predictions"), billing_mode="PAY_PER_REQUEST",
            hash_key="pk", range_key="sk",
            attribute=[t.DynamodbTableAttribute(name="pk", type="S"), t.DynamodbTableAttribute(name="sk", type="S")],
            server_side_encryption=t.DynamodbTableServerSideEncryption(enabled=True,
                                                                       kms_key_arn=self._ctx.keys.inference),
            point_in_time_recovery=t.DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=self._ctx.deletion_protection,
            ttl=t.DynamodbTableTtl(attribute_name=self._settings.table_ttl_attribute, enabled=True),
            tags={"Purpose": "online-features-and-predictions", **n.backup_tag()})

    def _model_cache(self) -> None:
        """The EFS model cache, built once (same construct ids whether config or a mount asks first)."""
        if self._cache_built:
            return
        self._cache_built = True
        ctx, network, settings = self._ctx, self._network, self._settings
        n = ctx.naming
        protect = ctx.deletion_protection
        f = aws.efs_file_system
        self._file_system = f.EfsFileSystem(
            self, "file-system", creation_token=n.resource("model-cache"), encrypted=True,
            kms_key_id=ctx.keys.inference, performance_mode="generalPurpose",
            throughput_mode=settings.efs_throughput_mode,
            lifecycle_policy=[f.EfsFileSystemLifecyclePolicy(transition_to_ia=settings.efs_transition_to_ia),
                              f.EfsFileSystemLifecyclePolicy(transition_to_primary_storage_class="AFTER_1_ACCESS")],
            tags={"Name": n.resource("model-cache"), **n.backup_tag()},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protect else None)
        # Backed up by the <env>-governance AWS Backup plan, which selects file systems by the Backup tag.
        aws.efs_backup_policy.EfsBackupPolicy(
            self, "backup", file_system_id=self._file_system.id,
            backup_policy=aws.efs_backup_policy.EfsBackupPolicyBackupPolicy(status="ENABLED"))
        self.security_group = aws.security_group.SecurityGroup(
            self, "security-group", name=n.resource("model-cache"), vpc_id=network.vpc_id,
            description="EFS model cache: NFS from the GPU fleets only", tags={"Name": n.resource("model-cache")})
        self.mount_targets = [
            aws.efs_mount_target.EfsMountTarget(
                self, f"mount-{i}", file_system_id=self._file_system.id, subnet_id=subnet.id,
                security_groups=[self.security_group.id])
            for i, subnet in enumerate(network.private_subnets)]
        a = aws.efs_access_point
        self._access_point = a.EfsAccessPoint(
            self, "access-point", file_system_id=self._file_system.id,
            posix_user=a.EfsAccessPointPosixUser(uid=CACHE_UID, gid=CACHE_UID),
            root_directory=a.EfsAccessPointRootDirectory(
                path=CACHE_ROOT, creation_info=a.EfsAccessPointRootDirectoryCreationInfo(
                    owner_uid=CACHE_UID, owner_gid=CACHE_UID, permissions="750")),
            tags={"Name": n.resource("model-cache")})
        fs_arn = self._file_system.arn
        aws.efs_file_system_policy.EfsFileSystemPolicy(
            self, "policy", file_system_id=self._file_system.id, bypass_policy_lockout_safety_check=False,
            policy=document(
                deny_insecure_transport("elasticfilesystem:*", fs_arn, principal={"AWS": "*"}),
                statement("DenyMountsOutsideTheAccessPoint", "Deny",
                          ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite",
                           "elasticfilesystem:ClientRootAccess"], fs_arn, principal={"AWS": "*"},
                          condition={"StringNotEquals": {"elasticfilesystem:AccessPointArn": self._access_point.arn}}),
                statement("EnvironmentRolesThroughAccessPoint", "Allow",
                          ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"], fs_arn,
                          principal={"AWS": n.account_root},
                          condition={"ArnLike": {"aws:PrincipalArn": n.role_arn_pattern},
                                     "Bool": {"aws:SecureTransport": "true"},
                                     "StringEquals": {"elasticfilesystem:AccessPointArn": self._access_point.arn}}),
            ))

    def admit_nfs_from(self, scope: Construct, construct_id: str, client_security_group_id: str) -> None:
        """NFS (TLS-wrapped by efs-utils) from one client security group, both directions of the rule."""
        self._model_cache()
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            scope, f"{construct_id}-nfs-in", security_group_id=self.security_group.id, ip_protocol="tcp",
            from_port=2049, to_port=2049, referenced_security_group_id=client_security_group_id,
            description="NFS from a GPU fleet")
        aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
            scope, f"{construct_id}-nfs-out", security_group_id=client_security_group_id, ip_protocol="tcp",
            from_port=2049, to_port=2049, referenced_security_group_id=self.security_group.id,
            description="NFS to the shared model cache")
