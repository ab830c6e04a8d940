"""Hostile configuration input: each attack gets one clear error (exit 2 from the CLI) naming the file,
key and line where the YAML has them, in bounded time and memory, and nothing is half-done."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from modules.config import env_files, load_env
from modules.errors import ConfigError
from modules.yaml_source import MAX_FILE_BYTES, SourceMap, load_yaml
from tests.modules.test_config import VALID_DEV, write_envs


def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    return load_yaml(path, "environments/hostile.yaml", SourceMap())


def test_alias_bomb_eight_levels_is_refused_in_bounded_time(tmp_path):
    # 9**8 = 43 million values once expanded: before the limit this took minutes and gigabytes.
    started = time.monotonic()
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, _alias_bomb(8))
    assert time.monotonic() - started < 5
    assert "expands to more than" in str(caught.value)
    assert caught.value.file == "environments/hostile.yaml"


def test_a_few_aliases_are_still_fine(tmp_path):
    assert _load(tmp_path, "a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


def test_recursive_alias_is_an_error_with_a_line_not_a_traceback(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "name: dev\nloop: &x [1, *x]\n")
    assert "recursive YAML alias" in str(caught.value)
    assert caught.value.line == 2


@pytest.mark.parametrize("text", ["name: dev\nb: !!python/object/apply:os.system ['true']\n",
                                  "name: dev\nb: !custom 3\n",
                                  "name: dev\nb: !custom {c: 1}\n",
                                  "name: dev\n!custom key: 1\n"])
def test_unknown_tag_is_refused_never_constructed(tmp_path, text):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert "unsupported YAML tag" in str(caught.value)
    assert caught.value.line == 2


def test_oversized_file_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "a: " + "x" * MAX_FILE_BYTES + "\n")
    assert "limited to" in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_in_environments_is_refused_not_waited_on(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV})
    os.mkfifo(directory / "staging.yaml")  # a reader would block here forever
    with pytest.raises(ConfigError) as caught:
        env_files(directory)
    assert caught.value.file == "environments/staging.yaml"
    assert "not a regular file" in str(caught.value)
    result = CliRunner().invoke(cli, ["--environments", str(directory), "validate"])
    assert result.exit_code == 2
    assert "environments/staging.yaml" in result.output and "not a regular file" in result.output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_passed_to_the_loader_directly_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(ConfigError, match="not a regular file"):
        load_yaml(tmp_path / "pipe.yaml", "pipe.yaml", SourceMap())


@pytest.mark.parametrize("old, new", [("kms_deletion_window_days: 7", 'kms_deletion_window_days: "7"'),
                                      ("retention_days: 7", "retention_days: 7.0"),
                                      ("retention_days: 7", "retention_days: true")])
def test_values_are_not_coerced_to_numbers(tmp_path, old, new):
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV.replace(old, new)})
    with pytest.raises(ConfigError) as caught:
        load_env("dev", directory)
    key = old.split(":")[0]
    assert key in caught.value.key_path
    assert caught.value.line is not None
