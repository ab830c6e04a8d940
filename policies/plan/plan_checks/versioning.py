"""AEGIS_PLAN_VERSIONING_SUSPENDED: bucket versioning must not go from Enabled to Suspended.

`aws_s3_bucket_versioning` (status, MFA delete) and the legacy inline `versioning` block of
`aws_s3_bucket`. Destroying an `aws_s3_bucket_versioning` whose status is Enabled suspends
versioning on the bucket (the provider's documented behaviour), unless the bucket goes too.
"""
from __future__ import annotations

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import PlanCheck, fail, first, ok, plan_check, unknown, verdict

STATUS = "versioning_configuration.*.status"
MFA = "versioning_configuration.*.mfa_delete"


@plan_check
class VersioningSuspended(PlanCheck):
    id = "AEGIS_PLAN_VERSIONING_SUSPENDED"
    types = ("aws_s3_bucket_versioning", "aws_s3_bucket")

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        if rc.type == "aws_s3_bucket":
            if rc.kind == "delete":
                return  # the bucket itself goes: AEGIS_PLAN_STATEFUL_DELETE judges that
            was = truthy(first(rc.before, "versioning.*.enabled", False))
            now = truthy(first(rc.after or {}, "versioning.*.enabled", False))
            if was and not now and not unknown(rc, "versioning.*.enabled"):
                yield fail(rc, "versioning.enabled goes from true to false: object versions stop being kept")
            elif was:
                yield ok(rc, "versioning stays enabled")
            return
        enabled = first(rc.before, STATUS) == "Enabled"
        if not enabled:
            return
        bucket = rc.before.get("bucket")
        if rc.kind == "delete":
            if ctx.destroys("aws_s3_bucket", bucket):
                yield ok(rc, f"removed together with bucket {bucket}")
            else:
                yield fail(rc, f"destroying the versioning resource suspends versioning on bucket {bucket}")
            return
        problems = []
        status = first(rc.after or {}, STATUS)
        if status != "Enabled" and not unknown(rc, STATUS):
            problems.append(f"versioning status goes from Enabled to {status or 'unset'} on bucket {bucket}")
        if first(rc.before, MFA) == "Enabled" and first(rc.after or {}, MFA) != "Enabled" and not unknown(rc, MFA):
            problems.append(f"MFA delete is turned off on bucket {bucket}")
        yield verdict(rc, problems, f"versioning stays Enabled on bucket {bucket}")
