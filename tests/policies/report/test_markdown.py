"""The PR comment: verdict first, a table per environment, failures with their SARIF locations (linked to
the PR's code-scanning alerts in GitHub Actions), collapsible details, and always under GitHub's
65,536-character limit, saying what was cut."""
from __future__ import annotations

import re

import pytest

from policies.findings import Finding, Suppression
from policies.gate import GateResult
from policies.report import markdown

GITHUB = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/aegis",
          "GITHUB_REF": "refs/pull/42/merge"}


@pytest.fixture
def no_github(monkeypatch):
    for name in (*GITHUB, "AEGIS_PR_NUMBER"):
        monkeypatch.delenv(name, raising=False)


def test_verdict_first_then_a_table_per_environment(app_gate, no_github):
    text = markdown.render(app_gate)
    first = text.splitlines()[0]
    assert first == f"## {markdown.ICON[app_gate.verdict]} Aegis policy gate: {app_gate.verdict.upper()}"
    headings = re.findall(r"^### .* (\S+): (PASS|FAIL|ERROR) \(", text, re.M)
    assert [env for env, _ in headings] == sorted(app_gate.thresholds)
    for env, verdict in headings:
        blocking = any(f.blocking for f in app_gate.findings if f.env == env)
        assert verdict == ("FAIL" if blocking else "PASS"), env
        table = text.split(f" {env}: ", 1)[1].split("\n\n", 2)[1]
        pillars = {f.pillar for f in app_gate.findings if f.env == env}
        assert table.startswith("| pillar | critical | high | medium | low | suppressed | passed |")
        assert {row.split(" | ")[0].strip("| ") for row in table.splitlines()[2:]} == pillars


def test_failures_show_sarif_locations(app_gate, no_github):
    text = markdown.render(app_gate)
    failed = [f for f in app_gate.findings if f.status == "failed"]
    assert failed
    for f in failed:
        assert f"`{app_gate.target}/{f.file}:{f.line or 1}`" in text
        assert f"`{f.stack}/{f.address or '(stack)'}`" in text
    assert "](http" not in text  # no links outside GitHub Actions


def test_in_github_actions_locations_link_to_the_pull_requests_alerts(app_gate, monkeypatch):
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    text = markdown.render(app_gate)
    f = next(f for f in app_gate.findings if f.status == "failed")
    link = ("https://github.com/acme/aegis/security/code-scanning?query="
            f"is%3Aopen%20pr%3A42%20tool%3Aaegis-gate%20rule%3A{f.check_id}")
    assert f"[`{app_gate.target}/{f.file}:{f.line or 1}`]({link})" in text
    monkeypatch.setenv("AEGIS_PR_NUMBER", "7")
    assert "pr%3A7%20" in markdown.render(app_gate)


def test_details_are_collapsible_and_blocking_ones_open(app_gate, no_github):
    text = markdown.render(app_gate)
    assert text.count("<details") == text.count("</details>") > 0
    if any(f.blocking for f in app_gate.findings):
        assert "<details open><summary><b>Blocking failures</b>" in text
    assert "<summary><b>How to fix</b>" in text
    for s in app_gate.suppressions:
        assert s.where in text


def _finding(i: int) -> Finding:
    return Finding(check_id=f"CKV_AWS_{i % 40}", status="failed", severity=("high", "medium", "low")[i % 3],
                   env=("dev", "prod")[i % 2], stack=f"{('dev', 'prod')[i % 2]}-data", pillar="data",
                   address=f"aws_s3_bucket.bucket_number_{i:05d}_with_a_long_logical_id",
                   construct_path=f"prod-data/some/deep/construct/path/number/{i}", title="A title " * 5,
                   remediation="Do the right thing " * 8, controls={}, file="stacks/prod-data/cdk.tf.json",
                   line=i + 1, blocking=i % 2 == 1)


def test_a_huge_result_is_cut_below_the_limit_and_says_what_was_cut(no_github):
    findings = [_finding(i) for i in range(3000)]
    suppressions = [Suppression(f"CKV_AWS_{i}", "a reviewed reason " * 4, "2027-01-01", "inline",
                                f"prod-data/aws_s3_bucket.b{i}") for i in range(200)]
    result = GateResult(exit_code=1, findings=findings, suppressions=suppressions,
                        thresholds={"dev": "high", "prod": "low"}, stacks={"dev-data": 1500, "prod-data": 1500},
                        target="cdktf.out")
    text = markdown.render(result)
    assert len(text) < markdown.LIMIT < 65_536
    assert text.startswith("## ❌ Aegis policy gate: FAIL")
    assert "### ❌ prod: FAIL" in text and "### ✅ dev: PASS" in text  # tables per environment survive
    note = re.search(r"\*\*Truncated\*\* .*", text).group(0)
    cut = {what: int(n) for n, what in re.findall(r"(\d+) row\(s\) of ([a-z ]+?)(?:,| not shown)", note)}
    # the least important rows go first: fine suppressions, then failures below the threshold
    assert cut["suppressions"] == len(suppressions)
    assert cut["failures below the threshold"] == sum(1 for f in findings if not f.blocking)
    blocking_shown = text.count("`prod-data/aws_s3_bucket.bucket_number_")
    assert 0 < blocking_shown < sum(1 for f in findings if f.blocking)
    assert cut["blocking failures"] == sum(1 for f in findings if f.blocking) - blocking_shown
    assert text.count("<details") == text.count("</details>")


def test_a_small_result_is_not_truncated(app_gate, no_github):
    assert "Truncated" not in markdown.render(app_gate)
