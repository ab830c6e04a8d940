"""Cross-region replication of the data buckets to the DR region, each class with its own DR key."""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.boundary import boundary_arn
from modules.data.secure_bucket import SecureBucket
from modules.iam_doc import document, service_trust, statement
from modules.naming import Naming


@dataclass
class ReplicationPair:
    source: SecureBucket
    replica: SecureBucket
    source_key_arn: str
    replica_key_arn: str


class BucketReplication(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, pairs: list[ReplicationPair],
                 role_purpose: str = "s3-replication", permissions_boundary: str | None = None):
        """`permissions_boundary`: a reference to the boundary policy when it is created in the same stack
        (IAM refuses a role whose boundary does not exist yet); by default its conventional ARN."""
        super().__init__(scope, construct_id)
        self.role = aws.iam_role.IamRole(
            self, "role", name=naming.role(role_purpose),
            assume_role_policy=service_trust("s3.amazonaws.com", naming.account_id),
            permissions_boundary=permissions_boundary or boundary_arn(naming),
            description="S3 cross-region replication to the DR region")
        sources = [f"arn:aws:s3:::{p.source.name}" for p in pairs]
        replicas = [f"arn:aws:s3:::{p.replica.name}" for p in pairs]
        aws.iam_role_policy.IamRolePolicy(
            self, "policy", role=self.role.id, name="replicate",
            policy=document(
                statement("ReadReplicationConfiguration", "Allow",
                          ["s3:GetReplicationConfiguration", "s3:ListBucket"], sources),
                statement("ReadSourceVersions", "Allow",
                          ["s3:GetObjectLegalHold", "s3:GetObjectRetention", "s3:GetObjectVersionAcl",
                           "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
                          [f"{s}/*" for s in sources]),
                statement("WriteReplicas", "Allow",
                          ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateDelete", "s3:ReplicateObject",
                           "s3:ReplicateTags"], [f"{r}/*" for r in replicas]),
                statement("DecryptSources", "Allow", "kms:Decrypt", [p.source_key_arn for p in pairs],
                          condition={"StringEquals": {"kms:ViaService": f"s3.{naming.region}.amazonaws.com"}}),
                statement("EncryptReplicas", "Allow", ["kms:Encrypt", "kms:GenerateDataKey"],
                          [p.replica_key_arn for p in pairs],
                          condition={"StringEquals": {"kms:ViaService": f"s3.{naming.dr_region}.amazonaws.com"}}),
            ))
        r = aws.s3_bucket_replication_configuration
        for pair in pairs:
            destination = r.S3BucketReplicationConfigurationRuleDestination(
                bucket=pair.replica.arn, storage_class="STANDARD",
                encryption_configuration=r.S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                    replica_kms_key_id=pair.replica_key_arn),
                # Replication Time Control: 15-minute SLA, with metrics to alarm on lag.
                replication_time=r.S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                    status="Enabled", time=r.S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(minutes=15)),
                metrics=r.S3BucketReplicationConfigurationRuleDestinationMetrics(
                    status="Enabled",
                    event_threshold=r.S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(minutes=15)))
            r.S3BucketReplicationConfigurationA(
                self, f"{pair.source.node.id}-replication",
                bucket=pair.source.bucket.id, role=self.role.arn,
                rule=[r.S3BucketReplicationConfigurationRule(
                    id="replicate-to-dr", status="Enabled", priority=1,
                    filter=r.S3BucketReplicationConfigurationRuleFilter(),
                    delete_marker_replication=r.S3BucketReplicationConfigurationRuleDeleteMarkerReplication(status="Enabled"),
                    source_selection_criteria=r.S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=r.S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled")),
                    destination=destination)],
                depends_on=[pair.source.versioning, pair.replica.versioning])
