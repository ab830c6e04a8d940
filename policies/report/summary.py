"""The terminal summary: verdict, env × pillar × severity, then failures grouped by check with the
resource address, construct path and remediation. Fits 100 columns; colour only on a terminal.
Values from the judged code reach it with their control characters escaped (`printable`): the
summary is also a CI log, where a newline in a resource name could start a workflow command."""
from __future__ import annotations

import sys
import textwrap
from itertools import groupby
from typing import TYPE_CHECKING, TextIO

from modules.console import paint, printable
from policies.findings import Finding, Suppression
from policies.report.model import ORDER, counts, failures, location, matrix, not_evaluated, shows_construct

if TYPE_CHECKING:
    from policies.gate_result import GateResult

WIDTH = 100
MAX_PER_CHECK = 8  # resources listed per failing check; the reports list all
_VERDICT_STYLE = {"pass": "green", "fail": "red", "error": "red"}
_SEVERITY_STYLE = {"critical": "red", "high": "red", "medium": "yellow", "low": "dim"}


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(printable(text), WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=True) or [indent]


def render(result: GateResult, stream: TextIO = sys.stdout) -> str:
    c = counts(result.findings)
    out = _header(result, c, stream)
    out += _matrix(result.findings, stream)
    out += _failures(result.findings, c["blocking"], stream)
    out += _not_evaluated(result.findings, stream)
    out += _suppressions(result.suppressions, stream)
    out += _errors(result.errors, stream)
    return "\n".join(out) + "\n"


def _header(result: GateResult, c: dict, stream: TextIO) -> list[str]:
    out = [paint(f"Aegis gate: {result.verdict.upper()}", "bold", stream) + "  "
           + paint(f"{c['blocking']} blocking", _VERDICT_STYLE[result.verdict] if c["blocking"] else "green", stream)
           + f", {c['failed'] - c['blocking']} below threshold, {c['suppressed']} suppressed, {c['passed']} passed"
           + (f", {c['not_evaluated']} not evaluated" if c["not_evaluated"] else ""),
           f"{len(result.stacks)} stacks, {sum(result.stacks.values())} resources, checkov {result.checkov_version}, "
           f"{result.seconds:.1f}s"]
    if result.thresholds:
        out.append("fails on: " + ", ".join(f"{printable(e)} ≥ {t}" for e, t in sorted(result.thresholds.items())))
    return out


def _matrix(findings: list[Finding], stream: TextIO) -> list[str]:
    """env × pillar × severity."""
    cells = matrix(findings)
    if not cells:
        return []
    out = ["", f"{'env':<12}{'pillar':<12}" + "".join(f"{s:>10}" for s in ORDER) + f"{'suppressed':>12}{'passed':>9}"]
    for (env, pillar), cell in cells.items():
        row = f"{printable(env)[:11]:<12}{printable(pillar)[:11]:<12}"
        for s in ORDER:
            value = f"{cell[s]:>10}"
            row += paint(value, _SEVERITY_STYLE[s], stream) if cell[s] else value
        out.append(row + f"{cell['suppressed']:>12}{cell['passed']:>9}")
    return out


def _failures(findings: list[Finding], blocking: int, stream: TextIO) -> list[str]:
    """Failures grouped by check: blocking first, then by severity."""
    failed = sorted(failures(findings), key=lambda f: (not f.blocking, ORDER.index(f.severity), f.check_id))
    if not failed:
        return []
    out = ["", paint(f"Failures ({blocking} blocking, {len(failed) - blocking} below threshold)", "bold", stream)]
    for (check_id, is_blocking), group in groupby(failed, key=lambda f: (f.check_id, f.blocking)):
        out += _failed_check(check_id, is_blocking, list(group), stream)
    return out


def _failed_check(check_id: str, blocking: bool, group: list[Finding], stream: TextIO) -> list[str]:
    """One failing check: its title, the first resources that fail it, and the fix."""
    first = group[0]
    label = first.severity.upper() + ("" if blocking else " (below threshold)")
    head = f"{label}  {check_id}" + ("" if first.catalogued else " [uncatalogued]")
    out = [""]
    out += [paint(line, _SEVERITY_STYLE[first.severity], stream) if i == 0 else line
            for i, line in enumerate(_wrap(f"{head}  {first.title}  ({len(group)})", ""))]
    for f in group[:MAX_PER_CHECK]:
        out += _wrap(f"{f.stack}  {f.address or '(stack)'}", "  ")
        if shows_construct(f):
            out += _wrap(f"construct: {f.construct_path}", "    ")
        if f.caller_file:
            out += _wrap(f"at: {location(f)}", "    ")
        if f.why:
            out += _wrap(f"why: {f.why}", "    ")
    if len(group) > MAX_PER_CHECK:
        out.append(f"  …and {len(group) - MAX_PER_CHECK} more (see the reports)")
    out += _wrap(f"fix: {first.remediation}", "  ")
    return out


def _not_evaluated(findings: list[Finding], stream: TextIO) -> list[str]:
    """Resources a check could not evaluate (not failures: `gate --path --strict` makes them so)."""
    pending = not_evaluated(findings)
    if not pending:
        return []
    out = ["", paint(f"Not evaluated ({len(pending)}: not failures; --strict fails them)", "bold", stream)]
    for f in pending[:MAX_PER_CHECK * 2]:
        out += _wrap(f"{f.check_id}  {f.stack}  {f.address}: {f.why}", "  ")
    if len(pending) > MAX_PER_CHECK * 2:
        out.append(f"  …and {len(pending) - MAX_PER_CHECK * 2} more (see the reports)")
    return out


def _suppressions(suppressions: list[Suppression], stream: TextIO) -> list[str]:
    """Suppressions with problems one by one; the sound ones counted per check."""
    if not suppressions:
        return []
    bad = [s for s in suppressions if s.problem]
    out = ["", paint(f"Suppressions ({len(suppressions)}, {len(bad)} with problems; all listed in the reports)",
                     "bold", stream)]
    for s in sorted(bad, key=lambda s: (s.check_id, s.where)):
        out += [paint(line, "red", stream) for line in _wrap(f"{s.check_id}  {s.where}: {s.problem}", "  ")]
    good = sorted((s for s in suppressions if not s.problem), key=lambda s: s.check_id)
    for check_id, grouped in groupby(good, key=lambda s: s.check_id):
        group = list(grouped)
        soonest = min((s.expires for s in group if s.expires), default="-")
        origins = ", ".join(sorted({s.origin for s in group}))
        out += _wrap(f"{check_id}  ×{len(group)} ({origins}), ok, first expiry {soonest}", "  ")
    return out


def _errors(errors: list[str], stream: TextIO) -> list[str]:
    if not errors:
        return []
    out = ["", paint("Errors (the gate fails closed)", "bold", stream)]
    for e in errors:
        out += [paint(line, "red", stream) for line in _wrap(e, "  ")]
    return out
