"""The remote state: the key every S3 backend sends is the one the state bucket policy admits."""
from __future__ import annotations

import json
import re

import pytest

from modules.config import load_env
from policies.iam_eval import DENY, Request, evaluate

KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_state_backend_key_is_accepted_by_the_state_bucket_policy(synthesized, env):
    """Terraform sends backend.kms_key_id as the key-id header of every state and lock-file write; the state
    bucket denies s3:PutObject unless that header is the state key's ARN (an alias ARN never is: was denied)."""
    config = load_env(env)
    bootstrap = synthesized.stack(f"{env}-bootstrap")["resource"]
    (state_name, _), = [(n, b) for n, b in bootstrap["aws_s3_bucket"].items() if b["bucket"].endswith(
        f"-tfstate-{config.account_id}-{config.region}")]
    (policy,) = [p for p in bootstrap["aws_s3_bucket_policy"].values() if state_name in p["bucket"]]
    # After bootstrap the state key's ARN is what config records: put it where the policy references the key.
    (key_name,) = [n for n, k in bootstrap["aws_kms_key"].items() if "provider" not in k]
    document = policy["policy"].replace("${aws_kms_key." + key_name + ".arn}", config.backend.kms_key_id)
    assert "${" not in document
    for stack in ("data", "platform", "access", "governance"):
        s3 = synthesized.stack(f"{env}-{stack}")["terraform"]["backend"]["s3"]
        bucket = s3["bucket"]
        for key in (s3["key"], s3["key"] + ".tflock"):
            request = Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", {
                "aws:SecureTransport": "true", "s3:TlsVersion": "1.3", "s3:x-amz-server-side-encryption": "aws:kms",
                KEY_HEADER: s3["kms_key_id"]})
            assert evaluate([json.loads(document)], request) != DENY, (stack, key)


def test_state_key_arn_format_is_what_s3_compares(synthesized):
    for env in ("staging", "prod"):
        assert re.fullmatch(r"arn:aws:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}", load_env(env).backend.kms_key_id)


def test_bootstrap_publishes_the_key_arn_to_record(synthesized, env):
    outputs = synthesized.stack(f"{env}-bootstrap")["output"]
    assert re.fullmatch(r"\$\{aws_kms_key\.kms-state_key_[0-9A-F]{8}\.arn\}", outputs["state-kms-key-arn"]["value"])
