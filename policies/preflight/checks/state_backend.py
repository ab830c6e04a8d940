"""The state bucket and key that `<env>-bootstrap` created, against what the stacks' S3 backend sends:
the bucket exists in the backend's region, is versioned, and encrypts by default with the key the backend
names (the bucket policy admits only that key's ARN in the encryption header). The backend blocks come
from the synthesized stacks."""
from __future__ import annotations

from functools import partial

from botocore.exceptions import ClientError

from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

TITLE = "The state bucket from bootstrap matches the backend"
BOOTSTRAP = "python main.py apply --env {env} --stack bootstrap"


def state_backend(ctx: Context) -> list[Check]:
    backends = {(b["bucket"], b.get("region"), b.get("kms_key_id")) for b in
                (ctx.backend(s) for s in sorted(ctx.stacks)) if b}
    if not backends:
        return [Check("state.backend", TITLE, "pass", "local backend: state stays on this machine")]
    checks: list[Check] = []
    for bucket, region, key_id in sorted(backends, key=str):
        checks += attempt(f"state.backend.{bucket}", TITLE, partial(_judge, ctx, bucket, region, key_id))
    return checks


def _judge(ctx: Context, bucket: str, region: str | None, key_id: str | None) -> Check:
    check_id = f"state.backend.{bucket}"
    s3 = ctx.aws.client("s3", region)
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=ctx.account_id)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return Check(check_id, TITLE, "fail", f"state bucket {bucket} does not exist in {region}",
                         f"bootstrap first: {BOOTSTRAP.format(env=ctx.config.name)}")
        if error_code(exc) in ("403", "AccessDenied"):
            return Check(check_id, TITLE, "fail", f"state bucket {bucket} is not this account's, or the role may not "
                                                  "read it (403)", "check the bucket's owner and policy")
        raise
    problems = []
    versioning = s3.get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=ctx.account_id).get("Status")
    if versioning != "Enabled":
        problems.append("versioning is not enabled (state history could be lost)")
    rules = s3.get_bucket_encryption(Bucket=bucket, ExpectedBucketOwner=ctx.account_id)[
        "ServerSideEncryptionConfiguration"]["Rules"]
    default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
    if key_id is None:
        return Check(check_id, TITLE, "fail",
                     f"state bucket {bucket} exists, but backend.kms_key_id is not recorded: the other stacks cannot "
                     "be planned", "set backend.kms_key_id to the bootstrap output state-kms-key-arn"
                     + (f" ({default['KMSMasterKeyID']})" if str(default.get("KMSMasterKeyID", "")).startswith(
                         "arn:aws:kms:") else ""),
                     (("backend.kms_key_id", default["KMSMasterKeyID"]),)
                     if str(default.get("KMSMasterKeyID", "")).startswith("arn:aws:kms:") else ())
    if default.get("SSEAlgorithm") != "aws:kms" or default.get("KMSMasterKeyID") != key_id:
        problems.append(f"default encryption is {default.get('SSEAlgorithm')} with "
                        f"{default.get('KMSMasterKeyID') or 'no key'}, not the backend's key {key_id}")
    if problems:
        return Check(check_id, TITLE, "fail", f"state bucket {bucket}: " + "; ".join(problems),
                     "record the key bootstrap created (output state-kms-key-arn) in backend.kms_key_id, or "
                     f"re-apply bootstrap: {BOOTSTRAP.format(env=ctx.config.name)}")
    return Check(check_id, TITLE, "pass", f"state bucket {bucket} in {region}: versioned, encrypted with {key_id}")


PROBES = [("state.backend", TITLE, state_backend)]
