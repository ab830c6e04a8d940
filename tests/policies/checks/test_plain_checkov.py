"""The pack works without Aegis: plain `checkov --external-checks-dir policies/checks` runs the Python
checks and the YAML graph policies (whose only tests are here: graph policies need a checkov run).

One offline checkov run over a small hand-made CDKTF-style folder (without `terraform.required_version`,
which plain checkov 3.3.30 cannot parse; the gate handles that).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.policies.checks.helpers import ACCOUNT, INFERENCE_KEY, TRAINING_KEY, doc

ROOT = Path(__file__).resolve().parents[3]
CHECKS = ROOT / "policies" / "checks"
BUCKET = "arn:aws:s3:::aegis-dev-datasets-111122223333-eu-west-1"
TLS_POLICY = doc(
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}})
EFS_POLICY = doc({"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
                  "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
KEY_POLICY = doc({"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                  "Action": "kms:*", "Resource": "*"})

STACK = {
    "terraform": {"required_providers": {"aws": {"source": "aws", "version": "6.25.0"}}},
    "provider": {"aws": [{"region": "eu-west-1"}]},
    "data": {"aws_kms_key": {"kms-inference": {"key_id": "alias/aegis-dev-inference"}}},
    "resource": {
        "aws_lb": {
            "alb_guarded": {"name": "guarded", "internal": True, "load_balancer_type": "application"},
            "alb_naked": {"name": "naked", "internal": True, "load_balancer_type": "application"},
            "nlb": {"name": "nlb", "internal": True, "load_balancer_type": "network"},
        },
        "aws_wafv2_web_acl_association": {"guard": {"resource_arn": "${aws_lb.alb_guarded.arn}",
                                                    "web_acl_arn": "arn:aws:wafv2:eu-west-1:1:regional/webacl/x/y"}},
        "aws_s3_bucket": {"bucket_with_policy": {"bucket": "a"}, "bucket_without_policy": {"bucket": "b"}},
        "aws_s3_bucket_policy": {"tls_policy": {"bucket": "${aws_s3_bucket.bucket_with_policy.id}",
                                                "policy": TLS_POLICY}},
        "aws_kms_key": {"key_with_alias": {"policy": KEY_POLICY}, "key_without_alias": {"policy": KEY_POLICY}},
        "aws_kms_alias": {"alias": {"name": "alias/aegis-dev-inference",
                                    "target_key_id": "${aws_kms_key.key_with_alias.key_id}"}},
        "aws_efs_file_system": {"efs_with_policy": {"encrypted": True, "kms_key_id": INFERENCE_KEY},
                                "efs_without_policy": {"encrypted": True, "kms_key_id": INFERENCE_KEY}},
        "aws_efs_file_system_policy": {"efs_tls": {"file_system_id": "${aws_efs_file_system.efs_with_policy.id}",
                                                   "policy": EFS_POLICY}},
        "aws_sagemaker_endpoint_configuration": {
            "ec_training_key": {"name": "x", "kms_key_arn": TRAINING_KEY, "production_variants": [
                {"variant_name": "p", "model_name": "m", "serverless_config": {"max_concurrency": 1,
                                                                                "memory_size_in_mb": 1024}}]}},
    },
}

EXPECTED = {
    ("CKV2_AEGIS_1", "aws_lb.alb_guarded"): "passed",
    ("CKV2_AEGIS_1", "aws_lb.alb_naked"): "failed",
    ("CKV2_AEGIS_1", "aws_lb.nlb"): "passed",
    ("CKV2_AEGIS_2", "aws_s3_bucket.bucket_with_policy"): "passed",
    ("CKV2_AEGIS_2", "aws_s3_bucket.bucket_without_policy"): "failed",
    ("CKV2_AEGIS_3", "aws_kms_key.key_with_alias"): "passed",
    ("CKV2_AEGIS_3", "aws_kms_key.key_without_alias"): "failed",
    ("CKV2_AEGIS_4", "aws_efs_file_system.efs_with_policy"): "passed",
    ("CKV2_AEGIS_4", "aws_efs_file_system.efs_without_policy"): "failed",
    # Python checks (checkov 3.3.30 names terraform_json Python results `resource.<name>`).
    ("CKV_AEGIS_7", "tls_policy"): "passed",
    ("CKV_AEGIS_17", "efs_tls"): "passed",
    ("CKV_AEGIS_13", "efs_with_policy"): "passed",
    ("CKV_AEGIS_8", "key_without_alias"): "passed",
    ("CKV_AEGIS_1", "ec_training_key"): "failed",
}


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory) -> dict[tuple[str, str], str]:
    folder = tmp_path_factory.mktemp("plain") / "stacks" / "dev-platform"
    folder.mkdir(parents=True)
    (folder / "cdk.tf.json").write_text(json.dumps(STACK, indent=2))
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true", BC_SKIP_MAPPING="TRUE",
               CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    checkov = Path(sys.executable).parent / "checkov"
    proc = subprocess.run(
        [str(checkov), "-d", str(folder.parent.parent), "--framework", "terraform_json", "--external-checks-dir",
         str(CHECKS), "--skip-download", "-o", "json", "--compact"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] == 0
    out = {}
    for status in ("passed", "failed"):
        for record in report["results"][f"{status}_checks"]:
            if "AEGIS" in record["check_id"]:
                resource = record["resource"].removeprefix("resource.")
                out[(record["check_id"], resource)] = status
    return out


def test_plain_checkov_runs_python_checks_and_graph_policies(plain_run):
    wrong = {k: (v, plain_run.get(k)) for k, v in EXPECTED.items() if plain_run.get(k) != v}
    assert not wrong, f"expected vs got: {wrong}"


def test_every_pack_file_loads(plain_run):
    ids = {check_id for check_id, _ in plain_run}
    assert {"CKV2_AEGIS_1", "CKV2_AEGIS_2", "CKV2_AEGIS_3", "CKV2_AEGIS_4"} <= ids
