"""AEGIS_BUCKET_SERVICE_GRANTS_BOUND: every bucket-policy grant to an AWS service names this account's source (the
cross-service confused deputy), in the bucket policy resource and in the bucket's own `policy`."""
from __future__ import annotations

import json

import pytest

from tests.policies.app_checks.helpers import app, config, fails_on, failures, run, verdict

CHECK = "AEGIS_BUCKET_SERVICE_GRANTS_BOUND"
ACCOUNT = config("dev").account_id
OTHER = "444455556666"
BUCKET = f"arn:aws:s3:::aegis-dev-audit-{ACCOUNT}-eu-west-1"


def service_grant(condition: dict | None, service: str = "config.amazonaws.com") -> dict:
    statement = {"Sid": "Delivery", "Effect": "Allow", "Principal": {"Service": service},
                 "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"}
    return {**statement, "Condition": condition} if condition is not None else statement


def policy_app(statement: dict, inline: bool = False) -> dict:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    bucket = {"bucket": BUCKET.removeprefix("arn:aws:s3:::"), **({"policy": policy} if inline else {})}
    resources = {"aws_s3_bucket": {"audit": bucket}}
    if not inline:
        resources["aws_s3_bucket_policy"] = {"audit": {"bucket": "${aws_s3_bucket.audit.id}", "policy": policy}}
    return app("dev", data={"resource": resources})


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    {"StringEquals": {"aws:SourceAccount": [ACCOUNT]}, "ArnLike": {"aws:SourceArn": f"arn:aws:config:*:{OTHER}:*"}},
    {"StringEquals": {"aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/aegis-dev-trail"}},
    {"ArnLike": {"aws:SourceArn": [f"arn:aws:macie2:eu-west-1:{ACCOUNT}:export-configuration:*"]}},
])
def test_a_grant_bound_to_this_account_passes(condition):
    assert verdict(run(CHECK, policy_app(service_grant(condition))), "aws_s3_bucket_policy.audit")


@pytest.mark.parametrize("condition", [
    None,
    {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
    {"StringEquals": {"aws:SourceAccount": OTHER}},
    {"StringEquals": {"aws:SourceAccount": [ACCOUNT, OTHER]}},
    {"StringNotEquals": {"aws:SourceAccount": OTHER}},  # negated: every other account still matches
    {"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}},
    {"StringEquals": {"aws:SourceAccount": []}},
])
def test_an_unbound_grant_fails(condition):
    assert "Delivery" in fails_on(run(CHECK, policy_app(service_grant(condition))), "aws_s3_bucket_policy.audit")


def test_the_buckets_own_policy_is_judged_and_a_grant_to_a_role_is_not_a_service_grant():
    assert "Delivery" in fails_on(run(CHECK, policy_app(service_grant(None), inline=True)), "aws_s3_bucket.audit")
    role = {**service_grant(None), "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/reader"}}
    assert not run(CHECK, policy_app(role))  # nothing to judge: no finding either way


def test_a_policy_that_is_not_literal_is_never_passed():
    stacks = policy_app(service_grant(None))
    stacks["dev-data"]["resource"]["aws_s3_bucket_policy"]["audit"]["policy"] = "${data.aws_iam_policy_document.p.json}"
    assert "not judged" in fails_on(run(CHECK, stacks), "aws_s3_bucket_policy.audit")


def test_every_shipped_bucket_policy_binds_its_service_grants(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names}
    results = run(CHECK, stacks)
    assert len(results) >= 6 and all(r.passed for r in results), failures(results)
