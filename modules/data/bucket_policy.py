"""Bucket policy statements: deny non-TLS, deny TLS < 1.2, deny puts that bypass the bucket's key,
plus narrowly-scoped grants for the AWS services that deliver into a bucket.

CloudTrail encrypts log files with the trail's KMS key but always writes its digest files (log file
integrity validation) with SSE-S3 ("Encrypting CloudTrail log files with AWS KMS keys", CloudTrail
user guide). So the audit bucket requires SSE-S3 under exactly the digest prefix, and its key everywhere
else.

The encryption denies judge only requests that name an encryption (`Null` … `false`): a request that
sends no encryption header gets the bucket's default encryption, and a negated condition operator
(`StringNotEquals…IfExists` included) matches an absent key, so without that guard the deny would
refuse the writers that never send one: S3 server access logging and load balancer access logs
(IAM user guide, "Condition operators"; AEGIS_LOG_DELIVERY_WITHOUT_HEADERS)."""
from __future__ import annotations

from modules.grants import deny_insecure_transport
from modules.iam_doc import Statement, statement
from modules.naming import TRAIL_PREFIX

# The AWS services these statements let deliver into a bucket, and every action they are granted:
# bucket_policy_ceiling is built from them.
S3_ACCESS_LOGS = "logging.s3.amazonaws.com"
LB_ACCESS_LOGS = "logdelivery.elasticloadbalancing.amazonaws.com"
CLOUDTRAIL = "cloudtrail.amazonaws.com"
CONFIG = "config.amazonaws.com"
MACIE = "macie.amazonaws.com"
DELIVERY_SERVICES = (CLOUDTRAIL, CONFIG, LB_ACCESS_LOGS, S3_ACCESS_LOGS, MACIE)
DELIVERY_ACTIONS = ("s3:GetBucketAcl", "s3:GetBucketLocation", "s3:ListBucket", "s3:PutObject")

# Only requests that name an encryption: one that names none gets the bucket's default encryption.
NAMES_AN_ENCRYPTION = {"Null": {"s3:x-amz-server-side-encryption": "false"}}


def cloudtrail_digest_prefix(account_id: str) -> str:
    """Where CloudTrail writes the digest files of this account's trail (a multi-region trail writes one
    folder per region below it)."""
    return f"{TRAIL_PREFIX}/AWSLogs/{account_id}/CloudTrail-Digest/"


def transport_and_encryption_denies(bucket_arn: str, kms_key_arn: str | None,
                                    sse_s3_prefixes: tuple[str, ...] = ()) -> list[Statement]:
    """`sse_s3_prefixes`: object key prefixes where a service writes with SSE-S3 although the bucket's
    default is its KMS key (CloudTrail digests): there SSE-S3 is required instead of the key."""
    objects = f"{bucket_arn}/*"
    denies = [
        deny_insecure_transport("s3:*", [bucket_arn, objects]),
        statement("DenyOutdatedTls", "Deny", "s3:*", [bucket_arn, objects], principal="*",
                  condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}),
    ]
    if kms_key_arn:
        # NotResource: this bucket's objects outside the exempt prefixes (a bucket policy applies only
        # to its own bucket). An exempt prefix gets its own SSE-S3 rule below instead.
        exempt = [f"{bucket_arn}/{prefix}*" for prefix in sse_s3_prefixes]
        kms_objects = {"resources": exempt, "not_resources": True} if exempt else {"resources": objects}
        denies += [
            # No header: the bucket default (this key). A named encryption must be SSE-KMS with this key
            # (aws:kms without a key id would mean the AWS managed key aws/s3, so it is refused too).
            statement("DenyNonKmsEncryption", "Deny", "s3:PutObject", **kms_objects, principal="*",
                      condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"},
                                 **NAMES_AN_ENCRYPTION}),
            statement("DenyOtherKmsKeys", "Deny", "s3:PutObject", **kms_objects, principal="*",
                      condition={"StringNotEqualsIfExists": {
                          "s3:x-amz-server-side-encryption-aws-kms-key-id": kms_key_arn}, **NAMES_AN_ENCRYPTION}),
        ]
        if exempt:
            denies.append(statement(
                "DenyNonS3EncryptionOfServiceDigests", "Deny", "s3:PutObject", exempt, principal="*",
                condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"},
                           **NAMES_AN_ENCRYPTION}))
    else:
        denies.append(statement("DenyNonS3Encryption", "Deny", "s3:PutObject", objects, principal="*",
                                condition={"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"},
                                           **NAMES_AN_ENCRYPTION}))
    return denies


