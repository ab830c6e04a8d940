"""Shared views of a gate result for the writers: counts, rules, ordering."""
from __future__ import annotations

from collections import Counter, defaultdict

from policies.catalog import FRAMEWORKS, SEVERITIES
from policies.findings import FAILED, NOT_EVALUATED, PASSED, SUPPRESSED, Finding

TOOL = "aegis-gate"
ORDER = tuple(reversed(SEVERITIES))  # critical first


def counts(findings: list[Finding]) -> dict:
    """Overall counts: passed, failed, suppressed, blocking, and failed per severity."""
    by_status = Counter(f.status for f in findings)
    failed = Counter(f.severity for f in findings if f.status == FAILED)
    return {
        "checks": len(findings),
        "passed": by_status[PASSED],
        "failed": by_status[FAILED],
        "suppressed": by_status[SUPPRESSED],
        "not_evaluated": by_status[NOT_EVALUATED],
        "blocking": sum(f.blocking for f in findings),
        "failed_by_severity": {s: failed[s] for s in ORDER},
        "uncatalogued": len({f.check_id for f in findings if not f.catalogued and f.status == FAILED}),
    }


def matrix(findings: list[Finding]) -> dict[tuple[str, str], dict]:
    """(env, pillar) → {severity: failed count, passed, suppressed, blocking}."""
    cells: dict[tuple[str, str], dict] = defaultdict(lambda: {**{s: 0 for s in ORDER}, "passed": 0,
                                                              "suppressed": 0, "not_evaluated": 0, "blocking": 0})
    for f in findings:
        cell = cells[(f.env or "-", f.pillar or "-")]
        if f.status == FAILED:
            cell[f.severity] += 1
            cell["blocking"] += f.blocking
        else:
            cell[f.status] += 1
    return dict(sorted(cells.items()))


def failures(findings: list[Finding]) -> list[Finding]:
    """Unsuppressed failures, most severe first, blocking before non-blocking."""
    return sorted((f for f in findings if f.status == FAILED),
                  key=lambda f: (not f.blocking, ORDER.index(f.severity), f.env or "", f.stack, f.check_id,
                                 f.address))


def rules(result) -> dict[str, dict]:
    """Metadata of every check that has a result: id → {title, severity, pillar, remediation, controls}."""
    out: dict[str, dict] = {}
    for f in result.findings:
        if f.check_id in out:
            continue
        out[f.check_id] = {"title": f.title, "severity": f.severity, "pillar": f.check_pillar,
                           "remediation": f.remediation, "controls": f.controls, "catalogued": f.catalogued}
    return dict(sorted(out.items()))


def not_evaluated(findings: list[Finding]) -> list[Finding]:
    """What a check could not evaluate (`gate --path`, not strict), most severe first."""
    return sorted((f for f in findings if f.status == NOT_EVALUATED),
                  key=lambda f: (ORDER.index(f.severity), f.stack, f.check_id, f.address))


def shows_construct(f: Finding) -> bool:
    """A construct path worth a column: not empty and not the address again (hand-written Terraform)."""
    return bool(f.construct_path) and f.construct_path not in (f.address, f.stack, f"{f.stack}/{f.address}")


def artifact_uri(result, file: str) -> str:
    """A finding's file as code scanning maps it: from the repository root when the gate knew it
    (`gate --path`), else from the judged folder as the working directory shows it."""
    root = getattr(result, "source_root", "") or ""
    base = (root if root != "." else "") if root else result.target.rstrip("/")
    return f"{base}/{file}" if base else file


def location(f: Finding) -> str:
    """`file:line`, and the module call's `file:line` when the resource is inside a module."""
    here = f"{f.file}:{f.line}" if f.line else f.file
    if f.caller_file:
        here += f" (called from {f.caller_file}:{f.caller_line})" if f.caller_line else f" (called from {f.caller_file})"
    return here


def control_labels(controls: dict[str, list[str]]) -> list[str]:
    return [f"{fw}:{c}" for fw in FRAMEWORKS for c in controls.get(fw, [])]
