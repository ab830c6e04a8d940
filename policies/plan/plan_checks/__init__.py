"""The custom plan checks: one per file, each compares `before` with `after` of `resource_changes`.

Each module defines one `PlanCheck` subclass registered with `@plan_check` and an ID catalogued in
policies/plan/catalog.yaml; `all_checks()` imports every module of the package
(policies/check_registry.py), so a new file cannot be skipped silently. The plan gate runs them
in the catalog's order (`run_checks(ctx, order)`): when two checks report the same deletion, the
first one names the approval that covers it.
"""
from __future__ import annotations

from typing import Iterable

from policies.plan.plan_checks._base import REGISTRY, Context, PlanCheck, PlanResult, plan_check


def all_checks() -> list[PlanCheck]:
    """Every plan check, by ID (importing every module of the package first)."""
    return REGISTRY.load()


def run_checks(ctx: Context, order: Iterable[str] = ()) -> list[tuple[str, PlanResult]]:
    """(check ID, result) of every plan check on one plan: the checks whose IDs `order` lists
    first, in that order, then the others by ID."""
    rank = {check_id: index for index, check_id in enumerate(order)}
    out = []
    for check in sorted(all_checks(), key=lambda c: (rank.get(c.id, len(rank)), c.id)):
        for result in check.run(ctx):
            out.append((check.id, result))
    return out


__all__ = ["Context", "PlanCheck", "PlanResult", "REGISTRY", "all_checks", "plan_check", "run_checks"]
