"""AEGIS_TRAIL_DIGEST_DELIVERY: a trail with log file validation can write its digest files.

CloudTrail encrypts log files with the trail's KMS key, but it always writes the digest files of log
file integrity validation with SSE-S3 (`x-amz-server-side-encryption: AES256`), under
`<prefix>/AWSLogs/<account>/CloudTrail-Digest/<region>/…` ("Encrypting CloudTrail log files with AWS KMS
keys", CloudTrail user guide). A bucket policy that requires SSE-KMS on every object denies them: the
trail logs, but nothing can ever prove its logs were not altered.

For each `aws_cloudtrail` with `enable_log_file_validation`, the policy of its destination bucket is
evaluated with policies/iam_eval.py for CloudTrail's digest write (SSE-S3, with the trail as source
ARN and the `bucket-owner-full-control` ACL its writes carry): it must be allowed. And the exemption
must stay that narrow: the same SSE-S3 write of a log file must still be denied. A bucket or policy
the app does not contain, or a policy that is not literal JSON, fails (not judged).
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import attached, buckets_named, region_of
from policies.app_checks.view import AppView, Env, Stack
from policies.checks.aegis_values import policy_document
from policies.iam_eval import ALLOW, DENY, UnsupportedPolicy, as_service, evaluate

CLOUDTRAIL = "cloudtrail.amazonaws.com"
DAY = ("2026", "12", "03")


def delivery_keys(prefix: str, account: str, region: str, trail: str) -> tuple[str, str]:
    """(digest file key, log file key) of one delivery, as CloudTrail names them."""
    base = f"{prefix}/AWSLogs/{account}" if prefix else f"AWSLogs/{account}"
    y, m, d = DAY
    digest = (f"{base}/CloudTrail-Digest/{region}/{y}/{m}/{d}/"
              f"{account}_CloudTrail-Digest_{region}_{trail}_{region}_{y}{m}{d}T000000Z.json.gz")
    log = f"{base}/CloudTrail/{region}/{y}/{m}/{d}/{account}_CloudTrail_{region}_{y}{m}{d}T0000Z_abc.json.gz"
    return digest, log


@app_check("AEGIS_TRAIL_DIGEST_DELIVERY", "A trail with log file validation can write its SSE-S3 digest files")
def trail_digest_delivery(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_cloudtrail"):
            if conf.get("enable_log_file_validation") not in (True, "true"):
                continue
            yield judge(stack.name, f"aws_cloudtrail.{name}", _problems(env, stack, conf),
                        "its bucket admits the SSE-S3 digest files under exactly the digest prefix")


def _problems(env: Env, stack: Stack, conf: dict) -> Iterator[str]:
    bucket, region = conf.get("s3_bucket_name"), region_of(stack, conf)
    if not isinstance(bucket, str) or "${" in bucket or region is None:
        yield "its bucket name or region is not literal: cannot judge the digest delivery"
        return
    found = buckets_named(env, bucket)
    if not found:
        yield f"its bucket {bucket} is not in the app: cannot judge the digest delivery"
        return
    bucket_stack, bucket_name, bucket_conf = found[0]
    policies = attached(bucket_stack, "aws_s3_bucket_policy", "aws_s3_bucket", bucket_name, bucket_conf, "bucket")
    if not policies:
        yield f"bucket {bucket} has no bucket policy: CloudTrail may not write to it"
        return
    doc = policy_document(policies[0][1].get("policy"))
    if doc is None:
        yield f"the policy of bucket {bucket} is not a literal JSON document: cannot judge the digest delivery"
        return
    account = env.naming.account_id
    trail_arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{conf.get('name')}"
    prefix = str(conf.get("s3_key_prefix") or "").strip("/")
    digest, log = delivery_keys(prefix, account, region, str(conf.get("name")))
    context = {"aws:SourceArn": trail_arn, "aws:SourceAccount": account,
               "s3:x-amz-acl": "bucket-owner-full-control", "s3:x-amz-server-side-encryption": "AES256"}
    try:
        digest_decision = evaluate([doc], as_service(CLOUDTRAIL, "s3:PutObject", f"arn:aws:s3:::{bucket}/{digest}",
                                                     context))
        log_decision = evaluate([doc], as_service(CLOUDTRAIL, "s3:PutObject", f"arn:aws:s3:::{bucket}/{log}",
                                                  context))
    except UnsupportedPolicy as exc:
        yield f"the policy of bucket {bucket} cannot be judged: {exc}"
        return
    if digest_decision != ALLOW:
        how = "denies" if digest_decision == DENY else "does not allow"
        yield (f"the policy of bucket {bucket} {how} CloudTrail's SSE-S3 digest files ({digest}): exempt "
               "exactly <prefix>/AWSLogs/<account>/CloudTrail-Digest/ from the KMS-only denies, require AES256 there")
    if log_decision == ALLOW:
        yield (f"the policy of bucket {bucket} also accepts SSE-S3 log files ({log}): the exemption must cover "
               "the digest prefix only, log files stay on the trail's KMS key")
