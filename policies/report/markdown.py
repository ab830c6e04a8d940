"""Markdown for a pull-request comment: the verdict first, a table per environment, the failures with
links to their SARIF locations, and collapsible details; always under GitHub's comment limit.

Failures link to the code-scanning alerts of the pull request for that check when the GitHub
Actions variables are set (GITHUB_SERVER_URL, GITHUB_REPOSITORY, and the PR number from
AEGIS_PR_NUMBER or GITHUB_REF `refs/pull/<n>/merge`); elsewhere the SARIF location is plain text.
When everything does not fit in LIMIT characters, the least important rows are cut and the comment
says what was cut and where the full lists are.
"""
from __future__ import annotations

import os
import re
from itertools import groupby
from urllib.parse import quote

from policies.findings import Suppression
from policies.report.markdown_text import code, own, text
from policies.report.model import (
    ORDER,
    TOOL,
    artifact_uri,
    counts,
    failures,
    location,
    matrix,
    not_evaluated,
    shows_construct,
)

# GitHub refuses comments over 65,536 characters; leave room for the sticky-comment marker and for
# sections other writers add (the plan gate's planned changes).
LIMIT = 60_000
ICON = {"pass": "✅", "fail": "❌", "error": "⛔"}


def _pr_number() -> str | None:
    explicit = os.environ.get("AEGIS_PR_NUMBER", "")
    if explicit.isdigit():
        return explicit
    match = re.match(r"^refs/pull/(\d+)/", os.environ.get("GITHUB_REF", ""))
    return match.group(1) if match else None


def alert_link(check_id: str) -> str | None:
    """The code-scanning alerts of this PR for one check, when running in GitHub Actions."""
    server, repo, pr = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY"), _pr_number()
    if not (server and repo):
        return None
    query = "is:open " + (f"pr:{pr} " if pr else "") + f"tool:{TOOL} rule:{check_id}"
    return f"{server.rstrip('/')}/{repo}/security/code-scanning?query={quote(query)}"


def _location(result, f) -> str:
    """The finding's SARIF location: artifact URI and line, linked to its alerts when possible."""
    span = code(f"{artifact_uri(result, f.file)}:{f.line or 1}")
    link = alert_link(f.check_id)
    return f"[{span}]({link})" if link else span


