"""The verdict over the checks, the config block to paste, and the reports (values from the account are
rendered inert in Markdown and escaped in HTML)."""
from __future__ import annotations

import json

import yaml
from botocore.exceptions import ClientError

from policies.preflight import runner
from policies.preflight.model import Check, Outcome
from policies.preflight.report import render_html, render_markdown, write_reports

WHO = [Check("identity.account", "t", "pass", "ok"), Check("identity.deployer-role", "t", "pass", "ok")]


def outcome(*checks: Check) -> Outcome:
    return Outcome("dev", "111122223333", "eu-west-1", "arn:aws:iam::111122223333:role/aegis-deployer",
                   checks=WHO + list(checks))


def test_exit_codes():
    assert outcome(Check("a", "t", "pass", ""), Check("b", "t", "warn", "")).exit_code == 0
    assert outcome(Check("a", "t", "fail", ""), Check("b", "t", "error", "")).exit_code == 1
    assert outcome(Check("a", "t", "error", ""), Check("b", "t", "pass", "")).exit_code == 0
    assert outcome(Check("a", "t", "error", ""), Check("b", "t", "error", "")).exit_code == 2
    assert outcome().exit_code == 2  # nothing about the account judged


def test_nothing_judged_when_every_probe_errors(monkeypatch, fake_credentials):
    """A run where every read of the account is refused exits 2, never passes."""
    from types import SimpleNamespace

    from modules.config import load_env
    from policies.preflight import aws as preflight_aws

    def refused(ctx):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListThings")

    monkeypatch.setattr(runner, "MODULES", [SimpleNamespace(PROBES=[("x.one", "One", refused),
                                                                     ("x.two", "Two", refused)])])
    monkeypatch.setattr(runner, "caller_of", lambda aws: preflight_aws.Caller("111122223333", "arn:aws:iam::111122223333:user/a"))
    result = runner.run(load_env("dev"), {}, aws=None, assume=False)  # type: ignore[arg-type]
    assert [c.status for c in result.checks[2:]] == ["error", "error"]
    assert "access denied to ListThings" in result.checks[2].found
    assert result.exit_code == 2 and result.verdict == "NOT RUN"


def test_paste_merges_every_setting_into_one_block():
    result = outcome(
        Check("a", "t", "fail", "", paste=(("governance.adopt.guardduty_detector", "ab" * 16),)),
        Check("b", "t", "fail", "", paste=(("governance.central", ["config"]),)),
        Check("c", "t", "fail", "", paste=(("governance.central", ["macie"]), ("governance.adopt.inspector", True))))
    assert yaml.safe_load(result.paste_yaml()) == {"governance": {
        "adopt": {"guardduty_detector": "ab" * 16, "inspector": True}, "central": ["config", "macie"]}}


def test_reports_render_account_values_inert(tmp_path):
    hostile = "<img src=x onerror=alert(1)> [link](https://evil) | @everyone"
    result = outcome(Check("singleton.x", "t", "fail", hostile, "fix it"))
    html = render_html(result)
    assert "<img" not in html and "&lt;img" in html
    markdown = render_markdown(result)
    assert "<img" not in markdown and "](https://" not in markdown and "@everyone" not in markdown
    written = write_reports(result, tmp_path / "r", ["markdown"])
    assert [p.name for p in written] == ["aegis-preflight.json", "aegis-preflight.md"]
    doc = json.loads(written[0].read_text())
    assert doc["checks"][-1] == {"id": "singleton.x", "title": "t", "status": "fail", "found": hostile,
                                 "fix": "fix it", "paste": {}}
    assert doc["verdict"] == "BLOCKED" and doc["exit_code"] == 1


def test_terminal_table_lists_fixes_and_the_paste_block_and_spins_only_on_a_terminal():
    import io

    from policies.preflight.terminal import Spinner, render

    result = outcome(Check("singleton.guardduty_detector.eu-west-1", "t", "fail", "detector exists\x1b[2J",
                           "adopt it", (("governance.adopt.guardduty_detector", "ab" * 16),)))
    text = render(result, io.StringIO())
    assert "fix: adopt it" in text and "\x1b" not in text and "\\x1b[2J" in text  # account values stay inert
    assert "Aegis preflight: BLOCKED" in text
    assert "Paste into environments/dev.yaml:" in text and f"      guardduty_detector: {'ab' * 16}" in text
    log = io.StringIO()
    with Spinner(log) as spinner:
        spinner.show("Reading GuardDuty")
    assert log.getvalue() == ""  # not a terminal: no spinner, no control characters
