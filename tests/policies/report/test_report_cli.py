"""`python main.py report`: renders a saved gate result next to the synth output, refuses what it cannot
render with a clear message (exit 2), and regenerates the README's architecture picture."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import policies.report_cli as report_cli
from main import cli


@pytest.fixture
def saved(gate_doc, tmp_path):
    path = tmp_path / "saved" / "aegis-gate.json"
    path.parent.mkdir()
    path.write_text(json.dumps(gate_doc))
    return path


def test_renders_a_saved_result(saved, synthesized, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--from", str(saved), "--synth-out", str(synthesized.out),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "aegis-gate.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and '<figure class="diagram"' in html and "<svg" in html
    assert "wrote" in result.output and "aegis-gate.html" in result.output
    # progress goes to stderr, as one plain line off a terminal
    assert "Rendering the HTML report of aegis-gate.json done (" in result.stderr
    assert "\033[" not in result.output


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    ("{not json", "not readable JSON"),
    ('{"tool": "something else"}', "not an Aegis gate result"),
])
def test_refuses_what_it_cannot_render(tmp_path, content, message):
    path = tmp_path / "aegis-gate.json"
    if content is not None:
        path.write_text(content)
    result = CliRunner().invoke(cli, ["report", "--from", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output


def test_option_combinations_that_make_no_sense(saved, tmp_path):
    runner = CliRunner()
    both = runner.invoke(cli, ["report", "--from", str(saved), "--run"])
    assert both.exit_code == 2 and "choose one" in both.output
    env = runner.invoke(cli, ["report", "--from", str(saved), "--env", "dev", "--out", str(tmp_path)])
    assert env.exit_code == 2 and "--run" in env.output
    arch = runner.invoke(cli, ["report", "--write-architecture", "--run"])
    assert arch.exit_code == 2


def test_write_architecture_writes_the_diagram(synthesized, tmp_path, monkeypatch):
    monkeypatch.setattr(report_cli, "architecture_file", lambda env: tmp_path / "docs" / f"architecture-{env}.svg")
    written = report_cli.write_architecture(("dev",), synthesized.out)
    assert written == [tmp_path / "docs" / "architecture-dev.svg"]
    assert written[0].read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
