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


# ---------------------------------------------------------------- the tier is bound to facts

VALID_PROD_S3 = VALID_DEV.replace("name: dev", "name: prod").replace("tier: dev", "tier: prod") \
    .replace('"111122223333"', '"777788889999"').replace("::111122223333:", "::777788889999:") \
    .replace("kms_deletion_window_days: 7", "kms_deletion_window_days: 30") \
    .replace("mode: GOVERNANCE", "mode: COMPLIANCE").replace("enabled: false", "enabled: true") \
    + "backend:\n  type: s3\nplatform:\n  network:\n    az_count: 3\n    egress: true\n    nat_gateway_per_az: true\n"


def test_prod_relabelled_dev_by_one_word_is_refused(tmp_path):
    directory = write_envs(tmp_path, {"prod.yaml": VALID_PROD_S3.replace("tier: prod", "tier: dev")})
    with pytest.raises(ConfigError) as caught:
        load_env("prod", directory)
    assert (caught.value.key_path, caught.value.line) == ("tier", 2)
    assert "named as production" in caught.value.message


def test_a_production_account_is_prod_whatever_the_environment_is_called(tmp_path):
    base = 'production_account_ids: ["777788889999"]\n'
    relabelled = VALID_PROD_S3.replace("name: prod", "name: live").replace("tier: prod", "tier: dev")
    directory = write_envs(tmp_path, {"base.yaml": base, "live.yaml": relabelled})
    with pytest.raises(ConfigError, match="is a production account"):
        load_env("live", directory)
    (tmp_path / "ok").mkdir()
    write_envs(tmp_path / "ok", {"base.yaml": base, "live.yaml": VALID_PROD_S3.replace("name: prod", "name: live")})
    assert load_env("live", tmp_path / "ok" / "environments").tier == "prod"


def test_an_environment_cannot_take_its_own_account_off_the_production_list(tmp_path):
    base = 'production_account_ids: ["777788889999"]\n'
    own = VALID_PROD_S3.replace("name: prod", "name: live").replace("tier: prod", "tier: dev") \
        + "production_account_ids: []\n"
    directory = write_envs(tmp_path, {"base.yaml": base, "live.yaml": own})
    with pytest.raises(ConfigError) as caught:
        load_env("live", directory)
    assert caught.value.key_path == "production_account_ids"
    assert "base.yaml only" in caught.value.message


@pytest.mark.parametrize("change, key", [(("backend:\n  type: s3\n", "backend:\n  type: local\n"), "backend.type"),
                                         (("compliance: [gdpr]", "compliance: []"), "compliance")])
def test_prod_needs_the_s3_backend_and_a_compliance_framework(tmp_path, change, key):
    directory = write_envs(tmp_path, {"prod.yaml": VALID_PROD_S3.replace(*change)})
    with pytest.raises(ConfigError) as caught:
        load_env("prod", directory)
    assert caught.value.key_path == key


def test_two_environments_on_one_account_are_refused(tmp_path):
    staging = VALID_DEV.replace("name: dev", "name: staging").replace("tier: dev", "tier: staging")
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV, "staging.yaml": staging})
    with pytest.raises(ConfigError) as caught:
        load_env("staging", directory)
    assert (caught.value.file, caught.value.key_path, caught.value.line) == ("environments/staging.yaml",
                                                                            "account_id", 3)
    assert "also the account of environment 'dev'" in caught.value.message


def test_an_account_inherited_from_the_base_file_counts_too(tmp_path):
    base = 'account_id: "111122223333"\n'
    dev = VALID_DEV.replace('account_id: "111122223333"\n', "")
    staging = dev.replace("name: dev", "name: staging").replace("tier: dev", "tier: staging")
    directory = write_envs(tmp_path, {"base.yaml": base, "dev.yaml": dev, "staging.yaml": staging})
    with pytest.raises(ConfigError, match="also the account of environment 'staging'"):
        load_env("dev", directory)


def test_attack_environment_named_as_a_prefix_of_another_is_refused(tmp_path):
    sandbox = VALID_DEV.replace("name: dev", "name: dev-sandbox").replace('"111122223333"', '"222233334444"') \
        .replace("::111122223333:", "::222233334444:")
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV, "dev-sandbox.yaml": sandbox})
    for name in ("dev", "dev-sandbox"):
        with pytest.raises(ConfigError) as caught:
            load_env(name, directory)
        assert caught.value.key_path == "name"
        assert "`<project>-dev-*`" in caught.value.message


def _nested_maps(levels: int) -> str:
    return "".join("  " * i + "a:\n" for i in range(levels)) + "  " * levels + "end: 1\n"


@pytest.mark.parametrize("text", [_nested_maps(400), "name: dev\nb: " + "[" * 400 + "]" * 400 + "\n",
                                  "name: dev\nb: " + "{a: " * 400 + "1" + "}" * 400 + "\n"],
                         ids=["block maps", "flow lists", "flow maps"])
def test_attack_yaml_nested_hundreds_deep_is_a_config_error_not_a_recursion_error(tmp_path, text):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert "nest deeper than 64 levels" in str(caught.value)
    assert caught.value.file == "environments/hostile.yaml" and caught.value.line is not None


def test_nesting_up_to_the_limit_is_fine(tmp_path):
    value = _load(tmp_path, _nested_maps(63))  # 63 maps and the key inside the last: 64 levels
    for _ in range(63):
        value = value["a"]
    assert value == {"end": 1}
    with pytest.raises(ConfigError, match="nest deeper than 64 levels"):
        _load(tmp_path, _nested_maps(64))


def test_attack_deeply_nested_environment_file_exits_2_with_its_file_and_line(tmp_path):
    envs = write_envs(tmp_path, {"dev.yaml": VALID_DEV + "extra:\n" + "".join("  " * (i + 1) + "a:\n" for i in range(400))
                                 + "  " * 401 + "end: 1\n"})
    result = CliRunner().invoke(cli, ["--environments", str(envs), "validate"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert "dev.yaml" in result.output and "nest deeper than 64 levels" in result.output


def test_a_parser_that_runs_out_of_stack_is_a_config_error(tmp_path, monkeypatch):
    """PyYAML without libyaml parses recursively too: its RecursionError becomes the same one-line error."""
    import yaml

    def deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(yaml, "compose", deep)
    with pytest.raises(ConfigError, match="nest deeper than 64 levels") as caught:
        _load(tmp_path, "name: dev\n")
    assert caught.value.file == "environments/hostile.yaml"
