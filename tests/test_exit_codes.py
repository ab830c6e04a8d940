"""The exit-code contract (policies/commands.py `FailClosedGroup`): whatever goes wrong in any command,
it exits 2 with one line saying which file and why, never a traceback and never exit 1 (which means
"policy failures"). The file-system failures: a read-only folder, a file where a folder is expected,
and a full disk (tests/os_faults.py)."""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from main import cli
from modules import synth_cache
from tests.os_faults import disk_full, read_only
from tests.policies.gate.conftest import bucket, stack_doc, write_out

FAULTS = ("read-only folder", "a file where a folder is expected", "disk full")
REASON = {"read-only folder": "Permission denied", "a file where a folder is expected": "",
          "disk full": "No space left on device"}


def _place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str, name: str) -> Path:
    """Where a command will write `name` (a folder or file), with `fault` in the way."""
    if fault == "a file where a folder is expected":
        (tmp_path / "blocker").write_text("I am a file")
        return tmp_path / "blocker" / name
    folder = tmp_path / "target"
    folder.mkdir()
    (read_only if fault == "read-only folder" else disk_full)(monkeypatch, folder)
    return folder / name


def _one_clear_line(result, *names: str, reason: str = "") -> str:
    """Exit 2, no exception escaped, exactly one `error:` line, naming what failed and why."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    line = errors[0]
    assert "Traceback" not in result.output and "Errno" not in line and "Error:" not in line, line
    for name in names:
        assert name in line, line
    assert reason in line, line
    return line


@pytest.mark.parametrize("fault", FAULTS)
def test_synth_into_an_unwritable_output_is_one_error_line(fault, synthesized, tmp_path, monkeypatch):
    synth_cache.store(synth_cache.synth_key(()), synthesized.out)  # restored, not synthesized: no jsii needed
    out = _place(tmp_path, monkeypatch, fault, "cdktf.out")
    result = CliRunner().invoke(cli, ["synth", "--out", str(out)])
    line = _one_clear_line(result, reason=REASON[fault])
    assert ("blocker" in line) if fault == "a file where a folder is expected" else ("target" in line)
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


def test_synth_without_the_cache_into_a_read_only_folder_is_one_error_line(tmp_path, monkeypatch):
    out = _place(tmp_path, monkeypatch, "read-only folder", "cdktf.out")
    result = CliRunner().invoke(cli, ["synth", "--no-cache", "--out", str(out)])
    _one_clear_line(result, "target", reason="Permission denied")


@pytest.mark.parametrize("command", ["validate", "envs"])
def test_validate_and_envs_on_a_full_disk_are_one_error_line(command, monkeypatch):
    """`python main.py envs > listing.txt` on a full disk: the write of stdout fails."""
    real = click.echo

    def echo(message=None, file=None, nl=True, err=False, color=None):
        if not err:  # stdout only: the error line still reaches stderr
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(message, file, nl, err, color)

    monkeypatch.setattr(click, "echo", echo)
    _one_clear_line(CliRunner().invoke(cli, [command]), reason="No space left on device")


def test_a_crash_with_a_long_message_is_one_error_line(monkeypatch):
    """A bug (or a jsii error with a JavaScript stack after its message) is still one line, exit 2."""
    import main

    def crash(config):
        raise RuntimeError("naming failed\n    at Object.<anonymous> (stack.js:1:1)\n    at more.js:2:2")

    monkeypatch.setattr(main.Naming, "of", crash)
    result = CliRunner().invoke(cli, ["envs"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == ["error: RuntimeError: naming failed"]


@pytest.fixture
def small(tmp_path) -> list[str]:
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}})})
    (tmp_path / "exceptions.yaml").write_text("exceptions: []\n")
    return ["gate", "--no-synth", "--env", "dev", "--synth-out", str(out), "--format", "json",
            "--exceptions", str(tmp_path / "exceptions.yaml")]


@pytest.mark.parametrize("fault", FAULTS)
def test_gate_with_unwritable_reports_is_one_error_line(fault, small, tmp_path, monkeypatch):
    reports = _place(tmp_path, monkeypatch, fault, "reports")
    result = CliRunner().invoke(cli, [*small, "--out", str(reports)])
    _one_clear_line(result, "blocker" if fault == "a file where a folder is expected" else "target",
                    reason=REASON[fault])


@pytest.mark.parametrize("fault", FAULTS)
def test_checks_write_docs_into_an_unwritable_folder_is_one_error_line(fault, tmp_path, monkeypatch):
    import policies.cli

    rules = _place(tmp_path, monkeypatch, fault, "RULES.md")
    monkeypatch.setattr(policies.cli, "RULES_DOC", rules)
    result = CliRunner().invoke(cli, ["checks", "--write-docs"])
    _one_clear_line(result, "blocker" if fault == "a file where a folder is expected" else "RULES.md",
                    reason=REASON[fault])
    assert not rules.exists()  # nothing half-written


@pytest.mark.parametrize("fault", FAULTS)
def test_report_into_an_unwritable_folder_is_one_error_line(fault, tmp_path, monkeypatch):
    saved = tmp_path / "aegis-gate.json"
    saved.write_text(json.dumps({"verdict": "pass", "findings": [], "target": "cdktf.out",
                                 "generated": dt.date.today().isoformat()}))
    reports = _place(tmp_path, monkeypatch, fault, "reports")
    result = CliRunner().invoke(cli, ["report", "--from", str(saved), "--out", str(reports)])
    _one_clear_line(result, "blocker" if fault == "a file where a folder is expected" else "aegis-gate.html"
                    if fault == "disk full" else "target", reason=REASON[fault])


def test_a_usage_error_stays_clicks(tmp_path):
    """Not every exit 2 is ours: click's own usage errors keep their message (and exit 2)."""
    result = CliRunner().invoke(cli, ["gate", "--format", "pdf"])
    assert result.exit_code == 2 and "Invalid value for '--format'" in result.output


def test_every_command_runs_fail_closed():
    assert isinstance(cli, click.Group) and type(cli).__name__ == "FailClosedGroup"
    assert {"synth", "validate", "envs", "gate", "checks", "report", "plan", "apply"} <= set(cli.commands)
