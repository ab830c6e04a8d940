"""The custom plan checks: one per file, each compares `before` with `after` of `resource_changes`.

Each module defines `CHECK`, a `PlanCheck` with a catalog ID (policies/plan/catalog.yaml). The
list is explicit so the order of results is stable and a new file cannot be skipped silently
(a test compares it with the folder).
"""
from __future__ import annotations

import importlib

from policies.plan.plan_checks._base import Context, PlanCheck, PlanResult

MODULES = (
    "stateful_delete",
    "encryption",
    "versioning",
    "object_lock",
    "log_validation",
    "detectors",
    "public_access",
    "open_ingress",
    "iam_widened",
    "kms_key_state",
    "endpoint_resilience",
)


def all_checks() -> list[PlanCheck]:
    return [importlib.import_module(f"{__name__}.{name}").CHECK for name in MODULES]


def run_checks(ctx: Context) -> list[tuple[str, PlanResult]]:
    """(check ID, result) of every plan check on one plan."""
    out = []
    for check in all_checks():
        for result in check.run(ctx):
            out.append((check.id, result))
    return out


__all__ = ["Context", "PlanCheck", "PlanResult", "MODULES", "all_checks", "run_checks"]
