"""Planned changes per stack: how many resources are created, updated, replaced, deleted, left alone.

Counted over managed resources (data-source reads are not changes). A replace is counted once, as a
replace (it also destroys the old object: the data-loss check treats it as a delete). `forget`
(removed from state, kept in the account) appears only when a plan has one.
"""
from __future__ import annotations

from collections import Counter

from policies.plan.plan_json import Plan

KINDS = ("create", "update", "replace", "delete", "no-op")
CHANGING = ("create", "update", "replace", "delete", "forget")


def summarize(plan: Plan) -> dict[str, int]:
    counted = Counter(rc.kind for rc in plan.changes if rc.managed)
    out = {kind: counted.get(kind, 0) for kind in KINDS}
    if counted.get("forget"):
        out["forget"] = counted["forget"]
    return out


def has_changes(summary: dict[str, int]) -> bool:
    return any(summary.get(kind, 0) for kind in CHANGING)


def describe(summary: dict[str, int]) -> str:
    """`2 to create, 1 to update, 0 to replace, 1 to delete, 12 unchanged` (Terraform's wording)."""
    parts = [f"{summary.get(k, 0)} to {k}" for k in ("create", "update", "replace", "delete")]
    if summary.get("forget"):
        parts.append(f"{summary['forget']} to forget")
    return ", ".join(parts) + f", {summary.get('no-op', 0)} unchanged"


def table(rows: dict[str, dict[str, int]]) -> list[str]:
    """A fixed-width table: one row per stack, one column per kind."""
    kinds = list(KINDS) + (["forget"] if any("forget" in r for r in rows.values()) else [])
    width = max([len("stack")] + [len(s) for s in rows]) + 2
    lines = [f"{'stack':<{width}}" + "".join(f"{k:>9}" for k in kinds)]
    for stack, counts in rows.items():
        lines.append(f"{stack:<{width}}" + "".join(f"{counts.get(k, 0):>9}" for k in kinds))
    return lines
