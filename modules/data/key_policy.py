"""Key policies for the per-data-class customer-managed keys.

Statements: the account admin statement (delegates to IAM, as AWS recommends, and keeps the key
manageable), key administrators who cannot use the key, the service-linked roles AWS requires as
key principals (Auto Scaling for EBS volumes, Macie for its classification job), service principals
that encrypt directly (CloudTrail, CloudWatch Logs, alarm and event publishers) with source
conditions, and the denies that make this policy decide who uses the key: only the class's named
users (modules/data/key_users.py), each through its own AWS services.
"""
from __future__ import annotations

from modules.data.key_users import AUTOSCALING, MACIE, KeyUsers
from modules.grants import key_administration, key_use_restrictions, logs_may_encrypt
from modules.iam_doc import Statement, document, statement
from modules.naming import Naming

# What a service-linked role does with a key for EBS volumes (EC2 Auto Scaling user guide, "Required
# AWS KMS key policy for use with encrypted volumes"): use it, and grant it to the volumes it attaches.
EBS_USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]

# Services that publish to KMS-encrypted SNS topics (alarms, events, budgets, cost anomalies).
TOPIC_PUBLISHERS = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com",
                    "costalerts.amazonaws.com")


def key_policy(naming: Naming, key_class: str, key_admin_arn: str, users: KeyUsers, region: str | None = None) -> str:
    region = region or naming.region
    statements: list[Statement] = [*key_administration(naming.account_root, key_admin_arn)]
    statements += service_linked_role_statements(users)
    if key_class == "audit":
        statements += _audit_service_statements(naming, region)
    statements += key_use_restrictions(users, region)
    return document(*statements)


def service_linked_role_statements(users: KeyUsers) -> list[Statement]:
    """Service-linked roles named as principals: their AWS-managed policies grant nothing on customer
    managed keys, so the account delegation cannot reach them (the key policy must name them)."""
    out: list[Statement] = []
    if AUTOSCALING in users.service_linked:
        # EC2 Auto Scaling launches the GPU fleet (and any instance, through the default EBS key).
        role = AUTOSCALING.arn(users.account_id)
        out += [
            statement("AutoScalingUseForVolumes", "Allow", EBS_USE_ACTIONS, "*", principal={"AWS": role}),
            statement("AutoScalingGrantsForVolumes", "Allow", "kms:CreateGrant", "*", principal={"AWS": role},
                      condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        ]
    if MACIE in users.service_linked:
        # Macie's classification job reads the datasets and inference buckets (Macie user guide,
        # "Allowing Macie to use a customer managed AWS KMS key").
        out.append(statement("MacieClassificationDecrypt", "Allow", "kms:Decrypt", "*",
                             principal={"AWS": MACIE.arn(users.account_id)}))
    return out


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
        # SNS delivers the alert topic's messages into the encrypted alert archive queue (SQS SSE: the sender
        # needs GenerateDataKey and Decrypt); only for that topic.
        statement("AlertTopicToArchive", "Allow", ["kms:Decrypt", "kms:GenerateDataKey*"], "*",
                  principal={"Service": "sns.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceAccount": account},
                             "ArnEquals": {"aws:SourceArn": naming.alert_topic_arn()}}),
        # AWS Config (service-linked role) encrypts configuration snapshots and history in the audit bucket.
        statement("ConfigDelivery", "Allow", ["kms:Decrypt", "kms:GenerateDataKey"], "*",
                  principal={"Service": "config.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceAccount": account}}),
        # Macie encrypts its sensitive-data discovery results in the audit bucket (results repository).
        statement("MacieDiscoveryResults", "Allow", ["kms:Encrypt", "kms:GenerateDataKey"], "*",
                  principal={"Service": "macie.amazonaws.com"},
                  condition={"StringEquals": {"aws:SourceAccount": account},
                             "ArnLike": {"aws:SourceArn": naming.macie_results_source_arns()}}),
    ]
