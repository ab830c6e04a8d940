"""Terminal experience: progress with elapsed time while the slow parts run (spinner on a terminal, one
plain line otherwise), colour only on a terminal without NO_COLOR, and a summary that stays within 100
columns even for long names. (tests/policies/gate/test_formats.py checks the summary of the real app.)"""
from __future__ import annotations

import io
import re
import time

import pytest

from modules.console import colour_enabled, paint, step
from policies.findings import Finding
from policies.gate import GateResult
from policies.report.summary import WIDTH, render

ANSI = re.compile(r"\033\[[0-9;]*[A-Za-z]")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def colour(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)


def test_progress_off_a_terminal_is_one_plain_line(colour):
    stream = io.StringIO()
    with step("Judging 3 environment(s)", stream):
        time.sleep(0.25)
    text = stream.getvalue()
    assert re.fullmatch(r"Judging 3 environment\(s\) done \(\d+\.\ds\)\n", text), text
    assert "\r" not in text and not ANSI.search(text)


def test_progress_on_a_terminal_spins_with_elapsed_time(colour):
    stream = Tty()
    with step("Loading AWS provider bindings", stream):
        time.sleep(0.35)
    text = stream.getvalue()
    frames = re.findall(r"\r. Loading AWS provider bindings +\d+\.\ds", text)
    assert len(frames) >= 2  # the spinner moved while the block ran
    assert text.endswith("done ({:.1f}s)\n".format(float(re.search(r"done \((\d+\.\d)s\)", text).group(1))))
    assert "\r\033[K" in text  # the spinner line is cleared before the final line


def test_no_color_turns_off_spinner_and_colour_even_on_a_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Tty()
    with step("Synthesizing", stream):
        time.sleep(0.25)
    assert "\r" not in stream.getvalue() and not ANSI.search(stream.getvalue())
    assert paint("x", "red", Tty()) == "x"
    assert not colour_enabled(Tty())


def test_colour_only_on_a_terminal(colour):
    assert paint("x", "red", io.StringIO()) == "x"
    assert paint("x", "red", Tty()) == "\033[31mx\033[0m"


def test_progress_survives_an_error_and_clears_the_line(colour):
    stream = Tty()
    with pytest.raises(RuntimeError), step("Running checkov", stream):
        time.sleep(0.15)
        raise RuntimeError("boom")
    assert stream.getvalue().endswith("\r\033[K")


def _long(i: int, status: str = "failed") -> Finding:
    return Finding(check_id="AEGIS_A_VERY_LONG_APP_LEVEL_CHECK_IDENTIFIER_THAT_GOES_ON", status=status,
                   severity="high", env="a-rather-long-environment-name", stack="a-rather-long-environment-name-platform",
                   pillar="platform", address="aws_sagemaker_endpoint_configuration." + "x" * 90 + str(i),
                   construct_path="a-rather-long-environment-name-platform/" + "/".join(["segment"] * 20),
                   title="A title that is long enough to wrap onto a second line in the terminal summary " * 2,
                   remediation="Fix it by doing something that takes a long sentence to explain properly " * 3,
                   controls={}, file="stacks/x/cdk.tf.json", line=1, source="app",
                   message="why: " + "because " * 30, blocking=True)


@pytest.mark.parametrize("stream", [io.StringIO(), Tty()], ids=["plain", "terminal"])
def test_summary_fits_100_columns_with_long_names(stream, colour):
    result = GateResult(exit_code=1, findings=[_long(i) for i in range(12)] + [_long(99, "passed")],
                        thresholds={"a-rather-long-environment-name": "low"}, stacks={"s": 10 ** 6}, target="cdktf.out",
                        seconds=1234.5)
    text = render(result, stream)
    lines = ANSI.sub("", text).splitlines()
    assert max(len(line) for line in lines) <= WIDTH == 100, max(lines, key=len)
    assert ("\033[" in text) == isinstance(stream, Tty)
