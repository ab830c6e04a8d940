"""Report fixtures: the HTML report of the session's one gate run (`app_gate`, tests/policies/conftest.py)
over the session's one synth (`synthesized`), rendered once at a fixed generation time."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from policies.report.json_report import document

GENERATED = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.timezone.utc)
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def gate_doc(app_gate) -> dict:
    """The gate result as its JSON report: what `report --from` renders and what the tests compare to."""
    return json.loads(json.dumps(document(app_gate)))


@pytest.fixture(scope="session")
def report_file(app_gate, synthesized, tmp_path_factory) -> Path:
    from policies.report.html import render

    path = tmp_path_factory.mktemp("reports") / "aegis-gate.html"
    path.write_text(render(app_gate, synth_out=synthesized.out, generated=GENERATED), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def report_html(report_file) -> str:
    return report_file.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def stacks(synthesized) -> dict[str, dict]:
    from policies.report.diagram import load_stacks

    return load_stacks(synthesized.out)
