"""The synth output folder (modules/synth_output.py) is replaced whole: the new output is built
beside it and swapped in, and nothing is left behind."""
from __future__ import annotations

from modules.synth_output import staging_folder, swap_in


def test_swap_in_replaces_the_output_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "cdktf.out"
    first = staging_folder(out, "synth")
    assert first.parent == tmp_path and first.name.startswith(".cdktf.out.synth-")
    (first / "old.json").write_text("old")
    swap_in(first, out)  # no output yet
    second = staging_folder(out, "cache")
    (second / "new.json").write_text("new")
    swap_in(second, out)
    assert [p.name for p in out.iterdir()] == ["new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]
