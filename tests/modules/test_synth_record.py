"""The synth record (modules/synth_record.py): what an output was made from, and the one freshness
rule every command and the gate apply. Each input that decides the output makes it stale, with a
reason the user can act on; the record itself is deterministic and holds no machine path."""
from __future__ import annotations

import hashlib
import json

import pytest

from modules import synth_record
from modules.config import load_all
from modules.synth_output import MANIFEST
from modules.synth_record import RECORD, why_stale, write_record


@pytest.fixture(scope="module")
def configs():
    return load_all(["dev", "prod"])


def _output(folder, configs):
    """A minimal synth output: a manifest and the record of `configs`."""
    out = folder / "cdktf.out"
    out.mkdir(parents=True)
    (out / MANIFEST).write_text('{"stacks": {}}')
    write_record(out, configs)
    return out


def _edit_record(out, change) -> None:
    record = json.loads((out / RECORD).read_text())
    change(record)
    (out / RECORD).write_text(json.dumps(record))


def test_an_output_of_these_inputs_is_fresh(tmp_path, configs):
    out = _output(tmp_path, configs)
    assert why_stale(out, configs) is None
    assert why_stale(out, configs[:1]) is None  # judging fewer environments than it holds


def test_each_input_makes_the_output_stale(tmp_path, configs, monkeypatch):
    assert why_stale(tmp_path / "cdktf.out", configs) == "no cdktf.out/ yet"
    out = _output(tmp_path, configs[:1])
    assert why_stale(out, configs) == "environment 'prod' was not synthesized into cdktf.out/"
    _edit_record(out, lambda r: r["environments"].update(dev="0" * 64))
    reason = why_stale(out, configs[:1])
    assert "synth output of 'dev' is older than its configuration" in reason and "changed since" in reason

    write_record(out, configs)
    monkeypatch.setattr(synth_record, "generator_digest", lambda: "another generator")
    assert why_stale(out, configs) == "the generator code (modules/) changed since cdktf.out/ was synthesized"
    monkeypatch.undo()
    monkeypatch.setattr(synth_record, "node_version", lambda: "v99.0.0")
    assert "the toolchain (dependencies, Python or Node.js) changed" in why_stale(out, configs)


@pytest.mark.parametrize("record, reason", [
    (None, "cdktf.out/aegis-synth.json is missing"),
    ("{not json", "cdktf.out/aegis-synth.json is not readable JSON"),
    ("[]", "cdktf.out/aegis-synth.json is not a synth record"),
])
def test_a_missing_or_broken_record_is_stale(tmp_path, configs, record, reason):
    out = _output(tmp_path, configs)
    if record is None:
        (out / RECORD).unlink()
    else:
        (out / RECORD).write_text(record)
    assert why_stale(out, configs).startswith(reason)


def test_the_record_is_deterministic_and_holds_no_machine_path(tmp_path, configs):
    first, second = _output(tmp_path / "a", configs), _output(tmp_path / "b", list(reversed(configs)))
    text = (first / RECORD).read_text()
    assert text == (second / RECORD).read_text()
    assert str(synth_record.ROOT) not in text and str(tmp_path) not in text
    assert sorted(json.loads(text)) == ["environments", "format", "generator", "stacks", "toolchain"]


def test_the_record_holds_the_sha256_of_every_stack_synth_wrote(synthesized):
    recorded = synth_record.recorded_stacks(synthesized.out)
    assert sorted(recorded) == synthesized.stack_names
    for name in synthesized.stack_names:
        assert recorded[name] == hashlib.sha256(synthesized.path(name).read_bytes()).hexdigest()


def test_a_record_of_the_first_format_is_stale(tmp_path, configs):
    """Format 1 held no stack hashes: its output is synthesized again rather than trusted without them."""
    out = _output(tmp_path, configs)
    _edit_record(out, lambda r: (r.update(format=1), r.pop("stacks")))
    assert why_stale(out, configs) == "cdktf.out/ was synthesized by another version of Aegis (synth record format 1)"
