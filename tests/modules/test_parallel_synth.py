"""Parallel synth (modules/synth.py): stacks shared out among processes give the same bytes as one
process, every stack is built exactly once, and a failing worker fails the synth cleanly."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from modules import synth
from modules.config import load_all
from modules.naming import STACK_ORDER


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_parallel_synth_is_byte_identical_to_one_process(tmp_path):
    configs = load_all(("dev",))
    one = tmp_path / "one"
    many = tmp_path / "many"
    synth.synthesize(configs, one, workers=1)
    synth.synthesize(configs, many, workers=3)  # three groups: this process and two workers
    assert len(synth.plan_groups(configs, 3)) == 3
    serial, parallel = _files(one), _files(many)
    assert serial.keys() == parallel.keys()
    assert [name for name in serial if serial[name] != parallel[name]] == []
    manifest = json.loads(parallel["manifest.json"])
    assert manifest["stacks"]["dev-platform"]["dependencies"] == ["dev-data"]  # the apply chain is kept


def test_stable_stringify_writes_json_like_cdktf(synthesized):
    manifest = (synthesized.out / "manifest.json").read_text()
    assert synth.stable_stringify(json.loads(manifest)) == manifest
    assert synth.stable_stringify({"b": [], "a": {}}) == '{\n  "a": {\n  },\n  "b": [\n  ]\n}'


def test_groups_cover_every_stack_once_and_keep_pillars_together():
    configs = load_all()
    every = sorted((c.name, i) for c in configs for i in range(len(STACK_ORDER)))
    for workers in (1, 2, 3, 4, 20):
        groups = synth.plan_groups(configs, workers)
        assert sorted(unit for group in groups for unit in group) == every
        assert len(groups) == min(workers, len(every))
        assert groups == synth.plan_groups(configs, workers)  # deterministic
    two = synth.plan_groups(configs, 2)
    for index in range(len(STACK_ORDER)):  # with two workers no pillar is split across them
        assert sum(any(i == index for _, i in group) for group in two) == 1


def test_worker_count_follows_cores_work_and_overrides(monkeypatch):
    configs = load_all()
    monkeypatch.delenv("AEGIS_SYNTH_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert synth.synth_workers(configs) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert synth.synth_workers(configs) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert 2 < synth.synth_workers(configs) < 64  # bounded by the work, not only by the cores
    monkeypatch.setenv("AEGIS_SYNTH_WORKERS", "1")
    assert synth.synth_workers(configs) == 1
    monkeypatch.setenv("AEGIS_EAGER_PROVIDER", "1")
    monkeypatch.setenv("AEGIS_SYNTH_WORKERS", "4")
    assert synth.synth_workers(configs) == 1  # the eager baseline is always one plain process


def test_a_failing_worker_fails_the_synth_and_keeps_the_old_output(tmp_path, monkeypatch):
    fake_python = tmp_path / "python"
    fake_python.write_text("#!/bin/sh\ncat >/dev/null\necho 'Traceback (most recent call last):' >&2\n"
                           "echo 'ValueError: model vision needs a certificate' >&2\nexit 2\n")
    fake_python.chmod(fake_python.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(synth.sys, "executable", str(fake_python))

    def build_app(configs, outdir, units=None):  # this process's share: a tiny valid output
        class App:
            def synth(self):
                Path(outdir, "stacks").mkdir(parents=True)
                Path(outdir, "manifest.json").write_text(json.dumps({"stacks": {}, "version": "0.21.0"}))
        return App()

    monkeypatch.setattr("modules.app.build_app", build_app)
    out = tmp_path / "cdktf.out"
    out.mkdir()
    (out / "keep.txt").write_text("previous output")
    with pytest.raises(synth.SynthError, match="ValueError: model vision needs a certificate"):
        synth.synthesize(load_all(("dev",)), out, workers=2)
    assert (out / "keep.txt").read_text() == "previous output"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".cdktf.out")] == []
