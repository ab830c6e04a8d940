"""AEGIS_PLAN_LOG_VALIDATION_OFF: a CloudTrail trail must keep log file validation (the signed digest
files that prove the audit log was not altered)."""
from __future__ import annotations

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import PlanCheck, fail, ok, plan_check, unknown


@plan_check
class LogValidationOff(PlanCheck):
    id = "AEGIS_PLAN_LOG_VALIDATION_OFF"
    types = ("aws_cloudtrail",)

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace") or not truthy(rc.before.get("enable_log_file_validation")):
            return
        name = rc.before.get("name") or rc.address
        if not truthy((rc.after or {}).get("enable_log_file_validation")) and not unknown(rc, "enable_log_file_validation"):
            yield fail(rc, f"log file validation of trail {name} is turned off: tampering with its logs "
                           "would go unnoticed")
        else:
            yield ok(rc, f"trail {name} keeps log file validation")
