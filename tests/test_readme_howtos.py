"""The README's how-tos keep the suite green: "Add a model" and "Add an environment" are applied as written to a
copy of this repository, and there the copy's environments load, CI plans
the new environment, and the tests that pin a configuration still pass: they judge the tests' own copy of the
environments (tests/fixtures/environments), not the files the how-tos change."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from modules.config import load_all
from modules.synth_record import why_stale
from tests.readme_blocks import ROOT, applied_copy, run_python

# Tests that used to pin the shipped environments (the list of environments, the models of dev, a model's
# position), each a kind of its own, and the tests of the shipped files themselves.
PINNING_TESTS = ["tests/test_shipped_environments.py", "tests/modules/test_config.py",
                 "tests/modules/test_synth_command.py", "tests/modules/test_app.py", "tests/platform/test_settings.py",
                 "tests/platform/test_lambda.py", "tests/platform/test_cross_cutting.py",
                 "tests/policies/report/test_workflows.py", "tests/modules/test_config_docs.py"]


@pytest.fixture(scope="module")
def howtos_applied(tmp_path_factory, synthesized) -> tuple[Path, dict[str, str]]:
    """The copy changes no code, so the tests run there reuse the session's synth output (fresh for the same
    environments, code and toolchain) instead of synthesizing again."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to copy")
    copy = tmp_path_factory.mktemp("howtos") / "aegis"
    written, env = applied_copy(copy, ("## How to",), tmp_path_factory.mktemp("cache"), synthesized.out)
    assert written == ["environments/dev.yaml", "environments/qa.yaml", ".github/workflows/aegis-plan.yml"]
    # what lets the copy's tests reuse the session's output: its environments for tests are the same
    assert why_stale(synthesized.out, load_all((), copy / "tests" / "fixtures" / "environments")) is None
    return copy, env


def test_the_howtos_change_what_they_say(howtos_applied):
    copy, env = howtos_applied
    dev = yaml.safe_load((copy / "environments" / "dev.yaml").read_text(encoding="utf-8"))
    assert "ticket-router" in [m["name"] for m in dev["platform"]["models"]]
    listed = run_python(["main.py", "envs"], copy, env)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["dev", "prod", "qa", "staging"]


def test_the_suite_stays_green_after_the_howtos(howtos_applied):
    copy, env = howtos_applied
    result = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", *PINNING_TESTS], copy, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
