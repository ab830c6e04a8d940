"""AEGIS_PLAN_PUBLIC_ACCESS_LOOSENED: an S3 public access block (bucket or account) must not lose a
setting. Any of the four going from true to false, or destroying the block while its bucket stays,
opens a path to public data."""
from __future__ import annotations

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import PlanCheck, fail, ok, plan_check, unknown, verdict

SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")


@plan_check
class PublicAccessLoosened(PlanCheck):
    id = "AEGIS_PLAN_PUBLIC_ACCESS_LOOSENED"
    types = ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block")

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        on = [s for s in SETTINGS if truthy(rc.before.get(s))]
        if not on:
            return
        scope = f"bucket {rc.before.get('bucket')}" if rc.type == "aws_s3_bucket_public_access_block" else "the account"
        if rc.kind == "delete":
            if rc.type == "aws_s3_bucket_public_access_block" and ctx.destroys("aws_s3_bucket", rc.before.get("bucket")):
                yield ok(rc, f"removed together with {scope}")
            else:
                yield fail(rc, f"destroying the public access block of {scope} drops {', '.join(on)}")
            return
        after = rc.after or {}
        off = [s for s in on if not unknown(rc, s) and not truthy(after.get(s))]
        yield verdict(rc, [f"public access block of {scope} loosened: {', '.join(off)} go from true to false"
                           if off else ""], f"public access block of {scope} kept")
