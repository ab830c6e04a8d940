"""Reports of `gate --path` on hand-written Terraform: why a check decided reaches every format and the
terminal, module findings name the module call, SARIF locations map from the repository root wherever
the gate ran, and nothing is shown that only an Aegis synth output has."""
from __future__ import annotations

import html as html_text
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from policies.findings import FAILED, NOT_EVALUATED
from policies.path_gate import run_path_gate
from policies.report import render
from policies.report.summary import render as terminal

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"
REPO = Path(__file__).resolve().parents[3]
WHY_FAILED = "statement AccountOperators lets people assume the role without MFA"
WHY_NOT_EVALUATED = "permissions_boundary is var.permissions_boundary"


@pytest.fixture(scope="module")
def iam_result(tmp_path_factory):
    """iam_shapes judged from a folder outside the repository (as a CI job checking out elsewhere would)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("elsewhere"))
        return run_path_gate(FIXTURES / "iam_shapes")


@pytest.fixture(scope="module")
def module_result():
    return run_path_gate(FIXTURES / "function_module" / "examples" / "complete")


def test_why_reaches_every_format_and_the_terminal(iam_result):
    # Markdown and HTML escape what came from the judged code (`&#95;` for `_`): read them as shown.
    outputs = {fmt: html_text.unescape(render(iam_result, fmt)) for fmt in ("json", "sarif", "junit", "markdown", "html")}
    outputs["terminal"] = " ".join(terminal(iam_result).split())  # wrapped at 100 columns
    for name, text in outputs.items():
        assert WHY_FAILED in text, f"{name}: the failure's reason is missing"
        assert WHY_NOT_EVALUATED in text, f"{name}: why a check could not evaluate is missing"


def test_not_evaluated_is_its_own_status_in_every_format(iam_result):
    pending = [f for f in iam_result.findings if f.status == NOT_EVALUATED]
    assert pending and not any(f.blocking for f in pending)
    assert json.loads(render(iam_result, "json"))["summary"]["not_evaluated"] == len(pending)
    sarif = json.loads(render(iam_result, "sarif"))["runs"][0]["results"]
    review = [r for r in sarif if r.get("kind") == "review"]
    assert len(review) == len(pending) and {r["level"] for r in review} == {"none"}
    skipped = [c for c in ET.fromstring(render(iam_result, "junit")).iter("testcase")
               if c.find("skipped") is not None and c.find("skipped").get("message", "").startswith("not evaluated")]
    assert len(skipped) == len(pending)
    assert f"{len(pending)} not evaluated" in terminal(iam_result)
    assert "<b>Not evaluated</b>" in render(iam_result, "markdown")


def test_sarif_locations_are_relative_to_the_repository_root_when_run_outside_it(iam_result):
    expected = (FIXTURES / "iam_shapes" / "main.tf").relative_to(REPO).as_posix()
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(render(iam_result, "sarif"))["runs"][0]["results"] for loc in r["locations"]}
    assert uris == {expected}


def test_module_findings_carry_the_module_call_in_every_format(module_result):
    finding = next(f for f in module_result.findings
                   if f.check_id == "CKV_AWS_50" and f.address == "module.transform.aws_lambda_function.this[0]")
    assert finding.status == FAILED and (finding.caller_file, finding.caller_line) == ("examples/complete/main.tf", 12)
    sarif = json.loads(render(module_result, "sarif"))["runs"][0]["results"]
    entry = next(r for r in sarif if r["partialFingerprints"]["aegisResource/v1"].endswith(finding.address))
    related = entry["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"].endswith("function_module/examples/complete/main.tf")
    assert related["region"]["startLine"] == 12
    assert entry["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("function_module/main.tf")
    called = "main.tf:62 (called from examples/complete/main.tf:12)"
    for fmt in ("junit", "markdown"):
        assert called in html_text.unescape(render(module_result, fmt)), fmt
    assert called in " ".join(terminal(module_result).split())
    html = render(module_result, "html")
    assert "examples/complete/main.tf:12" in html
    module_file = (FIXTURES / "function_module" / "main.tf").relative_to(REPO).as_posix()
    assert f"{module_file}:62" in html  # the module's own file, not the example's folder


def test_hand_written_terraform_reports_no_synth_sections_and_no_repeated_address(module_result):
    html = render(module_result, "html")
    for section in ('id="compliance"', 'id="architecture"', 'id="inventory"', "--synth-out"):
        assert section not in html, section
    assert 'id="findings"' in html
    assert "Construct path" not in html  # hand-written resources have no construct path but their address
    assert "construct:" not in terminal(module_result)
    markdown = render(module_result, "markdown")
    assert "<br>module.transform.aws_lambda_function.this[0]" not in markdown
