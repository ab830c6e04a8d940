"""AEGIS_STATE_BACKEND_KEY: every S3 state backend sends a KMS key that the state bucket's policy admits.

Terraform's S3 backend sends `kms_key_id` verbatim as the `x-amz-server-side-encryption-aws-kms-key-id`
header of every state object and lock file it writes. The state bucket policy that the bootstrap stack
writes denies `s3:PutObject` unless that condition key equals the state key; S3 documents the value of
`s3:x-amz-server-side-encryption-aws-kms-key-id` as a key ARN (`arn:aws:kms:<region>:<account>:key/<id>`),
so an alias name, an alias ARN or a bare key id never matches and every plan and apply is denied.

For each stack of an environment with an S3 backend: `kms_key_id` must be a key ARN in the env's account
and in the state bucket's region; the bucket must be one the environment's bootstrap stack creates; and
every Deny of `s3:PutObject` in that bucket's policy conditioned on the key-id header must admit the
backend's value: a literal equal to it, or the ARN of an `aws_kms_key` of the bootstrap stack (known only
after apply, which is why the backend's ARN is recorded in config after bootstrap). A missing key, an
unresolvable policy, or a bucket of another origin fails: the check never passes what it could not judge.
"""
from __future__ import annotations

from typing import Any, Iterator

from modules.config import KMS_KEY_ARN
from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import attached, region_of
from policies.app_checks.view import AppView, Env, Stack, ref
from policies.checks.aegis_values import as_list, document

KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
NEGATED = ("StringNotEquals", "StringNotEqualsIfExists", "ArnNotEquals", "ArnNotEqualsIfExists", "ArnNotLike",
           "ArnNotLikeIfExists", "StringNotLike", "StringNotLikeIfExists")


@app_check("AEGIS_STATE_BACKEND_KEY", "The S3 state backend's KMS key is the key ARN the state bucket policy admits")
def state_backend_key(app: AppView):
    for env in app.envs:
        for stack in env.stacks.values():
            s3 = ((stack.doc.get("terraform") or {}).get("backend") or {}).get("s3")
            if not isinstance(s3, dict):
                continue
            yield judge(stack.name, "", _problems(env, s3),  # the backend is the stack's own setting
                        "the backend's key ARN is the one the state bucket policy admits")


def _problems(env: Env, s3: dict) -> Iterator[str]:
    key = s3.get("kms_key_id")
    region, account = str(s3.get("region")), env.config.account_id
    if not isinstance(key, str) or not key:
        yield ("no kms_key_id: apply the bootstrap stack and record its state key's ARN as backend.kms_key_id "
               "(without it the state is not written with the state key the bucket policy requires)")
        return
    match = KMS_KEY_ARN.match(key)
    if match is None:
        yield (f"kms_key_id {key!r} is not a key ARN: S3 compares {KEY_HEADER} with the state key's ARN, so an "
               "alias, alias ARN or key id is denied on every state write")
        return
    if match["account"] != account or match["region"] != region:
        yield (f"kms_key_id is a key in {match['account']}/{match['region']}, not in the state bucket's "
               f"account and region ({account}/{region})")
    bootstrap = env.stack("bootstrap")
    bucket_name = s3.get("bucket")
    buckets = [(n, c) for n, c in sorted((bootstrap.resources("aws_s3_bucket") if bootstrap else {}).items())
               if c.get("bucket") == bucket_name]
    if bootstrap is None or not buckets:
        yield f"state bucket {bucket_name!r} is not created by this environment's bootstrap stack: its policy is not judged"
        return
    name, conf = buckets[0]
    if region_of(bootstrap, conf) != region:
        yield f"state bucket {bucket_name} is not in the backend's region {region}"
    policies = attached(bootstrap, "aws_s3_bucket_policy", "aws_s3_bucket", name, conf, "bucket")
    if not policies:
        yield f"state bucket {bucket_name} has no bucket policy in the bootstrap stack"
    for policy_name, policy in policies:
        yield from _admits(bootstrap, f"aws_s3_bucket_policy.{policy_name}", policy.get("policy"), key, region)


def _admits(bootstrap: Stack, label: str, raw: Any, key: str, region: str) -> Iterator[str]:
    doc = document(raw)
    if doc is None:
        yield f"{label} is not a literal policy document: not judged"
        return
    statements = doc.get("Statement", [])
    for stmt in statements if isinstance(statements, list) else [statements]:
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Deny":
            continue
        actions = {str(a).lower() for a in as_list(stmt.get("Action"))}
        if not actions & {"s3:putobject", "s3:*", "*"}:
            continue
        for operator, values in (stmt.get("Condition") or {}).items():
            if not isinstance(values, dict) or KEY_HEADER not in {k.lower() for k in values}:
                continue
            admitted = next(v for k, v in values.items() if k.lower() == KEY_HEADER)
            if operator not in NEGATED:
                yield f"{label} statement {stmt.get('Sid', '?')} denies on {KEY_HEADER} with {operator}: not judged"
                continue
            problem = _admitted(bootstrap, as_list(admitted), key, region)
            if problem:
                yield f"{label} statement {stmt.get('Sid', '?')}: {problem}"


def _admitted(bootstrap: Stack, values: list, key: str, region: str) -> str | None:
    """None when the backend's key is one of the values a Deny-unless condition admits."""
    for admitted in values:
        if admitted == key:
            return None
        target = ref(admitted)
        state_key = bootstrap.lookup("aws_kms_key", target[1]) if target and target[2] == "arn" else None
        if target and target[0] == "aws_kms_key" and state_key is not None and \
                region_of(bootstrap, state_key) == region:
            return None  # the bootstrap key's ARN, known once applied: the recorded backend key stands for it
    return f"admits only {values}, never the backend's {key}"
