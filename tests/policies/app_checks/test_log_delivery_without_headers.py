"""AEGIS_LOG_DELIVERY_WITHOUT_HEADERS both ways: a log bucket's encryption denies must spare the header-less
writes of S3 server access logging and load balancer access logs, and still refuse a wrong named encryption."""
from __future__ import annotations

import json

from modules.data.bucket_policy import access_log_delivery, transport_and_encryption_denies
from modules.iam_doc import document
from modules.naming import Naming
from policies.iam_eval import ALLOW, DENY, as_service, evaluate
from tests.policies.app_checks.helpers import app, broken, config, failures, run

CHECK = "AEGIS_LOG_DELIVERY_WITHOUT_HEADERS"
DEV = Naming.of(config("dev"))
BUCKET = f"arn:aws:s3:::{DEV.bucket('access-logs')}"
SOURCE = f"arn:aws:s3:::{DEV.bucket('datasets')}"


def log_bucket_policy() -> str:
    return document(*transport_and_encryption_denies(BUCKET, None),
                    *access_log_delivery(BUCKET, DEV.account_id, [SOURCE]))


def policy_app(policy: str) -> dict:
    return app("dev", data={"resource": {"aws_s3_bucket_policy": {"logs": {"bucket": "x", "policy": policy}}}})


def test_the_generated_log_bucket_policy_admits_header_less_delivery():
    results = run(CHECK, policy_app(log_bucket_policy()), "dev")
    assert results and all(r.passed for r in results), failures(results)


def test_header_less_access_log_write_is_allowed_and_a_wrong_header_denied():
    doc = json.loads(log_bucket_policy())
    context = {"aws:SourceAccount": DEV.account_id, "aws:SourceArn": SOURCE}
    key = f"{BUCKET}/s3/2026-12-03-log"
    assert evaluate([doc], as_service("logging.s3.amazonaws.com", "s3:PutObject", key, context)) == ALLOW
    named = {**context, "s3:x-amz-server-side-encryption": "aws:kms"}
    assert evaluate([doc], as_service("logging.s3.amazonaws.com", "s3:PutObject", key, named)) == DENY


def test_a_deny_matching_absent_headers_fails():
    doc = json.loads(log_bucket_policy())
    for stmt in doc["Statement"]:
        stmt.get("Condition", {}).pop("Null", None)  # the shape before the fix
    message = " ".join(failures(run(CHECK, policy_app(json.dumps(doc)), "dev")))
    assert "without an encryption header" in message and "logging.s3.amazonaws.com" in message
    assert "logdelivery.elasticloadbalancing.amazonaws.com" in message


def test_a_policy_that_also_accepts_sse_kms_on_the_log_bucket_fails():
    doc = json.loads(log_bucket_policy())
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "DenyNonS3Encryption"]
    doc["Statement"].append({"Sid": "DenyNonS3Encryption", "Effect": "Deny", "Principal": "*",
                             "Action": "s3:PutObject", "Resource": f"{BUCKET}/nothing/*"})
    assert "naming SSE-KMS is allowed" in " ".join(failures(run(CHECK, policy_app(json.dumps(doc)), "dev")))


def test_an_unreadable_policy_is_not_judged():
    assert "cannot judge" in " ".join(failures(run(CHECK, policy_app("${data.aws_iam_policy_document.x.json}"),
                                                   "dev")))


def test_fires_on_the_access_log_bucket_synthesized_before_the_fix():
    results = run(CHECK, broken("log_delivery_denied"), "dev")
    message = " ".join(failures(results))
    assert "logging.s3.amazonaws.com cannot write" in message
    assert "logdelivery.elasticloadbalancing.amazonaws.com cannot write" in message
