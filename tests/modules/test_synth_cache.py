"""Synth cache (modules/synth_cache.py, modules/cache.py): every input changes the key, timestamps do
not, a hit restores the output byte for byte and is reported, damaged entries are ignored, `--no-cache`
synthesizes anyway. Real synth runs are replaced by copies of the session's synth output."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from modules import cache, synth_cache, synth_record
from modules.config import environments_dir


@pytest.fixture
def envs(tmp_path) -> Path:
    """A private copy of environments/ to change."""
    return Path(shutil.copytree(environments_dir(), tmp_path / "environments"))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_each_input_changes_the_key_and_timestamps_do_not(envs, tmp_path, monkeypatch):
    base = synth_cache.synth_key((), envs)
    assert synth_cache.synth_key((), envs) == base  # stable
    seen = {base}

    def changed(label: str) -> None:
        key = synth_cache.synth_key((), envs)
        assert key not in seen, f"{label} did not change the key"
        seen.add(key)

    os.utime(envs / "dev.yaml", (1, 1))  # a timestamp is not an input
    assert synth_cache.synth_key((), envs) == base

    (envs / "dev.yaml").write_text((envs / "dev.yaml").read_text() + "\n# a comment is content too\n")
    changed("an environment file")
    (envs / "base.yaml").write_text((envs / "base.yaml").read_text().replace("AI-1001", "AI-1002"))
    changed("base.yaml")
    shutil.copy(envs / "dev.yaml", envs / "qa.yaml")
    changed("a new environment file")
    assert synth_cache.synth_key(("dev",), envs) not in seen  # the selection

    generator = tmp_path / "generator"
    shutil.copytree(Path(synth_cache.__file__).parent, generator / "modules",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(synth_record, "generator_files", lambda: cache.source_files(generator))
    monkeypatch.setattr(synth_record, "ROOT", generator)
    changed("the generator files (moved)")
    (generator / "modules" / "naming.py").write_text((generator / "modules" / "naming.py").read_text() + "\n")
    changed("a module's code")
    (generator / "modules" / "governance" / "conformance" / "managed_rules.yaml").write_text("rules: []\n")
    changed("a data file of modules/")
    (generator / "pyproject.toml").write_text('dependencies = ["cdktf==0.21.1"]\n')
    changed("pyproject.toml")

    versions = {dist: "1.0" for dist in synth_record.DEPENDENCIES}
    monkeypatch.setattr(synth_record, "_version", lambda dist: versions[dist])
    changed("installed versions")
    for dist in synth_record.DEPENDENCIES:
        versions[dist] = "1.1"
        changed(f"the installed {dist}")
    monkeypatch.setattr(synth_record.platform, "python_version", lambda: "3.11.99")
    changed("the Python version")
    monkeypatch.setattr(synth_record, "node_version", lambda: "v99.0.0")
    changed("the Node.js version")
    monkeypatch.setenv("CDKTF_CONTEXT_JSON", '{"x": 1}')
    changed("a CDKTF_ setting")
    monkeypatch.setenv("CDKTF_OUTDIR", "elsewhere")
    assert synth_cache.synth_key((), envs) in seen  # only where the output goes


def test_a_hit_restores_the_output_and_is_reported(synthesized, private_cache, tmp_path):
    key = synth_cache.synth_key(())
    synth_cache.store(key, synthesized.out)  # as `main.py synth` does after synthesizing
    out = tmp_path / "cdktf.out"
    result = CliRunner().invoke(cli, ["synth", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "synth: cache hit (restored into cdktf.out/)" in result.stderr
    assert _files(out) == _files(synthesized.out)
    assert len([line for line in result.stdout.splitlines() if "wrote" in line]) == 15
    again = CliRunner().invoke(cli, ["synth", "--out", str(out)])
    assert "synth: cache hit (cdktf.out/ already up to date)" in again.stderr
    (out / "stacks" / "dev-data" / "cdk.tf.json").write_text("{}")  # an edited output is repaired
    CliRunner().invoke(cli, ["synth", "--out", str(out)])
    assert _files(out) == _files(synthesized.out)


def test_no_cache_synthesizes_anyway_and_a_miss_stores(synthesized, private_cache, tmp_path, monkeypatch):
    calls = []

    def fake_synthesize(configs, out, **_):
        calls.append(sorted(c.name for c in configs))
        if Path(out).exists():
            shutil.rmtree(out)
        shutil.copytree(synthesized.out, out)
        return synthesized.stack_names

    monkeypatch.setattr("modules.synth.synthesize", fake_synthesize)
    out = tmp_path / "cdktf.out"
    miss = CliRunner().invoke(cli, ["synth", "--out", str(out)])
    assert "synth: cache miss" in miss.stderr and len(calls) == 1
    hit = CliRunner().invoke(cli, ["synth", "--out", str(out)])
    assert "cache hit" in hit.stderr and len(calls) == 1
    forced = CliRunner().invoke(cli, ["synth", "--no-cache", "--out", str(out)])
    assert forced.exit_code == 0 and len(calls) == 2 and "cache" not in forced.stderr


def test_damaged_entries_are_ignored(synthesized, private_cache, tmp_path):
    key = synth_cache.synth_key(())
    out = tmp_path / "cdktf.out"
    entry = private_cache / "synth" / key

    synth_cache.store(key, synthesized.out)
    (entry / "files" / "stacks" / "prod-data" / "cdk.tf.json").write_text('{"resource": {}}')
    found = synth_cache.restore(key, out)
    assert found.stacks is None and "prod-data" in found.note and not out.exists()

    synth_cache.store(key, synthesized.out)
    listing = (entry / synth_cache.ENTRY).read_bytes()
    (entry / synth_cache.ENTRY).write_bytes(listing[: len(listing) // 2])  # a partial write
    found = synth_cache.restore(key, out)
    assert found.stacks is None and "checksum" in found.note

    (entry / synth_cache.ENTRY).write_bytes(b"not an entry")
    assert "no valid header" in synth_cache.restore(key, out).note
    synth_cache.store(key, synthesized.out)  # the next store replaces a damaged entry
    assert synth_cache.restore(key, out).stacks == synthesized.stack_names


def test_an_input_changed_during_synth_is_not_cached(synthesized, private_cache, envs, monkeypatch):
    key = synth_cache.synth_key((), envs)
    (envs / "prod.yaml").write_text((envs / "prod.yaml").read_text() + "\n")
    synth_cache.remember(key, (), envs, synthesized.out)
    assert not (private_cache / "synth" / key).exists()
    synth_cache.remember(synth_cache.synth_key((), envs), (), envs, synthesized.out)
    assert (private_cache / "synth" / synth_cache.synth_key((), envs)).is_dir()


def test_entries_are_checksummed_and_written_whole(tmp_path):
    path = tmp_path / "e.json"
    cache.write_entry(path, "k1", {"a": [1, 2]})
    assert cache.read_entry(path, "k1") == {"a": [1, 2]}
    assert cache.read_entry(tmp_path / "absent.json", "k1") is None
    with pytest.raises(cache.CorruptEntry, match="another key"):
        cache.read_entry(path, "k2")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"[1,2]", b"[1,3]"))
    with pytest.raises(cache.CorruptEntry, match="checksum"):
        cache.read_entry(path, "k1")
    path.write_bytes(data[:-3])
    with pytest.raises(cache.CorruptEntry, match="checksum"):
        cache.read_entry(path, "k1")
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]  # no temporary file left behind


def test_prune_keeps_the_most_recently_used(tmp_path):
    for i in range(5):
        (tmp_path / f"e{i}").write_text("x")
        os.utime(tmp_path / f"e{i}", (i, i))
    cache.touch(tmp_path / "e0")
    cache.prune(tmp_path, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e0", "e4"]


def test_the_gate_resynthesizes_an_output_of_another_toolchain(synthesized, monkeypatch):
    from modules.config import load_all

    configs = load_all()
    assert synth_record.why_stale(synthesized.out, configs) is None
    monkeypatch.setattr(synth_record, "node_version", lambda: "v99.0.0")
    assert "the toolchain (dependencies, Python or Node.js) changed" in synth_record.why_stale(synthesized.out, configs)
