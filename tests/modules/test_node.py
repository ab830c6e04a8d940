"""jsii needs Node.js ≥ 18: anything else is one clear line and exit 2."""
from __future__ import annotations

import stat

from click.testing import CliRunner

import main
from modules.node import node_problem


def fake_node(tmp_path, version: str):
    path = tmp_path / "node"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_current_node_is_accepted(tmp_path):
    assert node_problem(fake_node(tmp_path, "v20.20.2")) is None


def test_old_node_is_refused(tmp_path):
    assert node_problem(fake_node(tmp_path, "v16.20.0")) == "Node.js 18 or newer is required; found v16.20.0"


def test_missing_node_exits_2_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr("modules.node.shutil.which", lambda _: None)
    result = CliRunner().invoke(main.cli, ["synth", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "Node.js 18 or newer is required" in result.output
    assert not (tmp_path / "out").exists()
