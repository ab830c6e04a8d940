"""docs/RULES.md, generated from policies/catalog.yaml and policies/plan/catalog.yaml
(`python main.py checks --write-docs`).

A test keeps the committed file equal to `render_rules(load_catalog(), <the plan checks' catalog>)`.
"""
from __future__ import annotations

from collections import Counter

from policies.catalog import FRAMEWORKS, PILLARS, SEVERITIES, Catalog, check_sort_key

_SHORT = {"hipaa": "HIPAA", "nist-800-53": "NIST", "gdpr": "GDPR", "cis": "CIS", "iso27001": "ISO", "pci-dss": "PCI"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _controls(rule) -> str:
    parts = []
    for fw in FRAMEWORKS:
        values = rule.controls[fw]
        parts.append(f"{_SHORT[fw]} {', '.join(values)}" if values else f"{_SHORT[fw]} —")
    return "<br>".join(parts)


def _table(rules) -> list[str]:
    lines = ["| ID | Severity | Check | Controls | Remediation |", "|---|---|---|---|---|"]
    for r in rules:
        source = "" if r.section == "builtin" else " *(Aegis)*"
        lines.append(f"| `{r.id}`{source} | {r.severity} | {_cell(r.title)} | {_controls(r)} | "
                     f"{_cell(r.remediation)} |")
    return lines + [""]


def render_rules(catalog: Catalog, plan: Catalog | None = None) -> str:
    """The synth gate's checks by pillar, then (when given) the plan gate's own checks."""
    rules = sorted(catalog.rules.values(), key=lambda r: check_sort_key(r.id))
    by_sev = Counter(r.severity for r in rules)
    by_section = Counter(r.section for r in rules)
    lines = [
        "# Aegis policy rules",
        "",
        "<!-- Generated from policies/catalog.yaml and policies/plan/catalog.yaml by "
        "`python main.py checks --write-docs`; do not edit. -->",
        "",
        f"{len(rules)} checks: {by_section['builtin']} built-in checkov checks that can fire on the resource "
        f"types Aegis emits (and on module calls, under `gate --path`), and {by_section['custom']} Aegis checks "
        "(checkov custom checks in "
        "`policies/checks/`, app-level checks in `policies/app_checks/`)"
        + (f"; and {len(plan)} plan checks, judged on Terraform plans only (last section)." if plan else "."),
        "",
        "Severities: " + ", ".join(f"{by_sev[s]} {s}" for s in reversed(SEVERITIES)) + ". "
        "An environment fails on findings at or above its `gate.fail_on`. A failing check missing "
        "from the catalog is judged HIGH and reported as uncatalogued.",
        "",
        "Frameworks: " + "; ".join(f"{_SHORT[k]} = {label}" for k, (label, _) in FRAMEWORKS.items()) + ". "
        "— means the framework has no control for this check (the catalog says why).",
        "",
    ]
    for pillar in PILLARS:
        group = [r for r in rules if r.pillar == pillar]
        if not group:
            continue
        lines += [f"## {pillar.capitalize()} pillar ({len(group)})", ""] + _table(group)
    if plan is not None and len(plan):
        plan_rules = sorted(plan.rules.values(), key=lambda r: check_sort_key(r.id))
        lines += [f"## Plan checks ({len(plan_rules)})", "",
                  "Judged only on a Terraform plan (`python main.py plan`, `gate --plan`), beside every check "
                  "above: they compare each resource's `before` with its `after` (policies/plan/plan_checks/, "
                  "catalogued in policies/plan/catalog.yaml). A deletion of a stateful resource is approved "
                  "by exact address in policies/approvals.yaml.", ""] + _table(plan_rules)
    return "\n".join(lines)
