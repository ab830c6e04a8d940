"""Key policies for the per-data-class customer-managed keys.

Statements: the account admin statement (delegates to IAM, as AWS recommends), key administrators
who cannot use the key, key users limited to this environment's roles through named AWS services
(`kms:ViaService`, `kms:CallerAccount`), grants only for AWS resources, and service principals
that encrypt directly (CloudTrail, CloudWatch Logs, alarm and event publishers) with source conditions.
"""
from __future__ import annotations

from modules.grants import key_administration, logs_may_encrypt
from modules.iam_doc import Statement, document, statement
from modules.naming import Naming

USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]

# AWS services through which the environment's roles may use each class of key.
VIA_SERVICES: dict[str, tuple[str, ...]] = {
    "training": ("s3", "sagemaker"),
    "model": ("s3", "sagemaker", "ecr", "ec2", "lambda"),
    "inference": ("s3", "sagemaker", "lambda", "dynamodb", "elasticfilesystem", "sqs", "sns"),
    "audit": ("s3", "logs", "sns", "cloudtrail", "backup"),
    "state": ("s3",),
}

# Key classes whose buckets Macie classifies (datasets → training, inference → inference).
MACIE_READS = ("training", "inference")

# Services that publish to KMS-encrypted SNS topics (alarms, events, budgets, cost anomalies).
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com",
                    "costalerts.amazonaws.com")


def key_policy(naming: Naming, key_class: str, key_admin_arn: str, region: str | None = None) -> str:
    region = region or naming.region
    account = naming.account_id
    statements: list[Statement] = [
        *key_administration(naming.account_root, key_admin_arn),
        statement("EnvironmentRolesViaServices", "Allow", USE_ACTIONS, "*",
                  principal={"AWS": naming.account_root},
                  condition={
                      "ArnLike": {"aws:PrincipalArn": naming.role_arn_pattern},
                      "StringEquals": {
                          "kms:CallerAccount": account,
                          "kms:ViaService": [f"{svc}.{region}.amazonaws.com" for svc in VIA_SERVICES[key_class]],
                      },
                  }),
        statement("EnvironmentRolesGrantsForAwsResources", "Allow", GRANT_ACTIONS, "*",
                  principal={"AWS": naming.account_root},
                  condition={
                      "ArnLike": {"aws:PrincipalArn": naming.role_arn_pattern},
                      "Bool": {"kms:GrantIsForAWSResource": "true"},
                      "StringEquals": {"kms:CallerAccount": account},
                  }),
    ]
    if key_class == "model":
        # EC2 Auto Scaling launches GPU instances with volumes encrypted by this key.
        statements.append(statement(
            "AutoScalingServiceLinkedRole", "Allow", USE_ACTIONS + ["kms:CreateGrant"], "*",
            principal={"AWS": naming.account_root},
            condition={"ArnEquals": {"aws:PrincipalArn": (
                f"arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")},
                "StringEquals": {"kms:CallerAccount": account}}))
    if key_class in MACIE_READS:
        # Macie's classification job reads the datasets and inference buckets through its
        # service-linked role. Matched by ARN condition: the role appears only once Macie is enabled.
        statements.append(statement(
            "MacieSensitiveDataDiscovery", "Allow", "kms:Decrypt", "*",
            principal={"AWS": naming.account_root},
            condition={"ArnEquals": {"aws:PrincipalArn": (
                f"arn:aws:iam::{naming.account_id}:role/aws-service-role/macie.amazonaws.com/AWSServiceRoleForAmazonMacie")},
                "StringEquals": {"kms:CallerAccount": naming.account_id}}))
    if key_class == "audit":
        statements += _audit_service_statements(naming, region)
    return document(*statements)


def _audit_service_statements(naming: Naming, region: str) -> list[Statement]:
    account = naming.account_id
    return [
        statement("CloudTrailEncryptLogs", "Allow", "kms:GenerateDataKey*", "*",
                  principal={"Service": "cloudtrail.amazonaws.com"},
                  condition={
                      "StringEquals": {"aws:SourceArn": naming.trail_arn()},
                      "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                     f"arn:aws:cloudtrail:*:{account}:trail/*"},
                  }),
        statement("CloudTrailDescribeKey", "Allow", "kms:DescribeKey", "*",
                  principal={"Service": "cloudtrail.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceArn": naming.trail_arn()}}),
        logs_may_encrypt(region, account),
        statement("AlertPublishers", "Allow", ["kms:Decrypt", "kms:GenerateDataKey*"], "*",
                  principal={"Service": list(TOPIC_PUBLISHERS)},
                  condition={"StringEquals": {"aws:SourceAccount": account}}),
        # AWS Config (service-linked role) encrypts configuration snapshots and history in the audit bucket.
        statement("ConfigDelivery", "Allow", ["kms:Decrypt", "kms:GenerateDataKey"], "*",
                  principal={"Service": "config.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceAccount": account}}),
        # Macie encrypts its sensitive-data discovery results in the audit bucket (results repository).
        statement("MacieDiscoveryResults", "Allow", ["kms:Encrypt", "kms:GenerateDataKey"], "*",
                  principal={"Service": "macie.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceAccount": account},
                             "ArnLike": {"aws:SourceArn": naming.macie_export_arn_pattern()}}),
    ]
