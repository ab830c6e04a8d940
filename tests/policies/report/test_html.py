"""The HTML report: self-contained, deterministic, and showing what the JSON result says: summary per
environment × pillar, compliance coverage per listed framework, findings, suppressions, inventory,
diagrams and the plan summary."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from html.parser import HTMLParser

import pytest

from modules.config import load_all
from policies.report import html as report_html_module
from policies.report.html import build_context, compliance, render_document, suppression_state
from tests.policies.report.conftest import GENERATED

SEVERITIES = ("critical", "high", "medium", "low")


def expected_summary(findings: list[dict]) -> dict[tuple[str, str], dict[str, int]]:
    """(env, pillar|all) → counts, computed here independently of the report code."""
    out: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for f in findings:
        for pillar in (f["pillar"], "all"):
            cell = out[(f["env"], pillar)]
            cell["checks"] += 1
            cell[f["status"]] += 1
            if f["status"] == "failed":
                cell[f"failed-{f['severity']}"] += 1
    return {key: {k: cell[k] for k in ["checks", "passed", "suppressed"] + [f"failed-{s}" for s in SEVERITIES]}
            for key, cell in out.items()}


class SummaryCells(HTMLParser):
    """(env, pillar) → {data-key: number} from the summary tables."""

    def __init__(self):
        super().__init__()
        self.cells: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        self.row: tuple[str, str] | None = None
        self.key: str | None = None
        self.in_summary = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.in_summary = "summary" in (a.get("class") or "").split()
        elif tag == "tr" and self.in_summary and "data-pillar" in a:
            self.row = (a["data-env"], a["data-pillar"])
        elif tag == "td" and self.row and "data-key" in a:
            self.key = a["data-key"]

    def handle_data(self, data):
        if self.key and data.strip():
            self.cells[self.row][self.key] = int(data.strip())
            self.key = None

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_summary = False
        elif tag == "tr":
            self.row = None


def test_summary_numbers_match_the_json_result(report_html, gate_doc):
    parser = SummaryCells()
    parser.feed(report_html)
    expected = expected_summary(gate_doc["findings"])
    assert set(parser.cells) == set(expected)
    for key, counts in expected.items():
        assert parser.cells[key] == counts, key


def test_environment_verdicts_and_thresholds(report_html, gate_doc):
    for env, threshold in gate_doc["thresholds"].items():
        blocking = any(f["blocking"] for f in gate_doc["findings"] if f["env"] == env)
        card = re.search(rf'<article class="card env-card" data-env-section="{env}".*?</article>', report_html, re.S).group(0)
        assert f'data-verdict="{"fail" if blocking else "pass"}"' in card
        assert f"fails on <strong>≥ {threshold}</strong>" in card


_EXTERNAL = [
    re.compile(r"<(link|img|iframe|object|embed|audio|video|source)\b", re.I),
    re.compile(r"<script[^>]*\bsrc\s*=", re.I),
    re.compile(r"\s(src|href|action|poster|srcset)\s*=\s*(?![\"']?#)", re.I),
    re.compile(r"@import|url\(\s*(?![\"']?(#|data:))", re.I),
    re.compile(r"@font-face", re.I),
]


def test_report_is_one_self_contained_file(report_html):
    for pattern in _EXTERNAL:
        assert not pattern.search(report_html), pattern.search(report_html).group(0)
    # The only absolute URL is the SVG namespace, which is a name, not a fetch.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", report_html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    assert report_html.count("<script>") == 1 and report_html.count("<style>") == 1


def test_deterministic_without_machine_paths(app_gate, synthesized, report_html):
    from policies.report.html import render

    again = render(app_gate, synth_out=synthesized.out, generated=GENERATED)
    assert again == report_html
    for path in (str(synthesized.out), str(synthesized.out.parent), "/tmp/", "/work/", "/home/"):
        assert path not in report_html


def test_a_saved_json_result_renders_the_same_report(gate_doc, synthesized, report_html):
    assert render_document(gate_doc, synth_out=synthesized.out, generated=GENERATED) == report_html


def test_only_the_generation_time_varies(app_gate, synthesized, report_html):
    from policies.report.html import render

    later = render(app_gate, synth_out=synthesized.out, generated=GENERATED + dt.timedelta(hours=3))
    strip = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert strip.sub("T", later) == strip.sub("T", report_html)


def test_compliance_matrix_covers_each_listed_framework(report_html):
    configs = {c.name: c for c in load_all()}
    for name, config in configs.items():
        block = re.search(rf'<div class="env-block" data-env-section="{name}">\s*<h3>{name}</h3>.*?</div>\s*(?=<div class="env-block"|</section>)',
                          report_html[report_html.index('id="compliance"'):report_html.index('id="architecture"')], re.S)
        assert block, name
        found = re.findall(r'data-framework="([^"]+)"', block.group(0))
        assert found == list(config.compliance), name
    # pci-dss has no catalog mapping: the report says so instead of showing an empty matrix
    if any("pci-dss" in c.compliance for c in configs.values()):
        assert "no control mapping in the policy catalog" in report_html


def test_a_failing_check_fails_every_control_it_evidences(gate_doc):
    failed = next(f for f in gate_doc["findings"] if f["status"] == "failed" and f["controls"].get("nist-800-53"))
    view = compliance(failed["env"], "nist-800-53", gate_doc["findings"], gate_doc["rules"])
    rows = {r["control"]: r for r in view["controls"]}
    for control in failed["controls"]["nist-800-53"]:
        row = rows[control]
        assert row["status"] == "fail"
        evidence = next(c for c in row["checks"] if c["id"] == failed["check_id"])
        assert evidence["status"] == "fail" and evidence["failed"] >= 1


def test_control_status_precedence():
    rules = {"A": {"title": "a", "severity": "low", "controls": {"hipaa": ["164.312(b)"]}},
             "B": {"title": "b", "severity": "low", "controls": {"hipaa": ["164.312(b)", "164.308(a)(1)"]}},
             "C": {"title": "c", "severity": "low", "controls": {"hipaa": ["164.310(a)(1)"]}}}
    findings = [{"env": "prod", "check_id": "A", "status": "passed"},
                {"env": "prod", "check_id": "B", "status": "suppressed"},
                {"env": "dev", "check_id": "C", "status": "failed"}]
    rows = {r["control"]: r for r in compliance("prod", "hipaa", findings, rules)["controls"]}
    assert rows["164.312(b)"]["status"] == "suppressed"  # passes only with an accepted exception
    assert rows["164.308(a)(1)"]["status"] == "suppressed"
    assert rows["164.310(a)(1)"]["status"] == "none"  # C ran in dev only: no evidence in prod
    assert rows["164.310(a)(1)"]["unevaluated"] == ["C"]


def test_every_failed_and_suppressed_finding_is_listed_with_its_details(report_html, gate_doc):
    shown = [f for f in gate_doc["findings"] if f["status"] != "passed"]
    assert report_html.count('<details class="finding ') == len(shown)
    from markupsafe import escape

    for f in shown:
        assert str(escape(f"{f['stack']}/{f['address'] or '(stack)'}")) in report_html
        assert escape(f["construct_path"]) in report_html
        assert escape(f["remediation"]) in report_html
    details = re.search(r'<details class="finding [^>]*id="finding-1".*?</details>', report_html, re.S).group(0)
    check = re.search(r'data-check="([^"]+)"', details).group(1)
    first = next(f for f in shown if f["check_id"] == check and f"{f['stack']}/{f['address']}" in details)
    for control in first["controls"].get("nist-800-53", []):
        assert f"NIST {control}" in details


def test_suppressions_show_reason_owner_expiry_and_highlight_expiry():
    today = dt.date(2026, 11, 2)
    items = [
        {"check_id": "CKV_AWS_1", "title": "Bucket names a <b>check</b> title", "reason": "r" * 30, "expires": "2026-10-01", "origin": "exceptions",
         "where": "policies/exceptions.yaml:3", "owner": "team-a", "pattern": "*", "environments": [],
         "matched": [], "problem": "expired on 2026-10-01"},
        {"check_id": "CKV_AWS_2", "reason": "s" * 30, "expires": "2026-11-20", "origin": "inline",
         "where": "prod-data/aws_s3_bucket.x", "owner": "", "pattern": "", "environments": [], "matched": ["x"],
         "problem": ""},
        {"check_id": "CKV_AWS_3", "reason": "t" * 30, "expires": "2027-06-30", "origin": "inline",
         "where": "prod-data/aws_s3_bucket.y", "owner": "team-b", "pattern": "", "environments": [],
         "matched": ["y"], "problem": ""},
    ]
    assert [suppression_state(s, today)[0] for s in items] == ["expired", "near-expiry", "ok"]
    doc = {"tool": "aegis-gate", "verdict": "error", "target": "", "thresholds": {}, "errors": [], "summary": {},
           "stacks": {}, "rules": {}, "findings": [], "suppressions": items}
    text = render_document(doc, stacks={}, env_info={}, catalog_rules={},
                           generated=dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc))
    rows = re.findall(r'<tr class="([a-z-]+)" data-state="[a-z-]+"><td class="mono">(CKV_AWS_\d)(?:<br>|</td>)', text)
    assert rows == [("expired", "CKV_AWS_1"), ("near-expiry", "CKV_AWS_2"), ("ok", "CKV_AWS_3")]
    assert "team-a" in text and "team-b" in text and "r" * 30 in text
    assert '<br><span class="muted">Bucket names a &lt;b&gt;check&lt;/b&gt; title</span>' in text  # titled, escaped
    assert "32 days ago" in text and "in 18 days" in text


def test_inventory_lists_every_stack_with_its_resource_count(report_html, synthesized):
    for name in synthesized.stack_names:
        count = sum(1 for _ in synthesized.all_resources(name))
        assert re.search(rf"<code>{re.escape(name)}</code>: {count} resources,", report_html), name


def test_an_architecture_diagram_per_environment(report_html, gate_doc):
    for env in gate_doc["thresholds"]:
        figure = re.search(rf'<figure class="diagram" data-env-section="{env}".*?</figure>', report_html, re.S).group(0)
        assert '<svg xmlns="http://www.w3.org/2000/svg"' in figure and f'data-env="{env}"' in figure


def test_plan_summary_and_blocked_changes_when_a_plan_gate_produced_the_result(gate_doc):
    # The default app passes; make one of its findings a blocking failure, as a plan gate would report.
    blocking = {**gate_doc["findings"][0], "status": "failed", "blocking": True}
    gate_doc = {**gate_doc, "findings": [blocking, *gate_doc["findings"][1:]]}
    plans = [{"stack": blocking["stack"], "env": blocking["env"], "file": "plan.json", "verdict": "fail",
              "changes": {"create": 3, "update": 1, "replace": 1, "delete": 2, "no-op": 40},
              "terraform_version": "1.10.5", "encoding": "utf-8", "resources": 47, "attestation": None, "note": ""}]
    doc = {**gate_doc, "plans": plans}
    context = build_context(doc, stacks={}, env_info={}, catalog_rules={}, generated=GENERATED)
    assert blocking in context["blocked"]
    assert all(f["blocking"] and f["stack"] == blocking["stack"] for f in context["blocked"])
    text = render_document(doc, stacks={}, env_info={}, catalog_rules={}, generated=GENERATED)
    row = re.search(r'<tr data-env="[^"]*" data-stack="[^"]*">.*?</tr>', text[text.index('id="plan-table"'):], re.S).group(0)
    cells = dict(re.findall(r'data-key="([a-z-]+)">(\d+)<', row))
    assert cells == {"create": "3", "update": "1", "replace": "1", "delete": "2", "no-op": "40"}
    assert f"Blocked changes ({len(context['blocked'])})" in text
    assert "Planned changes" not in render_document(gate_doc, stacks={}, env_info={}, catalog_rules={},
                                                    generated=GENERATED)


def test_gate_format_html_goes_through_the_report_registry(app_gate):
    from policies.report import FORMATS, available_formats, render

    assert "html" in available_formats() and FORMATS["html"][1] == "aegis-gate.html"
    text = render(app_gate, "html")
    assert text.startswith("<!DOCTYPE html>") and f'id="verdict">{app_gate.verdict}<' in text


@pytest.mark.parametrize("days,state", [(-1, "expired"), (0, "near-expiry"), (30, "near-expiry"), (31, "ok")])
def test_near_expiry_window(days, state):
    today = dt.date(2026, 1, 1)
    item = {"expires": (today + dt.timedelta(days=days)).isoformat(), "problem": ""}
    assert suppression_state(item, today)[0] == state
    assert report_html_module.NEAR_EXPIRY_DAYS == 30


def test_suppressed_and_passed_totals_carry_their_severities(report_html, gate_doc):
    for env in gate_doc["thresholds"]:
        row = re.search(rf'<tr data-env="{env}" data-pillar="all">.*?</tr>', report_html, re.S).group(0)
        for status in ("suppressed", "passed"):
            by = Counter(f["severity"] for f in gate_doc["findings"] if f["env"] == env and f["status"] == status)
            title = ", ".join(f"{s} {by[s]}" for s in SEVERITIES)
            assert f'data-key="{status}" title="{status} by severity: {title}">{sum(by.values())}<' in row
