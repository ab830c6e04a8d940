"""The state bucket from bootstrap and the published images and artifacts, against moto's S3 and ECR."""
from __future__ import annotations

import base64
import hashlib

import boto3
import pytest

from policies.preflight.checks.serving_inputs import artifacts, images
from policies.preflight.checks.state_backend import state_backend
from tests.policies.preflight.conftest import context

PROD = "777788889999"
STATE_KEY = "arn:aws:kms:eu-west-1:777788889999:key/9a4e7c1b-2d5f-4b8a-b3e6-1c7f0d9a2e58"  # environments/prod.yaml


@pytest.fixture
def prod(in_account, mocked, synthesized):
    in_account(PROD)
    return lambda: context("prod", synthesized)


def state_bucket(key_id: str = STATE_KEY, versioned: bool = True) -> str:
    s3, name = boto3.client("s3", region_name="eu-west-1"), f"aegis-prod-tfstate-{PROD}-eu-west-1"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id}}]})
    return name


def test_missing_state_bucket_says_to_bootstrap_first(prod):
    (check,) = state_backend(prod())
    assert check.status == "fail" and "does not exist" in check.found
    assert "python main.py apply --env prod --stack bootstrap" in check.fix


def test_state_bucket_matching_the_backend_passes(prod):
    state_bucket()
    (check,) = state_backend(prod())
    assert check.status == "pass" and STATE_KEY in check.found


def test_state_bucket_with_another_key_or_no_versioning_fails(prod):
    other = STATE_KEY.replace("9a4e7c1b", "00000000")
    state_bucket(other, versioned=False)
    (check,) = state_backend(prod())
    assert check.status == "fail"
    assert "versioning is not enabled" in check.found and f"not the backend's key {STATE_KEY}" in check.found


def test_local_backend_has_nothing_to_check(in_account, mocked, synthesized):
    in_account("111122223333")
    (check,) = state_backend(context("dev", synthesized))
    assert check.status == "pass" and "local backend" in check.found


def test_images_before_the_data_stack_warn_and_a_missing_digest_fails(prod):
    checks = {c.id: c for c in images(prod())}
    assert {c.status for c in checks.values()} == {"warn"}  # repositories come with prod-data
    ecr = boto3.client("ecr", region_name="eu-west-1")
    ecr.create_repository(repositoryName="aegis-prod-fraud-scorer")
    check = {c.id: c for c in images(prod())}["serving.image.fraud-scorer"]
    assert check.status == "fail" and "has no image sha256:17612f29" in check.found


def test_artifact_checksum_must_equal_artifact_sha256(prod):
    s3 = boto3.client("s3", region_name="eu-west-1")
    bucket = f"aegis-prod-model-artifacts-{PROD}-eu-west-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    ctx = prod()
    model = next(m for m in ctx.config.platform.models if m.name == "doc-classifier")
    body = b"not the published artifact"
    s3.put_object(Bucket=bucket, Key=model.artifact_key(), Body=body, ChecksumAlgorithm="SHA256")
    checks = {c.id: c for c in artifacts(ctx)}
    check = checks["serving.artifact.doc-classifier"]
    assert check.status == "fail" and hashlib.sha256(body).hexdigest() in check.found
    assert model.artifact_sha256 in check.found
    assert checks["serving.artifact.fraud-scorer"].status == "fail"  # bucket exists, object missing
    assert "does not exist" in checks["serving.artifact.fraud-scorer"].found


def test_artifact_with_the_published_checksum_passes(in_account, mocked, synthesized):
    in_account("111122223333")
    s3 = boto3.client("s3", region_name="eu-west-1")
    bucket = "aegis-dev-model-artifacts-111122223333-eu-west-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    ctx = context("dev", synthesized)
    for model in ctx.config.platform.models:
        s3.put_object(Bucket=bucket, Key=model.artifact_key(), Body=model.name.encode(), ChecksumAlgorithm="SHA256")
    checks = artifacts(ctx)
    assert {c.status for c in checks} == {"pass"}, [c.found for c in checks]
    digest = base64.b64encode(hashlib.sha256(b"fraud-scorer").digest()).decode()
    assert base64.b64decode(digest).hex() in next(c.found for c in checks if c.id.endswith("fraud-scorer"))
