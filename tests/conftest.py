"""Shared fixtures. The provider bindings are the slow part: synthesize once per session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.synthesized import Synthesized

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false")


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Each test starts with an empty cache of its own, never the project's .aegis/cache/: a hit left by
    another test (or a developer's run) would skip what the test is about."""
    folder = tmp_path_factory.mktemp("aegis-cache")
    monkeypatch.setenv("AEGIS_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    """The default app (every environment in environments/), synthesized once."""
    from modules.config import load_all
    from modules.synth import synthesize

    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(load_all(), out)
    return Synthesized(out)


@pytest.fixture(params=("dev", "staging", "prod"))
def env(request) -> str:
    return request.param
