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
    # every listed framework is mapped in the catalog (PCI DSS v4.0.1 too): no empty matrix
    assert "no control mapping in the policy catalog" not in report_html
    if any("pci-dss" in c.compliance for c in configs.values()):
        assert re.search(r'data-framework="pci-dss".*?<td class="mono nowrap">10\.2\.1</td>', report_html, re.S)


def test_a_failing_check_marks_every_control_it_evidences(gate_doc):
    """The default app passes its gate: its failures are below the threshold, and the matrix says so
    instead of a red "fail"; made blocking, the same failure fails every control it evidences."""
    failed = next(f for f in gate_doc["findings"] if f["status"] == "failed" and f["controls"].get("nist-800-53"))
    assert not failed["blocking"]
    for blocking, expected in ((False, ("below-threshold", "fail")), (True, ("fail",))):
        findings = [{**f, "blocking": blocking} if f is failed else f for f in gate_doc["findings"]]
        view = compliance(failed["env"], "nist-800-53", findings, gate_doc["rules"])
        rows = {r["control"]: r for r in view["controls"]}
        for control in failed["controls"]["nist-800-53"]:
            row = rows[control]
            assert row["status"] in expected
            evidence = next(c for c in row["checks"] if c["id"] == failed["check_id"])
            assert evidence["status"] == expected[0] and evidence["failed"] >= 1


RULES = {"A": {"title": "a", "severity": "low", "controls": {"hipaa": ["164.312(b)"]}},
         "B": {"title": "b", "severity": "high", "controls": {"hipaa": ["164.312(b)", "164.312(e)(1)"]}},
         "C": {"title": "c", "severity": "low", "controls": {"hipaa": ["164.310(d)(1)"]}},
         "D": {"title": "d", "severity": "critical", "controls": {"hipaa": ["164.308(a)(1)(ii)(D)"]}}}


def _suppressed(check_id: str, **suppression) -> dict:
    return {"env": "prod", "check_id": check_id, "status": "suppressed",
            "suppression": {"origin": "exceptions", "owner": "platform-oncall", **suppression}}


def test_failures_below_the_threshold_are_not_a_red_fail():
    findings = [{"env": "prod", "check_id": "A", "status": "passed"},
                {"env": "prod", "check_id": "B", "status": "failed", "blocking": False},
                {"env": "prod", "check_id": "C", "status": "failed", "blocking": True}]
    view = compliance("prod", "hipaa", findings, RULES)
    rows = {r["control"]: r for r in view["controls"]}
    assert rows["164.312(b)"]["status"] == "below-threshold"  # A passed, B failed below the threshold
    assert rows["164.312(e)(1)"]["status"] == "below-threshold"
    assert rows["164.310(d)(1)"]["status"] == "fail"  # C failed at or above it
    assert view["tally"] == {"fail": 1, "below-threshold": 2, "suppressed": 0, "pass": 0, "none": 1}
    # a result from an older document without `blocking` is never shown milder than a failure
    legacy = compliance("prod", "hipaa", [{"env": "prod", "check_id": "B", "status": "failed"}], RULES)
    assert {r["control"]: r["status"] for r in legacy["controls"]}["164.312(b)"] == "fail"


def test_a_control_passing_only_by_suppressions_names_their_approvers():
    findings = [_suppressed("D", approver="security-lead"),
                _suppressed("B", origin="inline", owner=""),
                {"env": "prod", "check_id": "A", "status": "passed"}]
    rows = {r["control"]: r for r in compliance("prod", "hipaa", findings, RULES)["controls"]}
    assert rows["164.308(a)(1)(ii)(D)"]["status"] == "suppressed"
    assert rows["164.308(a)(1)(ii)(D)"]["approvals"] == ["security-lead (owner platform-oncall)"]
    assert rows["164.312(e)(1)"]["approvals"] == ["reviewed in code (inline, no separate approver)"]
    assert rows["164.312(b)"]["status"] == "suppressed" and len(rows["164.312(b)"]["approvals"]) == 1
    assert rows["164.310(d)(1)"]["approvals"] == []  # no evidence, nothing approved


def test_matrix_rows_carry_the_reference_titles():
    rows = {r["control"]: r for r in compliance("prod", "hipaa", [], RULES)["controls"]}
    assert rows["164.312(b)"]["title"] == "Audit controls (standard)"
    assert rows["164.308(a)(1)(ii)(D)"]["title"] == "Information system activity review (R)"


def _finding(check_id: str, status: str, blocking: bool = False, suppression=None) -> dict:
    from policies.catalog import load_catalog
    from policies.findings import Finding

    rule = load_catalog().get(check_id)
    return Finding(check_id=check_id, status=status, severity=rule.severity, env="prod", stack="prod-platform",
                   pillar="platform", address=f"aws_example.{check_id.lower()}", construct_path="prod-platform/x",
                   title=rule.title, remediation=rule.remediation,
                   controls={k: list(v) for k, v in rule.controls.items()}, file="stacks/prod-platform/cdk.tf.json",
                   blocking=blocking, suppression=suppression).as_dict()


def test_the_page_shows_titles_below_threshold_approvers_and_cis_iso():
    """An environment listing CIS and ISO/IEC 27001 gets their matrices, with titles; a control whose only
    failure is below the threshold reads "findings below threshold"; a suppressed-only control names its
    approver."""
    from policies.findings import Suppression

    approved = Suppression(check_id="CKV_AWS_24", reason="Break-glass bastion, closed by an SCP outside incidents",
                           expires="2027-01-31", origin="exceptions", where="policies/exceptions.yaml:2",
                           owner="platform-oncall", approver="security-lead")
    doc = {"verdict": "pass", "thresholds": {"prod": "high"}, "findings": [
        _finding("CKV_AWS_18", "failed", blocking=False),  # CIS 3.4, medium: below prod's threshold here
        _finding("CKV_AWS_24", "suppressed", suppression=approved),  # CIS 5.2 and 5.3
        _finding("CKV_AWS_7", "passed"),  # CIS 3.6
    ]}
    env_info = {"prod": report_html_module.EnvInfo("prod", "prod", "eu-west-1", ["cis", "iso27001", "pci-dss"])}
    page = render_document(doc, stacks={}, env_info=env_info, generated=GENERATED)
    section = page[page.index('id="compliance"'):page.index('id="architecture"')]
    assert re.findall(r'data-framework="([^"]+)"', section) == ["cis", "iso27001", "pci-dss"]
    for label in ("CIS AWS Foundations Benchmark v3.0.0", "ISO/IEC 27001:2022 Annex A", "PCI DSS v4.0.1"):
        assert label in section

    def row(control: str) -> re.Match:
        found = re.search(rf'<tr data-status="([^"]+)"><td class="mono nowrap">{re.escape(control)}</td>'
                          r'<td>([^<]*)</td>.*?</tr>', section, re.S)
        assert found, control
        return found

    assert row("3.4").group(1) == "below-threshold" and "findings below threshold" in row("3.4").group(0)
    assert row("3.4").group(2) == "Server access logging is enabled on the CloudTrail S3 bucket"
    assert row("3.6").group(1) == "pass"
    assert row("5.2").group(1) == "suppressed"
    assert "suppressions approved by: security-lead (owner platform-oncall)" in row("5.2").group(0)
    assert row("A.8.24").group(2) == "Use of cryptography"
    assert row("3.7.4").group(2).startswith("Keys are changed at the end of their defined cryptoperiod")
    assert '<span class="st fail">' not in section  # nothing here fails at or above the threshold


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
