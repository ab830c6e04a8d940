"""Values from the judged code must not act on where they are shown: in the PR comment, no GitHub math
and no heading or list opened at the head of a list item; in the terminal summary, the plan summary
and the CLI's error lines (a CI log), no control character written raw: an escape sequence could
rewrite the screen, and a newline could start a `::workflow-command::` line in GitHub Actions."""
from __future__ import annotations

import io
import re

import cmarkgfm
from click.testing import CliRunner
from cmarkgfm.cmark import Options

from main import cli
from modules.console import printable
from policies.findings import Finding
from policies.gate import GateResult
from policies.plan.plan_gate import PlanGateResult, PlanReport
from policies.plan.report import render_terminal
from policies.report import markdown
from policies.report.markdown_text import text
from policies.report.summary import render
from tests.modules.test_config import VALID_DEV, write_envs

WORKFLOW_COMMAND = "\n::error title=Aegis::all clear, merge it\n"
SCREEN = "\x1b[2J\x1b[32mAegis gate: PASS\x1b[0m\r"


def _github_html(comment: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(comment, options=Options.CMARK_OPT_UNSAFE)


def _result(*errors: str, address: str = "aws_s3_bucket.b1") -> GateResult:
    finding = Finding(check_id="CKV_AWS_20", status="failed", severity="high", env="dev", stack="dev-data",
                      pillar="data", address=address, construct_path=f"dev-data/{address}", title="S3 bucket ACL",
                      catalogued=True, remediation="Remove the ACL", controls={}, file="stacks/dev-data/cdk.tf.json",
                      line=3, source="checkov", message="", blocking=True)
    return GateResult(exit_code=1, findings=[finding], errors=list(errors), thresholds={"dev": "high"},
                      stacks={"dev-data": 1}, target="cdktf.out")


def _starts_a_workflow_command(output: str) -> bool:
    return any(line.lstrip().startswith("::") for line in output.splitlines())


# ---------------------------------------------------------------- the PR comment

def test_attack_github_math_in_a_value_does_not_render(monkeypatch):
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "AEGIS_PR_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    comment = markdown.render(_result(r"$\huge\text{PASS}$", address=r"aws_s3_bucket.$$\color{green}ok$$"))
    # GitHub finds math by its `$` delimiters in the Markdown source: none outside code spans (inert)
    assert "$" not in re.sub(r"(`+).+?\1", "", comment)
    assert r"$\huge\text{PASS}$" in _github_html(comment).replace("&#92;", "\\")  # still shown, as text


def test_attack_value_at_the_head_of_a_list_item_opens_no_heading_or_list(monkeypatch):
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "AEGIS_PR_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    rendered = _github_html(markdown.render(_result("# All clear", "- nested list", "1. ordered list", "+ plus")))
    assert "<h1" not in rendered
    for value in ("# All clear", "- nested list", "1. ordered list", "+ plus"):
        assert f"<li>{value}</li>" in rendered, rendered


def test_text_keeps_ordinary_values_readable():
    assert text("2 findings in 1.5 GB, a-b") == "2 findings in 1.5 GB, a-b"
    assert text("#1") == "&#35;\u200b1"


# ---------------------------------------------------------------- terminal and CI log

def test_printable_escapes_c0_c1_and_del_only():
    assert printable("a\nb\r\tc\x1b[0m\x7f\x85\x9bé→✓") == "a\\nb\\r\\tc\\x1b[0m\\x7f\\x85\\x9bé→✓"


def test_attack_escape_sequence_in_a_resource_address_does_not_reach_the_terminal():
    output = render(_result("a stack named " + SCREEN, address="aws_s3_bucket.b1" + SCREEN), io.StringIO())
    assert "\x1b" not in output and "\r" not in output
    assert "\\x1b[2J" in output  # shown, escaped


def test_attack_newline_in_a_plan_note_or_stack_cannot_start_a_workflow_command():
    result = PlanGateResult(exit_code=0, target="plans", notes=[f"plan.json{WORKFLOW_COMMAND}"],
                            plans=[PlanReport(stack=f"dev-data{WORKFLOW_COMMAND}", env="dev", file="plan.json",
                                              changes={"create": 1}, verdict="pass")])
    output = render_terminal(result, io.StringIO())
    assert not _starts_a_workflow_command(output), output
    assert "\\n::error title=Aegis::all clear" in output


def test_attack_newline_in_an_error_line_of_the_cli_cannot_start_a_workflow_command(tmp_path):
    """An environment file whose key carries a newline: the error names the key, on one line."""
    envs = write_envs(tmp_path, {"dev.yaml": VALID_DEV + '"x\\n::error title=Aegis::all clear, merge it": 1\n'})
    result = CliRunner().invoke(cli, ["--environments", str(envs), "validate"])
    assert result.exit_code == 2
    assert not _starts_a_workflow_command(result.output), result.output
    assert "x\\n::error title=Aegis::all clear" in result.output
