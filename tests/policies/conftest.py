"""Fixtures shared by the policy tests: one gate run over the default app per session (checkov
costs seconds per run), used by the gate tests and the report tests alike."""
from __future__ import annotations

from pathlib import Path

import pytest

from policies.gate import run_gate

EMPTY_EXCEPTIONS = "exceptions: []\n"


@pytest.fixture(scope="session")
def no_exceptions(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exc") / "exceptions.yaml"
    path.write_text(EMPTY_EXCEPTIONS)
    return path


@pytest.fixture(scope="session")
def app_gate(synthesized, no_exceptions):
    """The gate's verdict on the default app (every environment), computed once."""
    return run_gate(synthesized.out, exceptions_file=no_exceptions)
