"""AEGIS_OBJECT_LOCK_BUCKETS: model-artifact and audit buckets have object lock with a default
retention in the configured mode, and COMPLIANCE mode in prod.

Deployed model weights and the audit trail must be tamper-proof: nobody may overwrite a served
model or delete the evidence. GOVERNANCE mode can be lifted by a privileged user, so prod (tier
`prod`) requires COMPLIANCE; every environment must use the mode and at least the retention its
config asks for (`data.object_lock`). Judged for the home buckets (which must exist) and their DR
replicas when present.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import attached, buckets_named
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import as_int, is_true

LOCKED = ("model-artifacts", "audit")


@app_check("AEGIS_OBJECT_LOCK_BUCKETS", "Model and audit buckets have object lock (COMPLIANCE in prod)")
def object_lock_buckets(app: AppView):
    for env in app.envs:
        naming = env.naming
        for purpose in LOCKED:
            for region in (naming.region, naming.dr_region):
                bucket_name = naming.bucket(purpose, region)
                found = buckets_named(env, bucket_name)
                if not found and region == naming.region:
                    yield fail(env.home_stack("data"), "", f"no {purpose} bucket ({bucket_name})")
                for stack, name, conf in found:
                    locks = attached(stack, "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket", name, conf,
                                     "bucket")
                    yield judge(stack.name, f"aws_s3_bucket.{name}", _problems(env, conf, locks),
                                f"{purpose} bucket is object-locked in {env.config.data.object_lock.mode} mode")


def _problems(env, bucket, locks):
    wanted = env.config.data.object_lock
    if not is_true(bucket.get("object_lock_enabled")):
        yield "object_lock_enabled is not true"
    if not locks:
        yield "no object lock configuration with a default retention"
        return
    retention = one(one(locks[0][1], "rule"), "default_retention") or {}
    mode = retention.get("mode")
    if env.prod and mode != "COMPLIANCE":
        yield f"prod requires COMPLIANCE mode (have {mode!r})"
    elif mode != wanted.mode:
        yield f"mode {mode!r} differs from the configured {wanted.mode}"
    days = as_int(retention.get("days"))
    years = as_int(retention.get("years"))
    period = days if days is not None else (years * 365 if years is not None else None)
    if period is None or period < wanted.retention_days:
        yield f"default retention {period} days is below the configured {wanted.retention_days} days"
