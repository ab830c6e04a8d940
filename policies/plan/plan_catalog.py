"""The plan gate's catalog: policies/catalog.yaml with the plan checks' entries
(policies/plan/catalog.yaml) added. Every plan check is catalogued and every catalogued plan check
is registered (policies/plan/plan_checks), or the plan gate refuses to judge (exit 2).
"""
from __future__ import annotations

from pathlib import Path

from policies.catalog import CATALOG_FILE, Catalog, load_catalog
from policies.gate_result import GateError
from policies.plan.plan_checks import all_checks

PLAN_CATALOG_FILE = Path(__file__).resolve().parent / "catalog.yaml"
PLAN_CATALOG_DISPLAY = "policies/plan/catalog.yaml"

_catalogs: dict[tuple, Catalog] = {}


def _load_catalog(path: Path | None, display: str | None = None) -> Catalog:
    """`load_catalog`, remembered while the file is unchanged (the YAML takes ~0.5 s to parse)."""
    real = path or CATALOG_FILE
    stat = real.stat() if real.exists() else None
    key = (str(real), display, stat and (stat.st_mtime_ns, stat.st_size))
    if stat is None or key not in _catalogs:
        catalog = load_catalog(path, display)
        if stat is None:
            return catalog
        _catalogs[key] = catalog
    return Catalog(rules=dict(_catalogs[key].rules))


def plan_checks_catalog(plan_catalog_file: Path | None = None) -> Catalog:
    """The plan checks' own entries (policies/plan/catalog.yaml)."""
    plan_file = plan_catalog_file or PLAN_CATALOG_FILE
    return _load_catalog(plan_file, PLAN_CATALOG_DISPLAY if plan_file == PLAN_CATALOG_FILE else plan_file.name)


def load_plan_catalog(catalog_file: Path | None = None, plan_catalog_file: Path | None = None) -> Catalog:
    """The synth gate's catalog with the plan checks' entries added (an ID in both is an error)."""
    catalog = _load_catalog(catalog_file)
    extra = plan_checks_catalog(plan_catalog_file)
    for check_id, rule in extra.rules.items():
        if check_id in catalog.rules:
            raise GateError(f"{PLAN_CATALOG_DISPLAY}: {check_id} is already in policies/catalog.yaml")
        catalog.rules[check_id] = rule
    registered = {c.id for c in all_checks()}
    missing = sorted(registered - set(extra.rules))
    if missing:
        raise GateError(f"plan check(s) without a catalog entry in {PLAN_CATALOG_DISPLAY}: {', '.join(missing)}")
    unregistered = sorted(i for i, rule in extra.section("custom").items() if not rule.checkov and i not in registered)
    if unregistered:
        raise GateError(f"plan check(s) in {PLAN_CATALOG_DISPLAY} are not registered in policies/plan/plan_checks: "
                        f"{', '.join(unregistered)}")
    return catalog


def catalog_files(catalog_file: Path | None = None, plan_catalog_file: Path | None = None) -> list[Path]:
    return [catalog_file or CATALOG_FILE, plan_catalog_file or PLAN_CATALOG_FILE]
