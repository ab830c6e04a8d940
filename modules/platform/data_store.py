"""The training data store (`platform.training.data_store`, off unless enabled): Aurora PostgreSQL
Serverless v2 for features and experiment metadata.

- encrypted with the training key (storage, Performance Insights, the master secret);
- IAM database authentication (people and jobs connect with `rds-db:connect` tokens, never a
  password), the master password managed and rotated by RDS in Secrets Manager;
- TLS only: the cluster parameter group sets `rds.force_ssl = 1`, and logs connections and slow
  statements to CloudWatch;
- in the private subnets, reachable on 5432 only from the training, Studio and SageMaker serving
  security groups; no public access;
- enhanced monitoring into `RDSOSMetrics`, a log group AWS names once per account and region and
  shares between every RDS instance with enhanced monitoring there. Left to RDS, it is created on first
  use without a customer key and with 30 days' retention, which the deployed Config rules
  (cloudwatch-log-group-encrypted, cw-loggroup-retention-period-check) report NON_COMPLIANT for ever.
  So the stack owns it, before the instance: the audit key and the environment's retention. Where the
  account already has it (another instance's enhanced monitoring), `governance.adopt.rds_os_metrics_log_group`
  imports it instead of failing to create it (preflight finds it). Destroying it would delete every
  other instance's OS metrics: an adopted group, and every group in prod, refuses deletion
  (`prevent_destroy` and CloudWatch's deletion protection). The monitoring role may write its streams,
  not create the group or change its retention (RDS would reset it to 30 days);
- deletion protection and a final snapshot (from `platform.deletion_protection`, required in prod),
  automated backups, and the Backup tag the governance pillar's AWS Backup plan selects by.
"""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.governance.singletons import import_existing
from modules.grants import write_log_streams
from modules.iam_doc import statement
from modules.lookups import data_key_arn
from modules.platform.context import PlatformContext
from modules.platform.log_group import encrypted_log_group
from modules.platform.network import Network
from modules.platform.service_roles import ServiceRole
from modules.platform.training_settings import DataStoreSettings
from modules.suppress import suppress
from modules.training import DATA_STORE

PORT = 5432
ENGINE = "aurora-postgresql"
MASTER_USERNAME = "aegis_admin"
# TLS only, and enough logging to investigate access (CloudWatch export of the postgresql log):
# connections, schema changes (`ddl`: statements that read or write rows, and their data, stay out of
# the log) and statements slower than a second.
PARAMETERS = (("rds.force_ssl", "1"), ("log_connections", "1"), ("log_disconnections", "1"),
              ("log_statement", "ddl"), ("log_min_duration_statement", "1000"))
MONITORING_SECONDS = 60  # enhanced monitoring (OS metrics) into the RDSOSMetrics log group
MONITORING_LOG_GROUP = "RDSOSMetrics"  # AWS-fixed name, one per account and region (see the module doc)


@dataclass(frozen=True)
class DataStoreProps:
    settings: DataStoreSettings
    client_security_groups: tuple[tuple[str, str], ...]  # (label, security group id) allowed on 5432
    adopt_os_metrics_group: bool = False  # RDSOSMetrics exists in the account: import it


class TrainingDataStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, network: Network,
                 props: DataStoreProps):
        super().__init__(scope, construct_id)
        n, s = ctx.naming, props.settings
        name = n.resource(DATA_STORE)
        key = data_key_arn(self, "training")
        family = f"{ENGINE}{s.engine_version.split('.')[0]}"
        self.security_group = aws.security_group.SecurityGroup(
            self, "security-group", name=name, vpc_id=network.vpc_id, tags={"Name": name},
            description="Training data store: PostgreSQL from the training, Studio and serving groups only")
        store_sg = self.security_group.id
        for label, group in props.client_security_groups:
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self, f"ingress-{label}", security_group_id=store_sg, referenced_security_group_id=group,
                ip_protocol="tcp", from_port=PORT, to_port=PORT, description=f"PostgreSQL from the {label} workloads")
            # The workload groups' egress is HTTPS only: open PostgreSQL to the store, nothing else.
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self, f"egress-{label}", security_group_id=group, referenced_security_group_id=store_sg,
                ip_protocol="tcp", from_port=PORT, to_port=PORT, description="PostgreSQL to the training data store")
        subnets = aws.db_subnet_group.DbSubnetGroup(
            self, "subnets", name=name, subnet_ids=network.private_subnet_ids,
            description="Private subnets of the training data store")
        parameters = aws.rds_cluster_parameter_group.RdsClusterParameterGroup(
            self, "parameters", name=name, family=family, description="TLS only, connection and slow-query logs",
            parameter=[aws.rds_cluster_parameter_group.RdsClusterParameterGroupParameter(name=k, value=v)
                       for k, v in PARAMETERS])
        protected = ctx.deletion_protection
        # Created before RDS writes to them: encrypted, with the environment's retention.
        self.logs = encrypted_log_group(
            self, "log-group", name=f"/aws/rds/cluster/{name}/postgresql", kms_key_arn=ctx.keys.audit,
            retention_days=ctx.log_retention_days, protected=protected)
        # Shared with every other RDS instance of the account and region: kept when adopted, and in prod.
        keep = protected or props.adopt_os_metrics_group
        self.os_metrics = encrypted_log_group(
            self, "os-metrics", name=MONITORING_LOG_GROUP, kms_key_arn=ctx.keys.audit,
            retention_days=ctx.log_retention_days, protected=keep)
        if keep:
            self.os_metrics.lifecycle = TerraformResourceLifecycle(prevent_destroy=True)
        import_existing(self.os_metrics, MONITORING_LOG_GROUP if props.adopt_os_metrics_group else None)
        monitoring = ServiceRole(
            self, "monitoring-role", naming=n, purpose="rds-monitoring", service="monitoring.rds.amazonaws.com",
            description="RDS enhanced monitoring of the training data store: OS metrics into RDSOSMetrics",
            statements=_monitoring_statements(ctx.log_group_arn(MONITORING_LOG_GROUP)))
        self.cluster = aws.rds_cluster.RdsCluster(
            self, "cluster", cluster_identifier=name, engine=ENGINE, engine_mode="provisioned",
            engine_version=s.engine_version, database_name="training",
            serverlessv2_scaling_configuration=aws.rds_cluster.RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=s.min_capacity, max_capacity=s.max_capacity),
            master_username=MASTER_USERNAME, manage_master_user_password=True, master_user_secret_kms_key_id=key,
            iam_database_authentication_enabled=True, storage_encrypted=True, kms_key_id=key,
            db_subnet_group_name=subnets.name, vpc_security_group_ids=[store_sg],
            db_cluster_parameter_group_name=parameters.name, port=PORT,
            backup_retention_period=s.backup_retention_days, copy_tags_to_snapshot=True,
            deletion_protection=protected, skip_final_snapshot=not protected,
            final_snapshot_identifier=f"{name}-final" if protected else None,
            enabled_cloudwatch_logs_exports=["postgresql"], tags=n.backup_tag(),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if protected else None,
            depends_on=[self.logs])
        suppress(self.cluster, "CKV2_AWS_8",
                 "The governance stack's AWS Backup plan selects this cluster by its ARN pattern and Backup tag "
                 "(modules/governance/backup.py); checkov follows connections within one stack only", "2027-11-30")
        self.instance = aws.rds_cluster_instance.RdsClusterInstance(
            self, "instance", identifier=f"{name}-1", cluster_identifier=self.cluster.id, instance_class="db.serverless",
            engine=ENGINE, engine_version=s.engine_version, db_subnet_group_name=subnets.name,
            publicly_accessible=False, auto_minor_version_upgrade=True, performance_insights_enabled=True,
            performance_insights_kms_key_id=key, copy_tags_to_snapshot=True,
            monitoring_interval=MONITORING_SECONDS, monitoring_role_arn=monitoring.arn,
            depends_on=[monitoring.policy, self.os_metrics])


def _monitoring_statements(group_arn: str) -> list:
    """What AmazonRDSEnhancedMonitoringRole grants on `RDS*` groups, on the RDSOSMetrics group alone, less
    CreateLogGroup and PutRetentionPolicy: the stack owns the group, its key and its retention."""
    return [write_log_streams("WriteOsMetrics", group_arn),
            statement("ReadOsMetricStreams", "Allow", ["logs:DescribeLogStreams", "logs:GetLogEvents"],
                      [group_arn, f"{group_arn}:log-stream:*"])]
