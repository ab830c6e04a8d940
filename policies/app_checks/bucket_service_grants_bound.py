"""AEGIS_BUCKET_SERVICE_GRANTS_BOUND: a bucket policy's grants to AWS services are bound to this account.

A service principal (`cloudtrail.amazonaws.com`) acts for every AWS account: a grant to it without a
source condition lets the service write into the bucket on behalf of anyone's trail, config recorder or
load balancer (the cross-service confused deputy, IAM user guide). Each Allow to a service must carry a
positive condition (StringEquals/StringLike/ArnEquals/ArnLike) on `aws:SourceAccount` naming this account
only, or on `aws:SourceArn` with ARNs of this account only.

AWS Config's S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE cannot hold this: its control policy cannot require one
of the two keys (the comparison does not relate them, and CloudTrail's grants are bound by aws:SourceArn,
the others by aws:SourceAccount). A policy that is not literal JSON fails (not judged).
"""
from __future__ import annotations

from typing import Any, Iterator

from policies.app_checks.base import Result, app_check, fail, ok
from policies.app_checks.iam import allow_statements
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, policy_document

POSITIVE = ("StringEquals", "StringLike", "ArnEquals", "ArnLike")


@app_check("AEGIS_BUCKET_SERVICE_GRANTS_BOUND", "Bucket policy grants to AWS services are bound to the account")
def bucket_service_grants_bound(app: AppView) -> Iterator[Result]:
    for env in app.envs:
        account = env.config.account_id
        policies = [(stack, f"aws_s3_bucket_policy.{name}", conf.get("policy"))
                    for stack, name, conf in env.resources("aws_s3_bucket_policy")]
        policies += [(stack, f"aws_s3_bucket.{name}", conf["policy"])
                     for stack, name, conf in env.resources("aws_s3_bucket") if conf.get("policy")]
        for stack, address, raw in policies:
            doc = policy_document(raw)
            if doc is None:
                yield fail(stack.name, address, "the bucket policy is not a literal JSON document: service grants "
                           "not judged")
                continue
            unbound = [str(stmt.get("Sid", "?")) for stmt in allow_statements(doc)
                       if _services(stmt) and not _bound(stmt.get("Condition"), account)]
            if unbound:
                yield fail(stack.name, address, f"statement(s) {', '.join(unbound)} grant an AWS service without "
                           f"binding it to account {account}: add aws:SourceAccount = {account} (or aws:SourceArn "
                           "of this account's resource) so no other account's resource can use the grant")
            elif any(_services(stmt) for stmt in allow_statements(doc)):
                yield ok(stack.name, address, f"every grant to an AWS service is bound to account {account}")


def _services(stmt: dict) -> list[str]:
    principal = stmt.get("Principal")
    return [str(s) for s in as_list(principal.get("Service"))] if isinstance(principal, dict) else []


def _bound(condition: Any, account: str) -> bool:
    if not isinstance(condition, dict):
        return False
    for operator, pairs in condition.items():
        if operator not in POSITIVE or not isinstance(pairs, dict):
            continue
        for key, values in pairs.items():
            values = [str(v) for v in as_list(values)]
            if not values:
                continue
            if key.lower() == "aws:sourceaccount" and all(v == account for v in values):
                return True
            if key.lower() == "aws:sourcearn" and all(_arn_account(v) == account for v in values):
                return True
    return False


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) >= 6 and parts[0] == "arn" else None
