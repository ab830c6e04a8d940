"""AEGIS_LOG_DELIVERY_WITHOUT_HEADERS: log delivery services can write, although they send no encryption header.

S3 server access logging (`logging.s3.amazonaws.com`) and Elastic Load Balancing's access logs
(`logdelivery.elasticloadbalancing.amazonaws.com`) write with no `x-amz-server-side-encryption` header:
the object gets the bucket's default encryption (ELB user guide, "Enable access logs"; S3 user guide,
"Enabling Amazon S3 server access logging"). A bucket policy deny on `StringNotEquals…` of that header
matches an absent key too (IAM user guide, "Condition operators": a negated operator, `…IfExists`
included, is true when the key is missing), so it refuses every delivery: no access logs arrive, and
ELB refuses to enable logging at all (its test write fails) so the load balancer's apply fails.

For every bucket policy statement that allows one of these services `s3:PutObject`, the whole policy is
evaluated with policies/iam_eval.py for the service's write under that statement's prefix with no
encryption header (it must be allowed) and with a wrong one, `aws:kms` on an SSE-S3 log bucket (it must
still be denied: the bucket's encryption is enforced for whoever names one). A policy that is not literal
JSON fails (not judged).
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import allow_statements
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, policy_document
from policies.iam_eval import ALLOW, UnsupportedPolicy, as_service, evaluate

HEADERLESS_WRITERS = ("logging.s3.amazonaws.com", "logdelivery.elasticloadbalancing.amazonaws.com")


@app_check("AEGIS_LOG_DELIVERY_WITHOUT_HEADERS",
           "Log delivery services that send no encryption header can write to their buckets")
def log_delivery_without_headers(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_s3_bucket_policy"):
            doc = policy_document(conf.get("policy"))
            if doc is None:
                yield judge(stack.name, f"aws_s3_bucket_policy.{name}",
                            ["the policy is not a literal JSON document: cannot judge log delivery"], "")
                continue
            grants = [(service, stmt) for stmt in allow_statements(doc) for service in _writers(stmt)]
            if grants:
                yield judge(stack.name, f"aws_s3_bucket_policy.{name}", _problems(doc, grants),
                            "the log delivery services it admits can write without encryption headers")


def _writers(stmt: dict) -> list[str]:
    principal = stmt.get("Principal")
    services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
    actions = as_list(stmt.get("Action"))
    return [s for s in services if s in HEADERLESS_WRITERS and ("s3:PutObject" in actions or "s3:*" in actions)]


def _sample_context(stmt: dict) -> dict:
    """The request context the statement's own conditions describe (the first listed value of each key)."""
    context: dict = {}
    for values in (stmt.get("Condition") or {}).values():
        for key, value in values.items():
            first = as_list(value)[0] if as_list(value) else value
            context[key] = first
    return context


def _problems(doc: dict, grants: list[tuple[str, dict]]) -> Iterator[str]:
    for service, stmt in grants:
        for resource in as_list(stmt.get("Resource")):
            key = str(resource).replace("*", "2026/12/03/log-object")
            context = _sample_context(stmt)
            try:
                plain = evaluate([doc], as_service(service, "s3:PutObject", key, context))
                named = evaluate([doc], as_service(service, "s3:PutObject", key, {
                    **context, "s3:x-amz-server-side-encryption": "aws:kms"}))
            except UnsupportedPolicy as exc:
                yield f"the policy cannot be judged for {service}: {exc}"
                continue
            if plain != ALLOW:
                yield (f"{service} cannot write {key} without an encryption header, which it never sends: deny "
                       "only requests that name an encryption (add Null s3:x-amz-server-side-encryption false)")
            if named == ALLOW and "DenyNonS3Encryption" in _sids(doc):
                yield f"a write to {key} naming SSE-KMS is allowed: the log bucket's SSE-S3 rule no longer holds"


def _sids(doc: dict) -> set[str]:
    statements = doc.get("Statement", [])
    return {s.get("Sid", "") for s in (statements if isinstance(statements, list) else [statements])
            if isinstance(s, dict)}
