"""AEGIS_PLAN_OBJECT_LOCK_SHORTENED: object lock default retention must not get shorter or weaker.

`aws_s3_bucket_object_lock_configuration` (`rule.default_retention` days or years, mode) and the
legacy inline `object_lock_configuration` / `object_lock_enabled` of `aws_s3_bucket`. Shorter
retention, COMPLIANCE → GOVERNANCE (governance-mode locks can be lifted), a removed default
retention, or a destroyed configuration (the bucket itself staying) are regressions.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import PlanCheck, fail, first, ok, plan_check, unknown, verdict

RETENTION = "rule.*.default_retention.*"


def retention(values_: dict, prefix: str = "") -> tuple[int, str | None]:
    """(days, mode) of the default retention; (0, None) when there is none."""
    days = first(values_, f"{prefix}{RETENTION}.days")
    years = first(values_, f"{prefix}{RETENTION}.years")
    mode = first(values_, f"{prefix}{RETENTION}.mode")
    total = (int(days) if isinstance(days, (int, float)) else 0) + (int(years) * 365 if isinstance(years, (int, float)) else 0)
    return total, mode


def _describe(days: int, mode: str | None) -> str:
    return f"{days} days {mode or ''}".strip() if days else "no default retention"


@plan_check
class ObjectLockShortened(PlanCheck):
    id = "AEGIS_PLAN_OBJECT_LOCK_SHORTENED"
    types = ("aws_s3_bucket_object_lock_configuration", "aws_s3_bucket")

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        prefix = "object_lock_configuration.*." if rc.type == "aws_s3_bucket" else ""
        if rc.type == "aws_s3_bucket" and rc.kind == "delete":
            return  # the bucket itself goes: AEGIS_PLAN_STATEFUL_DELETE judges that
        was_days, was_mode = retention(rc.before, prefix)
        lock_was = rc.before.get("object_lock_enabled") in (True, "Enabled")
        if not was_days and not lock_was:
            return
        bucket = rc.before.get("bucket") or rc.before.get("id") or rc.address
        if rc.kind == "delete":
            if ctx.destroys("aws_s3_bucket", bucket):
                yield ok(rc, f"removed together with bucket {bucket}")
            else:
                yield fail(rc, f"destroying the object lock configuration drops the default retention "
                               f"({_describe(was_days, was_mode)}) of bucket {bucket}")
            return
        after = rc.after or {}
        if any(unknown(rc, f"{prefix}{RETENTION}.{attr}") for attr in ("days", "years", "mode")):
            yield fail(rc, f"the new default retention of bucket {bucket} is known only after apply")
            return
        now_days, now_mode = retention(after, prefix)
        problems = []
        if now_days < was_days:
            problems.append(f"default retention of bucket {bucket} shortened from {_describe(was_days, was_mode)} "
                            f"to {_describe(now_days, now_mode)}")
        if was_mode == "COMPLIANCE" and now_days and now_mode != "COMPLIANCE":
            problems.append(f"object lock mode of bucket {bucket} weakened from COMPLIANCE to {now_mode}")
        if lock_was and after.get("object_lock_enabled") not in (True, "Enabled") and not unknown(rc, "object_lock_enabled"):
            problems.append(f"object lock turned off on bucket {bucket}")
        yield verdict(rc, problems, f"default retention of bucket {bucket} kept ({_describe(now_days, now_mode)})")
