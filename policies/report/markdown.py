"""Markdown summary for a pull-request comment: verdict, env × pillar × severity, failures, suppressions."""
from __future__ import annotations

from itertools import groupby

from policies.report.model import ORDER, counts, failures, matrix

MAX_ROWS = 40  # failing checks shown: a PR comment stays readable (and under GitHub's size limit)
MAX_RESOURCES = 10
ICON = {"pass": "✅", "fail": "❌", "error": "⛔"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(result) -> str:
    c = counts(result.findings)
    lines = [f"## {ICON[result.verdict]} Aegis policy gate: {result.verdict.upper()}", ""]
    thresholds = ", ".join(f"{env} ≥ {level}" for env, level in sorted(result.thresholds.items()))
    lines.append(f"{c['checks']} results on {len(result.stacks)} stacks ({sum(result.stacks.values())} resources): "
                 f"{c['passed']} passed, {c['failed']} failed ({c['blocking']} blocking), "
                 f"{c['suppressed']} suppressed. checkov {result.checkov_version}."
                 + (f" Fails on: {thresholds}." if thresholds else ""))
    if result.errors:
        lines += ["", "### Errors (the gate could not judge; it fails closed)", ""]
        lines += [f"- {_cell(e)}" for e in result.errors]
    cells = matrix(result.findings)
    if cells:
        lines += ["", "### Failures by environment, pillar and severity", "",
                  "| env | pillar | " + " | ".join(ORDER) + " | suppressed | passed |",
                  "|---|---|" + "---:|" * (len(ORDER) + 2)]
        for (env, pillar), cell in cells.items():
            sev = " | ".join(f"**{cell[s]}**" if cell[s] else "0" for s in ORDER)
            lines.append(f"| {env} | {pillar} | {sev} | {cell['suppressed']} | {cell['passed']} |")
    failed = sorted(failures(result.findings), key=lambda f: (not f.blocking, ORDER.index(f.severity), f.check_id))
    if failed:
        groups = [(key, list(group)) for key, group in groupby(failed, key=lambda f: (f.check_id, f.blocking))]
        lines += ["", f"### Failures ({len(failed)} on {len(groups)} checks)", "",
                  "| severity | check | resources (construct path) | fix |", "|---|---|---|---|"]
        for (check_id, blocking), group in groups[:MAX_ROWS]:
            first = group[0]
            sev = f"**{first.severity}**" if blocking else f"{first.severity} (below threshold)"
            check = f"`{check_id}`" + ("" if first.catalogued else " (uncatalogued)") + f" {_cell(first.title)}"
            shown = [f"`{f.stack}/{f.address or '-'}` ({_cell(f.construct_path)})" for f in group[:MAX_RESOURCES]]
            if len(group) > MAX_RESOURCES:
                shown.append(f"…and {len(group) - MAX_RESOURCES} more")
            lines.append(f"| {sev} | {check} | {'<br>'.join(shown)} | {_cell(first.remediation)} |")
        if len(groups) > MAX_ROWS:
            lines.append(f"\n…and {len(groups) - MAX_ROWS} more checks in the JSON/SARIF reports.")
    if result.suppressions:
        lines += ["", f"### Suppressions ({len(result.suppressions)})", "",
                  "| check | where | expires | owner | reason | status |", "|---|---|---|---|---|---|"]
        for s in sorted(result.suppressions, key=lambda s: (s.check_id, s.where)):
            status = f"⛔ {_cell(s.problem)}" if s.problem else f"ok ({len(s.matched)} finding(s))"
            lines.append(f"| `{s.check_id}` | `{_cell(s.where)}` | {s.expires or '-'} | {_cell(s.owner) or '-'} | "
                         f"{_cell(s.reason)} | {status} |")
    return "\n".join(lines) + "\n"
