"""CKV_AEGIS_18: an S3 object lock configuration sets a default retention.

Object lock protects deployed model artifacts and audit logs from being overwritten or deleted
(model tampering, evidence destruction). Without a default retention rule, objects are only
protected when each writer remembers to ask. Required: `object_lock_enabled = Enabled` and a
`rule.default_retention` with a mode (GOVERNANCE or COMPLIANCE) and a positive `days` or `years`.
Which buckets need it, and COMPLIANCE mode in prod, is judged by AEGIS_OBJECT_LOCK_BUCKETS (environment-aware).
A mode or period given by an expression the check cannot resolve (`try(var.…)`, as modules write a
configuration that exists only when a variable asks for it) could not be evaluated.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, block, is_reference, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, block, is_reference, value


class S3ObjectLockDefaultRetention(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_18", "S3 object lock configuration sets a default retention mode and period",
            ["aws_s3_bucket_object_lock_configuration"], [CheckCategories.BACKUP_AND_RECOVERY])

    def evaluate(self, conf):
        self.evaluated_keys = ["object_lock_enabled", "rule"]
        if is_reference(value(conf, "object_lock_enabled")):
            return self.not_evaluated(f"object_lock_enabled is {value(conf, 'object_lock_enabled')}, which this "
                                      "check cannot resolve")
        if value(conf, "object_lock_enabled", "Enabled") != "Enabled":
            return self.fail("object_lock_enabled is not 'Enabled'")
        retention = block(block(conf, "rule"), "default_retention")
        if retention is None:
            return self.fail("no rule.default_retention: objects are not locked unless each writer asks")
        unresolved = [k for k in ("mode", "days", "years")
                      if is_reference(value(retention, k)) or isinstance(value(retention, k), (dict, list))]
        if unresolved:
            return self.not_evaluated(f"default retention {', '.join(unresolved)} is an expression this check "
                                      f"cannot resolve ({value(retention, unresolved[0])})")
        if value(retention, "mode") not in ("GOVERNANCE", "COMPLIANCE"):
            return self.fail(f"default retention mode {value(retention, 'mode')!r} is not GOVERNANCE or COMPLIANCE")
        period = [as_int(value(retention, k)) for k in ("days", "years") if value(retention, k) is not None]
        if not period or any(p is None or p < 1 for p in period):
            return self.fail("default retention needs a literal days or years value of at least 1")
        return CheckResult.PASSED


check = S3ObjectLockDefaultRetention()