def access_log_delivery(bucket_arn: str, account_id: str, source_bucket_arns: list[str]) -> list[Statement]:
    """S3 server access logs and load-balancer access logs, only from this account."""
    return [
        statement("S3ServerAccessLogDelivery", "Allow", "s3:PutObject", f"{bucket_arn}/s3/*",
                  principal={"Service": S3_ACCESS_LOGS},
                  condition={"StringEquals": {"aws:SourceAccount": account_id},
                             "ArnLike": {"aws:SourceArn": source_bucket_arns}}),
        statement("LoadBalancerAccessLogDelivery", "Allow", "s3:PutObject",
                  f"{bucket_arn}/alb/AWSLogs/{account_id}/*",
                  principal={"Service": LB_ACCESS_LOGS},
                  condition={"StringEquals": {"aws:SourceAccount": account_id}}),
    ]


def audit_log_delivery(bucket_arn: str, account_id: str, trail_arn: str,
                       macie_source_arns: list[str]) -> list[Statement]:
    """CloudTrail, AWS Config and Macie delivery into the audit bucket, bound to this account
    (and to this trail, and to Macie's export configuration or classification jobs)."""
    source = {"StringEquals": {"aws:SourceAccount": account_id}}
    macie = {"StringEquals": {"aws:SourceAccount": account_id}, "ArnLike": {"aws:SourceArn": macie_source_arns}}
    return [
        statement("CloudTrailAclCheck", "Allow", "s3:GetBucketAcl", bucket_arn,
                  principal={"Service": CLOUDTRAIL},
                  condition={"StringEquals": {"aws:SourceArn": trail_arn}}),
        statement("CloudTrailWrite", "Allow", "s3:PutObject", f"{bucket_arn}/{TRAIL_PREFIX}/AWSLogs/{account_id}/*",
                  principal={"Service": CLOUDTRAIL},
                  condition={"StringEquals": {"aws:SourceArn": trail_arn,
                                              "s3:x-amz-acl": "bucket-owner-full-control"}}),
        statement("ConfigAclCheck", "Allow", ["s3:GetBucketAcl", "s3:ListBucket"], bucket_arn,
                  principal={"Service": CONFIG}, condition=source),
        statement("ConfigWrite", "Allow", "s3:PutObject", f"{bucket_arn}/config/AWSLogs/{account_id}/Config/*",
                  principal={"Service": CONFIG},
                  condition={"StringEquals": {"aws:SourceAccount": account_id,
                                              "s3:x-amz-acl": "bucket-owner-full-control"}}),
        statement("MacieBucketLocation", "Allow", "s3:GetBucketLocation", bucket_arn,
                  principal={"Service": MACIE}, condition=macie),
        statement("MacieDiscoveryResults", "Allow", "s3:PutObject", f"{bucket_arn}/macie/*",
                  principal={"Service": MACIE}, condition=macie),
    ]


def bucket_policy_ceiling(account_id: str) -> dict:
    """The most a bucket policy of this account may grant: anything to the account's own principals, and
    the delivery actions to the delivery services above. AWS Config's S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE
    compares every bucket policy of its region with it (Zelkova), so a grant to another account or to
    everyone, or any other action for a service, is reported. The services' grant carries no condition
    on purpose: the real grants are narrowed by aws:SourceArn (CloudTrail) or aws:SourceAccount, and a
    ceiling that named one of those keys would not contain a grant narrowed only by the other (the
    comparison knows nothing of how the two keys relate)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ThisAccount", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
         "Action": "s3:*", "Resource": "arn:aws:s3:::*"},
        {"Sid": "DeliveryServices", "Effect": "Allow", "Principal": {"Service": sorted(DELIVERY_SERVICES)},
         "Action": list(DELIVERY_ACTIONS), "Resource": "arn:aws:s3:::*"},
    ]}
