"""What the serving stack pulls: each model version's image in its ECR repository (by digest, or by the
version tag) and its artifact in the model-artifacts bucket with a full-object SHA-256 equal to
`artifact_sha256`. The repositories and the bucket come with `<env>-data`, so before its first apply
their absence is expected (warn: publish between the data and platform applies); once they exist, a
missing or different image or artifact makes the platform plan stop (fail)."""
from __future__ import annotations

import base64
from functools import partial

from botocore.exceptions import ClientError

from modules.platform.published import base64_sha256
from modules.serving import KINDS
from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

PUBLISHING = "README: Publishing a model"


def images(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for model in ctx.config.platform.models:
        if not KINDS[model.serving].image:
            continue
        check_id, title = f"serving.image.{model.name}", f"The image of {model.name} {model.version} is in ECR"
        checks += attempt(check_id, title, partial(_image, ctx, model, check_id, title))
    return checks


def _image(ctx: Context, model, check_id: str, title: str) -> Check:
    repository = ctx.naming.model_repository(model.name)
    wanted = {"imageDigest": model.image_digest} if model.image_digest else {"imageTag": model.version}
    what = model.image_digest or f"tag {model.version}"
    try:
        found = ctx.aws.client("ecr").describe_images(repositoryName=repository, imageIds=[wanted])["imageDetails"]
    except ClientError as exc:
        if error_code(exc) == "RepositoryNotFoundException":
            return Check(check_id, title, "warn", f"repository {repository} does not exist yet",
                         f"apply {ctx.config.name}-data, then publish {what} before the platform stack ({PUBLISHING})")
        if error_code(exc) == "ImageNotFoundException":
            found = []
        else:
            raise
    if not found:
        return Check(check_id, title, "fail", f"{repository} has no image {what}",
                     f"publish it and set image_digest to the digest ECR reports ({PUBLISHING})")
    tags = found[0].get("imageTags", [])
    if model.image_digest and model.version not in tags:
        return Check(check_id, title, "fail", f"{model.image_digest} in {repository} is tagged {', '.join(tags) or 'nothing'}, "
                                              f"not {model.version}: image_digest names another version",
                     f"set image_digest to the digest of {model.version}")
    return Check(check_id, title, "pass", f"{repository}@{found[0]['imageDigest']} ({model.version})")


def artifacts(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for model in ctx.config.platform.models:
        check_id, title = f"serving.artifact.{model.name}", f"The artifact of {model.name} {model.version} is in S3"
        checks += attempt(check_id, title, partial(_artifact, ctx, model, check_id, title))
    return checks


def _artifact(ctx: Context, model, check_id: str, title: str) -> Check:
    bucket, key = ctx.naming.bucket("model-artifacts"), model.artifact_key()
    uri = f"s3://{bucket}/{key}"
    upload = (f"aws s3api put-object --bucket {bucket} --key {key} --checksum-algorithm SHA256 "
              "--content-type application/octet-stream --if-none-match '*' --body FILE")
    try:
        head = ctx.aws.client("s3").head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED",
                                                ExpectedBucketOwner=ctx.account_id)
    except ClientError as exc:
        code = error_code(exc)
        if code not in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            raise
        if not _bucket_exists(ctx, bucket):
            return Check(check_id, title, "warn", f"bucket {bucket} does not exist yet",
                         f"apply {ctx.config.name}-data, then upload the artifact: {upload}")
        return Check(check_id, title, "fail", f"{uri} does not exist", f"upload it with its checksum: {upload}")
    checksum = head.get("ChecksumSHA256")
    if not checksum or head.get("ChecksumType") == "COMPOSITE" or "-" in str(checksum):
        return Check(check_id, title, "fail", f"{uri} has no full-object SHA-256 checksum",
                     f"upload it again in one request: {upload}")
    if model.artifact_sha256 and checksum != base64_sha256(model.artifact_sha256):
        return Check(check_id, title, "fail", f"the SHA-256 of {uri} is {base64.b64decode(checksum).hex()}, "
                                              f"not artifact_sha256 {model.artifact_sha256}",
                     "upload the artifact of this version, or set artifact_sha256 to what was published")
    return Check(check_id, title, "pass", f"{uri} (sha256 {base64.b64decode(checksum).hex()})")


def _bucket_exists(ctx: Context, bucket: str) -> bool:
    try:
        ctx.aws.client("s3").head_bucket(Bucket=bucket, ExpectedBucketOwner=ctx.account_id)
    except ClientError as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


PROBES = [("serving.image", "Published images", images), ("serving.artifact", "Published artifacts", artifacts)]
