"""AEGIS_MANAGED_OBJECT_NOT_LOCKED: no object Terraform manages sits in a bucket with object-lock default
retention.

Terraform replaces an `aws_s3_object` whenever its key or content changes (a new function package, a new
hash) and deletes the old one with all its versions. S3 refuses to delete a version still under retention,
so the apply stops, and every later change to that object fails until the retention ends (COMPLIANCE: a
year in prod). Object Lock default retention applies to the whole bucket (no prefix can be excluded), so
objects that change with the code belong in a bucket without it (the `code` bucket). Artifacts that must
stay immutable are published outside Terraform and only read by it.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import attached
from policies.app_checks.view import AppView, Env, one


def _locked_buckets(env: Env) -> set[str]:
    """Names of this environment's buckets whose object lock configuration has a default retention."""
    names = set()
    for stack, name, conf in env.resources("aws_s3_bucket"):
        for _, lock in attached(stack, "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket", name, conf,
                                "bucket"):
            if one(one(lock, "rule"), "default_retention"):
                names.add(conf.get("bucket"))
    names.discard(None)
    return names


@app_check("AEGIS_MANAGED_OBJECT_NOT_LOCKED", "Terraform-managed S3 objects are not in an object-locked bucket")
def managed_object_not_locked(app: AppView):
    for env in app.envs:
        locked = _locked_buckets(env)
        for stack, name, conf in env.resources("aws_s3_object"):
            bucket = stack.resolve(conf.get("bucket"))
            problems = []
            if bucket in locked:
                problems.append(f"bucket {bucket} has object-lock default retention: replacing this object "
                                "(on any change) must delete a locked version, which S3 refuses")
            elif not isinstance(bucket, str) or "${" in bucket:
                problems.append(f"bucket {bucket!r} cannot be resolved, so it cannot be shown to be unlocked")
            yield judge(stack.name, f"aws_s3_object.{name}", problems,
                        f"object is in bucket {bucket}, which has no object-lock default retention")
