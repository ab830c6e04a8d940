"""AEGIS_PLAN_KMS_KEY_DISABLED: a KMS key must not be scheduled for deletion, disabled, or lose
automatic rotation.

Terraform destroys a KMS key by scheduling its deletion (after the deletion window, everything
encrypted with it is unreadable for good), so a delete or replace of a key is a deletion; an
approval of the key's address (policies/approvals.yaml) covers it, as it covers
AEGIS_PLAN_STATEFUL_DELETE for the same key. Disabling a key (`is_enabled` → false) stops every
decrypt at once; turning `enable_key_rotation` off weakens the key from then on.
"""
from __future__ import annotations

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import PlanCheck, fail, plan_check, unknown, verdict

KEY_TYPES = ("aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key")


@plan_check
class KmsKeyDisabled(PlanCheck):
    id = "AEGIS_PLAN_KMS_KEY_DISABLED"
    types = KEY_TYPES

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        name = rc.before.get("description") or rc.before.get("key_id") or rc.address
        if rc.deletes:
            window = rc.before.get("deletion_window_in_days")
            when = f" in {window} days" if window else ""
            yield fail(rc, f"KMS key '{name}' ({rc.before.get('arn') or rc.address}) will be scheduled for deletion"
                           f"{when}{' (replaced)' if rc.is_replace else ''}: data encrypted with it becomes unreadable",
                       deletion=True)
            return
        after = rc.after or {}
        problems = []
        if rc.before.get("is_enabled", True) is not False and after.get("is_enabled", True) is False \
                and not unknown(rc, "is_enabled"):
            problems.append(f"KMS key '{name}' is disabled: every decrypt with it fails")
        if truthy(rc.before.get("enable_key_rotation")) and not truthy(after.get("enable_key_rotation")) \
                and not unknown(rc, "enable_key_rotation") and rc.type == "aws_kms_key":
            problems.append(f"automatic rotation of KMS key '{name}' is turned off")
        yield verdict(rc, problems, f"KMS key '{name}' stays enabled")
