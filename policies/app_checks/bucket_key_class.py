"""AEGIS_BUCKET_KEY_CLASS: each data bucket is encrypted by default with its own data class's key.

datasets → training, model-artifacts → model, inference → inference, audit → audit
(modules/naming.py BUCKETS); the access-log bucket uses SSE-S3, the only encryption S3 server
access logging and ALB logs can deliver to. The key is resolved through the alias that targets
it, not guessed from a name; a key that cannot be resolved to a class fails. Judged for the home
region buckets (which must exist) and the DR replicas when present.
"""
from __future__ import annotations

from modules.naming import BUCKETS
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import attached, buckets_named, key_class_of
from policies.app_checks.view import AppView, nested, one


@app_check("AEGIS_BUCKET_KEY_CLASS", "Each data bucket is encrypted with its own data class's KMS key")
def bucket_key_class(app: AppView):
    for env in app.envs:
        naming = env.naming
        for purpose, key_class in BUCKETS.items():
            for region in (naming.region, naming.dr_region):
                bucket_name = naming.bucket(purpose, region)
                found = buckets_named(env, bucket_name)
                if not found and region == naming.region:
                    yield fail(env.home_stack("data"), "", f"no {purpose} bucket ({bucket_name})")
                for stack, name, conf in found:
                    sse = attached(stack, "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket",
                                   name, conf, "bucket")
                    yield judge(stack.name, f"aws_s3_bucket.{name}",
                                _problems(env, stack, sse, key_class),
                                f"{purpose} bucket uses the {key_class or 'SSE-S3'} encryption of its class")


def _problems(env, stack, sse, key_class):
    if not sse:
        yield "no default encryption configuration"
        return
    for _, conf in sse:
        for rule in nested(conf, "rule"):
            default = one(rule, "apply_server_side_encryption_by_default") or {}
            algorithm = default.get("sse_algorithm")
            if key_class is None:
                if algorithm != "AES256":
                    yield f"sse_algorithm {algorithm!r}: log targets must use SSE-S3 (AES256)"
                continue
            if algorithm not in ("aws:kms", "aws:kms:dsse"):
                yield f"sse_algorithm {algorithm!r} is not KMS"
                continue
            found = key_class_of(env, stack, default.get("kms_master_key_id"))
            if found != key_class:
                yield (f"default key resolves to {found or 'no known class'}; the bucket needs the "
                       f"{key_class} data key")
