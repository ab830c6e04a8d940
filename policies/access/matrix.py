"""The access matrix as reports carry it: per environment, every principal × capability with its
effective value, the intended one, the verdict of the cell and the path that proves it.

Verdicts: `ok`; `violation` (effective, but the intent forbids it); `missing` (a must-have that is
not effective); `undeclared` (the role matches no principal of policies/access_matrix.yaml);
`cannot-judge` (the gate errors on any such cell, so a saved report only shows it after an error).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policies.access.analysis import Cell, EnvAccess, RoleResult
from policies.access.intent import Intent

if TYPE_CHECKING:
    from policies.app_checks.view import AppView


def verdict(cell: Cell, intended: str) -> str:
    if cell.effective is None:
        return "cannot-judge"
    if intended == "undeclared":
        return "undeclared" if cell.effective else "ok"
    if cell.effective and intended == "must-not":
        return "violation"
    if not cell.effective and intended == "must":
        return "missing"
    return "ok"


def intended(intent: Intent, access: EnvAccess, result: RoleResult, capability: str) -> str:
    if result.role.declared is None:
        return "undeclared"
    return intent.principals[result.role.declared].expectations[access.model.tier].intended(capability)


def env_matrix(intent: Intent, access: EnvAccess) -> dict[str, Any]:
    rows = []
    tally = {"violation": 0, "missing": 0, "undeclared": 0, "cannot-judge": 0}
    for result in sorted(access.results, key=lambda r: (r.role.declared or "~", r.role.name)):
        cells = {}
        for capability in access.capabilities:
            cell = result.cells[capability]
            wanted = intended(intent, access, result, capability)
            judged = verdict(cell, wanted)
            if judged in tally:
                tally[judged] += 1
            entry: dict[str, Any] = {"effective": cell.effective, "intended": wanted, "verdict": judged}
            if cell.effective is not False:
                entry["path"] = cell.path
            if cell.problem:
                entry["problem"] = cell.problem
            cells[capability] = entry
        rows.append({"role": result.role.name, "principal": result.role.declared, "stack": result.role.stack,
                     "address": result.role.address, "cells": cells})
    return {"tier": access.model.tier, "capabilities": list(access.capabilities), "principals": rows,
            "counts": tally}


def access_matrix_of(app: "AppView") -> dict[str, dict]:
    """env → matrix, from what the app-level checks computed on this view (empty when they did not run)."""
    envs = app.memo.get("access")
    intent = app.memo.get("access_intent")
    if not envs or intent is None:
        return {}
    return {name: env_matrix(intent, access) for name, access in sorted(envs.items())}
