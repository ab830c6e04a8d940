"""The terminal summary: verdict, env × pillar × severity, then failures grouped by check with the
resource address, construct path and remediation. Fits 100 columns; colour only on a terminal."""
from __future__ import annotations

import sys
import textwrap
from itertools import groupby
from typing import TextIO

from modules.console import paint
from policies.report.model import ORDER, counts, failures, matrix

WIDTH = 100
MAX_PER_CHECK = 8  # resources listed per failing check; the reports list all
_VERDICT_STYLE = {"pass": "green", "fail": "red", "error": "red"}
_SEVERITY_STYLE = {"critical": "red", "high": "red", "medium": "yellow", "low": "dim"}


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=True) or [indent]


def render(result, stream: TextIO = sys.stdout) -> str:
    def p(text: str, style: str) -> str:
        return paint(text, style, stream)

    c = counts(result.findings)
    out = [p(f"Aegis gate: {result.verdict.upper()}", "bold") + "  "
           + p(f"{c['blocking']} blocking", _VERDICT_STYLE[result.verdict] if c["blocking"] else "green")
           + f", {c['failed'] - c['blocking']} below threshold, {c['suppressed']} suppressed, {c['passed']} passed",
           f"{len(result.stacks)} stacks, {sum(result.stacks.values())} resources, checkov {result.checkov_version}, "
           f"{result.seconds:.1f}s"]
    if result.thresholds:
        out.append("fails on: " + ", ".join(f"{e} ≥ {t}" for e, t in sorted(result.thresholds.items())))
    cells = matrix(result.findings)
    if cells:
        out += ["", f"{'env':<12}{'pillar':<12}" + "".join(f"{s:>10}" for s in ORDER)
                + f"{'suppressed':>12}{'passed':>9}"]
        for (env, pillar), cell in cells.items():
            row = f"{env[:11]:<12}{pillar[:11]:<12}"
            for s in ORDER:
                value = f"{cell[s]:>10}"
                row += p(value, _SEVERITY_STYLE[s]) if cell[s] else value
            out.append(row + f"{cell['suppressed']:>12}{cell['passed']:>9}")
    failed = sorted(failures(result.findings), key=lambda f: (not f.blocking, ORDER.index(f.severity), f.check_id))
    if failed:
        out += ["", p(f"Failures ({c['blocking']} blocking, {len(failed) - c['blocking']} below threshold)", "bold")]
        for (check_id, blocking), group in groupby(failed, key=lambda f: (f.check_id, f.blocking)):
            group = list(group)
            first = group[0]
            label = first.severity.upper() + ("" if blocking else " (below threshold)")
            head = f"{label}  {check_id}" + ("" if first.catalogued else " [uncatalogued]")
            out.append("")
            out += [p(line, _SEVERITY_STYLE[first.severity]) if i == 0 else line
                    for i, line in enumerate(_wrap(f"{head}  {first.title}  ({len(group)})", ""))]
            for f in group[:MAX_PER_CHECK]:
                out += _wrap(f"{f.stack}  {f.address or '(stack)'}", "  ")
                out += _wrap(f"construct: {f.construct_path}", "    ")
                if f.source == "app" and f.message and f.message != f.title:
                    out += _wrap(f"why: {f.message}", "    ")
            if len(group) > MAX_PER_CHECK:
                out.append(f"  …and {len(group) - MAX_PER_CHECK} more (see the reports)")
            out += _wrap(f"fix: {first.remediation}", "  ")
    if result.suppressions:
        bad = [s for s in result.suppressions if s.problem]
        out += ["", p(f"Suppressions ({len(result.suppressions)}, {len(bad)} with problems; all listed in the "
                      "reports)", "bold")]
        for s in sorted(bad, key=lambda s: (s.check_id, s.where)):
            out += [p(line, "red") for line in _wrap(f"{s.check_id}  {s.where}: {s.problem}", "  ")]
        good = sorted((s for s in result.suppressions if not s.problem), key=lambda s: s.check_id)
        for check_id, group in groupby(good, key=lambda s: s.check_id):
            group = list(group)
            soonest = min((s.expires for s in group if s.expires), default="-")
            origins = ", ".join(sorted({s.origin for s in group}))
            out += _wrap(f"{check_id}  ×{len(group)} ({origins}), ok, first expiry {soonest}", "  ")
    if result.errors:
        out += ["", p("Errors (the gate fails closed)", "bold")]
        for e in result.errors:
            out += [p(line, "red") for line in _wrap(e, "  ")]
    return "\n".join(out) + "\n"
