"""Shared fixtures. The provider bindings are the slow part: synthesize once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.synthesized import Synthesized

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")
# The environments the tests know: a copy of environments/ as the tests were written against, so adding a
# model or an environment as the README's how-tos say changes no test. Subprocesses inherit it. Tests about
# the shipped files (tests/test_shipped_environments.py) name ROOT / "environments" themselves.
FIXTURE_ENVIRONMENTS = ROOT / "tests" / "fixtures" / "environments"
SHIPPED_ENVIRONMENTS = ROOT / "environments"
os.environ["AEGIS_ENVIRONMENTS"] = str(FIXTURE_ENVIRONMENTS)
# A fresh synth output of exactly these environments, generator and toolchain (tests/test_readme_howtos.py hands
# its own to the tests it runs on a copy of the repository): used instead of synthesizing again. Read only.
REUSE_SYNTH_ENV_VAR = "AEGIS_TEST_SYNTH_OUT"


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Each test starts with an empty cache of its own, never the project's .aegis/cache/: a hit left by
    another test (or a developer's run) would skip what the test is about."""
    folder = tmp_path_factory.mktemp("aegis-cache")
    monkeypatch.setenv("AEGIS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    """The default app (every environment the tests know, FIXTURE_ENVIRONMENTS), synthesized once."""
    from modules.config import load_all
    from modules.synth import synthesize
    from modules.synth_record import why_stale

    configs = load_all()
    reused = os.environ.get(REUSE_SYNTH_ENV_VAR)
    if reused and why_stale(Path(reused), configs) is None:  # a suite run on a copy of the repository
        return Synthesized(Path(reused))
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(configs, out)
    return Synthesized(out)


@pytest.fixture(params=("dev", "staging", "prod"))
def env(request) -> str:
    return request.param

