"""Synthesis as the commands run it (modules/synth_command.py): one path through the synth cache for
every command. The hook the gate loads checkov in runs only when synth really runs; a fresh output is
left alone; a stale one is synthesized again, or refused (exit 2) with --no-synth. Real synth runs are
replaced by copies of the session's synth output."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import modules.node
import modules.synth
from main import cli
from modules.config import load_all
from modules.synth_command import ensure_synthesized, synthesize_cached
from modules.synth_record import RECORD


@pytest.fixture
def events(synthesized, monkeypatch) -> list:
    """What happened, in order: ("synth", [environments]) for each synth run, "hook" for each hook call."""
    happened: list = []

    def synthesize(configs, out):
        happened.append(("synth", [c.name for c in configs]))
        if Path(out).exists():
            shutil.rmtree(out)
        shutil.copytree(synthesized.out, out)
        return synthesized.stack_names

    monkeypatch.setattr(modules.synth, "synthesize", synthesize)
    monkeypatch.setattr(modules.node, "node_problem", lambda: None)
    with click.Context(cli):  # the commands' context: the default environments folder
        yield happened


def _stale(out: Path, env: str) -> None:
    record = json.loads((out / RECORD).read_text())
    record["environments"][env] = "0" * 64
    (out / RECORD).write_text(json.dumps(record))


def test_the_hook_runs_just_before_synth_and_never_on_a_cache_hit(events, tmp_path, capsys):
    out = tmp_path / "cdktf.out"

    def hook():
        events.append("hook")

    assert synthesize_cached((), out, while_synthesizing=hook) == sorted(p.name for p in (out / "stacks").iterdir())
    assert events == ["hook", ("synth", ["dev", "prod", "staging"])]
    assert "synth: cache miss" in capsys.readouterr().err
    synthesize_cached((), out, while_synthesizing=hook)
    assert len(events) == 2 and "synth: cache hit" in capsys.readouterr().err
    synthesize_cached((), out, use_cache=False, while_synthesizing=hook)
    assert events[2:] == ["hook", ("synth", ["dev", "prod", "staging"])]


def test_a_fresh_output_is_left_alone_and_a_stale_one_synthesized_or_refused(events, synthesized, tmp_path, capsys):
    out = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    configs = load_all()
    ensure_synthesized(configs, out)
    assert events == []
    _stale(out, "dev")
    with pytest.raises(SystemExit) as refused:
        ensure_synthesized(configs, out, no_synth=True)
    assert refused.value.code == 2 and events == []
    assert "older than its configuration" in capsys.readouterr().err
    ensure_synthesized(configs, out, note=" (and why)")
    assert events == [("synth", ["dev", "prod", "staging"])]
    assert "older than its configuration (environments/dev.yaml or base.yaml changed since): synthesizing (and why)" \
        in capsys.readouterr().err


def test_keep_others_synthesizes_the_other_environments_of_the_output_too(events, synthesized, tmp_path):
    out = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    _stale(out, "prod")
    ensure_synthesized(load_all(["prod"]), out, keep_others=True)
    assert events == [("synth", ["dev", "prod", "staging"])]
    _stale(out, "prod")
    ensure_synthesized(load_all(["prod"]), out, use_cache=False)
    assert events[1:] == [("synth", ["prod"])]


class _Judged(Exception):
    """Raised in place of the gate's scan: the test is about what was synthesized before it."""


def test_gate_of_one_environment_keeps_the_others_in_the_output(events, synthesized, tmp_path, monkeypatch):
    """`gate --env dev` on a stale output used to replace it with dev's stacks alone, so the next full gate
    found prod missing and synthesized again; it now synthesizes the output's other environments too."""
    import policies.gate

    def judged(*args, **kwargs):
        raise _Judged

    monkeypatch.setattr(policies.gate, "run_gate", judged)
    monkeypatch.setattr("policies.cli.prewarm_checkov", lambda: None)
    out = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    _stale(out, "dev")
    result = CliRunner().invoke(cli, ["gate", "--env", "dev", "--synth-out", str(out), "--no-cache",
                                      "--out", str(tmp_path / "reports")])
    assert isinstance(result.exception, _Judged) or "_Judged" in result.output, result.output
    assert events == [("synth", ["dev", "prod", "staging"])]
