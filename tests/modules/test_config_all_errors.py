"""`validate` (and every command that loads environments) reports every problem in one run, grouped per
file, each naming its file, key path and line: a user fixes them all at once instead of one per run."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from main import cli
from modules.config import load_all, load_env
from modules.errors import ConfigError, ConfigErrors
from tests.modules.test_config import VALID_DEV, VALID_PROD, write_envs

# prod with three problems found by the prod rules, on three lines of the file
PROD_VALID = VALID_PROD.replace("111122223333", "777788889999") + "platform:\n  network:\n    az_count: 3\n"
PROD_THREE = (PROD_VALID.replace("kms_deletion_window_days: 30", "kms_deletion_window_days: 14")
              .replace("mode: COMPLIANCE", "mode: GOVERNANCE").replace("compliance: [gdpr]", "compliance: []"))
# dev with a typo (an unknown key, and so a missing one) and a value out of bounds
DEV_SCHEMA = (VALID_DEV.replace("retention_days: 7", "retention_dys: 7")
              .replace("kms_deletion_window_days: 7", "kms_deletion_window_days: 3"))


def _line(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_load_env_reports_every_rule_problem_with_file_key_and_line(tmp_path):
    directory = write_envs(tmp_path, {"prod.yaml": PROD_THREE})
    with pytest.raises(ConfigErrors) as info:
        load_env("prod", directory)
    found = {(p.file, p.key_path, p.line) for p in info.value.problems}
    assert found == {("environments/prod.yaml", "data.kms_deletion_window_days",
                      _line(PROD_THREE, "kms_deletion_window_days")),
                     ("environments/prod.yaml", "data.object_lock.mode", _line(PROD_THREE, "mode: GOVERNANCE")),
                     ("environments/prod.yaml", "compliance", _line(PROD_THREE, "compliance: []"))}


def test_load_env_reports_every_schema_problem(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": DEV_SCHEMA})
    with pytest.raises(ConfigErrors) as info:
        load_env("dev", directory)
    by_key = {p.key_path: p for p in info.value.problems}
    assert set(by_key) == {"data.object_lock.retention_dys", "data.object_lock.retention_days",
                           "data.kms_deletion_window_days"}
    assert "did you mean 'retention_days'" in by_key["data.object_lock.retention_dys"].message
    assert info.value.key_path == "data.object_lock.retention_dys"  # the typo first: it explains the missing key
    assert by_key["data.kms_deletion_window_days"].line == _line(DEV_SCHEMA, "kms_deletion_window_days")


def test_one_problem_stays_one_plain_error(tmp_path):
    tmp_path.joinpath("valid").mkdir()
    assert load_env("prod", write_envs(tmp_path.joinpath("valid"), {"prod.yaml": PROD_VALID})).tier == "prod"
    directory = write_envs(tmp_path, {"prod.yaml": PROD_VALID.replace("compliance: [gdpr]", "compliance: []")})
    with pytest.raises(ConfigError) as info:
        load_env("prod", directory)
    assert type(info.value) is ConfigError and info.value.key_path == "compliance"


def test_load_all_reports_the_problems_of_every_environment(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": DEV_SCHEMA, "prod.yaml": PROD_THREE})
    with pytest.raises(ConfigErrors) as info:
        load_all((), directory)
    assert {p.file for p in info.value.problems} == {"environments/dev.yaml", "environments/prod.yaml"}
    assert len(info.value.problems) == 6


def test_validate_lists_every_problem_grouped_per_file(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": DEV_SCHEMA, "prod.yaml": PROD_THREE,
                                      "staging.yaml": VALID_DEV.replace("name: dev", "name: staging")
                                      .replace("111122223333", "444455556666")})
    result = CliRunner().invoke(cli, ["--environments", str(directory), "validate"])
    assert result.exit_code == 2, result.output
    assert "  staging: ok" in result.output
    assert "more problem" not in result.output
    lines = result.output.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert errors == ["error: 6 configuration problems (environments/dev.yaml: 3 problems; "
                      "environments/prod.yaml: 3 problems)"]
    listed = [line.strip() for line in lines[lines.index(errors[0]) + 1:]]
    assert len(listed) == 6
    files = [line.split(":", 1)[0] for line in listed]
    assert files == ["environments/dev.yaml"] * 3 + ["environments/prod.yaml"] * 3  # grouped per file
    prod_lines = [int(line.split(":")[1].split(" ")[0]) for line in listed[3:]]
    assert prod_lines == sorted(prod_lines)  # in file order within a file
    assert (f"environments/prod.yaml:{_line(PROD_THREE, 'mode: GOVERNANCE')} [data.object_lock.mode]: "
            "prod must use object lock in COMPLIANCE mode") in listed
    assert str(tmp_path) not in result.output