class _Budget:
    """Sections in priority order; rows of a section are dropped from its end when over the limit."""

    def __init__(self):
        self.sections: list[tuple[int, list[str], list[str], list[str], str]] = []

    def add(self, priority: int, head: list[str], rows: list[str], tail: list[str] = (), what: str = "") -> None:
        self.sections.append((priority, list(head), list(rows), list(tail), what))

    def text(self) -> tuple[str, dict[str, int]]:
        sections = [list(s) for s in self.sections]
        cut: dict[str, int] = {}

        def joined() -> str:
            lines = []
            for _, head, rows, tail, _ in sections:
                if rows or not tail:
                    lines += head + rows + tail
            return "\n".join(lines) + "\n"

        text = joined()
        # Drop rows from the lowest-priority sections first, a few at a time.
        for section in sorted(sections, key=lambda s: -s[0]):
            while len(text) + 400 > LIMIT and section[2]:
                drop = max(1, len(section[2]) // 10)
                del section[2][-drop:]
                cut[section[4]] = cut.get(section[4], 0) + drop
                text = joined()
        return text, cut


def _access_beyond_intent(result, budget: _Budget) -> None:
    access_rows = _access_rows(result)
    if access_rows:
        budget.add(2, ["", f"<details open><summary><b>Effective access beyond intent</b>: {len(access_rows)} "
                           "cell(s) of the access matrix</summary>", "",
                       "| env | role (principal) | capability | verdict | path |", "|---|---|---|---|---|"],
                   access_rows, ["", "</details>"], what="access matrix violations")


def render(result) -> str:
    c = counts(result.findings)
    budget = _Budget()
    head = [f"## {ICON[result.verdict]} Aegis policy gate: {result.verdict.upper()}", ""]
    thresholds = ", ".join(f"{text(env)} ≥ {level}" for env, level in sorted(result.thresholds.items()))
    head.append(f"**{c['blocking']} blocking** failure(s), {c['failed'] - c['blocking']} below threshold, "
                f"{c['suppressed']} suppressed, {c['passed']} passed"
                + (f", {c['not_evaluated']} not evaluated" if c["not_evaluated"] else "")
                + f": {c['checks']} results on {len(result.stacks)} "
                f"stacks ({sum(result.stacks.values())} resources), checkov {result.checkov_version}."
                + (f" Fails on: {thresholds}." if thresholds else ""))
    budget.add(0, head, [])
    if result.errors:
        budget.add(0, ["", "### ⛔ Errors (the gate could not judge everything; it fails closed)", ""],
                   [f"- {text(e)}" for e in result.errors], what="errors")

    # A table per environment: pillar × severity of failures, suppressed and passed.
    cells = matrix(result.findings)
    for env, rows in groupby(cells.items(), key=lambda kv: kv[0][0]):
        rows = list(rows)
        blocking = sum(cell["blocking"] for _, cell in rows)
        verdict = "error" if result.errors else ("fail" if blocking else "pass")
        threshold = result.thresholds.get(env)
        detail = f"fails on ≥ {threshold}, {blocking} blocking" if threshold else f"{blocking} blocking"
        title = f"### {ICON[verdict]} {text(env)}: {verdict.upper()} ({detail})"
        table = ["", title, "", "| pillar | " + " | ".join(ORDER) + " | suppressed | passed |",
                 "|---|" + "---:|" * (len(ORDER) + 2)]
        lines = []
        for (_, pillar), cell in rows:
            sev = " | ".join(f"**{cell[s]}**" if cell[s] else "0" for s in ORDER)
            lines.append(f"| {text(pillar)} | {sev} | {cell['suppressed']} | {cell['passed']} |")
        budget.add(1, table, lines)

    failed = failures(result.findings)
    if failed:
        blocking_rows = [f for f in failed if f.blocking]
        below = [f for f in failed if not f.blocking]
        for label, items, priority, opened in (("Blocking failures", blocking_rows, 2, " open"),
                                               ("Failures below the threshold", below, 5, "")):
            if not items:
                continue
            checks = len({f.check_id for f in items})
            head = ["", f"<details{opened}><summary><b>{label}</b>: {len(items)} on {checks} check(s)</summary>", "",
                    "| severity | check | resource (construct path) | SARIF location |", "|---|---|---|---|"]
            rows = []
            for f in items:
                resource = f"{f.stack}/{f.address or '(stack)'}"
                where = code(resource) + (f"<br>{text(f.construct_path)}" if shows_construct(f) else "")
                if f.caller_file:
                    where += f"<br><sub>{text(location(f))}</sub>"
                check = f"{code(f.check_id)} {own(f.title) if f.catalogued else text(f.title)}" + ("" if f.catalogued else " (uncatalogued)")
                if f.why:
                    check += f"<br><sub>why: {text(f.why)}</sub>"
                rows.append(f"| {f.severity} | {check} | {where} | {_location(result, f)} |")
            budget.add(priority, head, rows, ["", "</details>"], what=label.lower())
        fixes = {}
        for f in failed:
            title = own(f.title) if f.catalogued else text(f.title)  # uncatalogued: checkov's or a check's words
            fixes.setdefault(f.check_id, (f.blocking, ORDER.index(f.severity), title, own(f.remediation)))
        order = sorted(fixes.items(), key=lambda kv: (not kv[1][0], kv[1][1], kv[0]))
        budget.add(4, ["", f"<details><summary><b>How to fix</b> ({len(order)} check(s))</summary>", ""],
                   [f"- {code(i)} {title}: {fix}" for i, (_, _, title, fix) in order],
                   ["", "</details>"], what="remediations")

    _not_evaluated(result, budget)

    _access_beyond_intent(result, budget)

    if result.suppressions:
        problems = [s for s in result.suppressions if s.problem]
        fine = [s for s in result.suppressions if not s.problem]
        for label, items, priority, opened in (("Suppressions with problems", problems, 3, " open"),
                                               ("Suppressions", fine, 6, "")):
            if not items:
                continue
            head = ["", f"<details{opened}><summary><b>{label}</b> ({len(items)})</summary>", "",
                    "| check | where | expires | owner | reason | status |", "|---|---|---|---|---|---|"]
            rows = [f"| {code(s.check_id)} {text(s.title)} | {code(s.where)} | {text(s.expires or '-')} | {text(_people(s))} | "
                    f"{text(s.reason)} | {'⛔ ' + text(s.problem) if s.problem else f'ok ({len(s.matched)} finding(s))'} |"
                    for s in sorted(items, key=lambda s: (s.expires or "9999", s.check_id, s.where))]
            budget.add(priority, head, rows, ["", "</details>"], what=label.lower())

    comment, cut = budget.text()
    if cut:
        comment += ("\n> **Truncated** to stay under GitHub's comment limit: "
                    + ", ".join(f"{n} row(s) of {what}" for what, n in cut.items())
                    + " not shown. The JSON, SARIF and HTML reports (workflow artifacts) list everything.\n")
    return comment


def _not_evaluated(result, budget: _Budget) -> None:
    """What a check could not evaluate (`gate --path`): not failures, listed with why."""
    pending = not_evaluated(result.findings)
    if pending:
        budget.add(5, ["", f"<details><summary><b>Not evaluated</b>: {len(pending)} (not failures; "
                           "<code>--strict</code> fails them)</summary>", "",
                       "| severity | check | resource | why |", "|---|---|---|---|"],
                   [f"| {f.severity} | {code(f.check_id)} | {code(f.stack + '/' + f.address)} | {text(f.why)} |"
                    for f in pending], ["", "</details>"], what="not evaluated")


def _people(s: Suppression) -> str:
    """Who owns a suppression, and who approved it when someone else did."""
    return (s.owner or "-") + (f", approved by {s.approver}" if s.approver else "")


def _access_rows(result) -> list[str]:
    """One table row per access-matrix cell that differs from the declared intent."""
    rows = []
    for env, matrix_of_env in sorted((getattr(result, "access_matrix", None) or {}).items()):
        for row in matrix_of_env.get("principals", []):
            for capability, cell in row["cells"].items():
                if cell["verdict"] in ("violation", "missing", "cannot-judge"):
                    rows.append(f"| {text(env)} | {code(row['role'])} ({text(row['principal'] or 'undeclared')}) | "
                                f"{code(capability)} | {text(cell['verdict'])} (intended {text(cell['intended'])}) | "
                                f"{text(cell.get('path') or '-')} |")
    return rows
