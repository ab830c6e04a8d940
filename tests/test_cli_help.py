"""What `--help` and `checks` show a newcomer: defaults as they are, and titles never cut silently."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from main import cli
from modules.console import clip
from policies.catalog import load_catalog
from policies.cli import CHECKS_TITLE_WIDTH


@pytest.mark.parametrize("command, option", [("synth", "--out"), ("gate", "--synth-out"), ("plan", "--synth-out"),
                                             ("apply", "--synth-out"), ("report", "--synth-out")])
def test_synth_out_default_is_shown_as_the_folder_and_its_env_var(command, option):
    help_text = " ".join(CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output.split())
    assert "(cdktf.out)" not in help_text
    assert f"{option} DIRECTORY" in help_text or f"{option} TEXT" in help_text
    assert "[env var: CDKTF_OUTDIR; default: cdktf.out]" in help_text


def test_synth_out_follows_cdktf_outdir(monkeypatch, tmp_path):
    """`cdktf synth` sets CDKTF_OUTDIR; the option's default follows it."""
    monkeypatch.setenv("CDKTF_OUTDIR", str(tmp_path / "elsewhere"))
    seen = {}
    monkeypatch.setattr("main.run_synth", lambda envs, out, use_cache=True: seen.setdefault("out", out))
    assert CliRunner().invoke(cli, ["synth"]).exit_code == 0
    assert seen["out"] == str(tmp_path / "elsewhere")


def test_clip_marks_a_cut_with_an_ellipsis():
    assert clip("short", 10) == "short"
    assert clip("exactly10!", 10) == "exactly10!"
    assert clip("eleven char", 10) == "eleven ch…" and len(clip("eleven char", 10)) == 10


def test_checks_lists_long_titles_with_an_ellipsis():
    long_titles = [r for r in load_catalog().rules.values() if len(r.title) > CHECKS_TITLE_WIDTH]
    assert long_titles, "the catalog has titles longer than the listing's width"
    lines = CliRunner().invoke(cli, ["checks", "--section", long_titles[0].section]).output.splitlines()
    line = next(line for line in lines if line.startswith(long_titles[0].id + " "))
    assert line.endswith("…")
    assert long_titles[0].title[: CHECKS_TITLE_WIDTH - 1] in line
