"""Environment config validation: every invalid config gets one clear error naming the file,
the key path and the line; exit code 2; nothing is written."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from modules.config import load_all, load_env
from modules.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

VALID_DEV = """\
name: dev
tier: dev
account_id: "111122223333"
region: eu-west-1
dr_region: eu-central-1
deployer_role_arn: arn:aws:iam::111122223333:role/aegis-deployer
tags:
  owner_team: ml-platform
  cost_center: AI-1001
  data_classification: confidential
compliance: [gdpr]
data:
  kms_deletion_window_days: 7
  object_lock:
    mode: GOVERNANCE
    retention_days: 7
  replication:
    enabled: false
"""

VALID_PROD = VALID_DEV.replace("name: dev", "name: prod").replace("tier: dev", "tier: prod") \
    .replace("kms_deletion_window_days: 7", "kms_deletion_window_days: 30") \
    .replace("mode: GOVERNANCE", "mode: COMPLIANCE").replace("enabled: false", "enabled: true") \
    .replace("compliance: [gdpr]", "backend:\n  type: s3\ncompliance: [gdpr]")


def write_envs(tmp_path: Path, files: dict[str, str]) -> Path:
    directory = tmp_path / "environments"
    directory.mkdir()
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


# (case id, file name, file text, expected key path, expected line or None, expected message fragment)
INVALID = [
    ("unknown-top-level-key", "dev.yaml", VALID_DEV + "colour: blue\n", "colour", 19, "unknown key"),
    ("unknown-nested-key", "dev.yaml", VALID_DEV.replace("  replication:\n", "  replicaton:\n"),
     "data.replicaton", 17, "unknown key (did you mean 'replication'?)"),
    ("short-account-id", "dev.yaml", VALID_DEV.replace('"111122223333"\nregion', '"11112222333"\nregion'),
     "account_id", 3, "should match pattern"),
    ("numeric-account-id-lost-leading-zero", "dev.yaml",
     VALID_DEV.replace('account_id: "111122223333"', "account_id: 011122223333"), "account_id", 3, "string"),
    ("fake-region", "dev.yaml", VALID_DEV.replace("region: eu-west-1", "region: eu-west-9"),
     "region", 4, "'eu-west-9' is not an AWS region name"),
    ("not-dns-safe-owner", "dev.yaml", VALID_DEV.replace("owner_team: ml-platform", "owner_team: ML_Platform"),
     "tags.owner_team", 8, "should match pattern"),
    ("deletion-window-too-short", "dev.yaml", VALID_DEV.replace("kms_deletion_window_days: 7", "kms_deletion_window_days: 3"),
     "data.kms_deletion_window_days", 13, "greater than or equal to 7"),
    ("retention-zero", "dev.yaml", VALID_DEV.replace("retention_days: 7", "retention_days: 0"),
     "data.object_lock.retention_days", 16, "greater than or equal to 1"),
    ("bad-lock-mode", "dev.yaml", VALID_DEV.replace("mode: GOVERNANCE", "mode: LEGAL_HOLD"),
     "data.object_lock.mode", 15, "'GOVERNANCE' or 'COMPLIANCE'"),
    ("prod-governance-lock", "prod.yaml", VALID_PROD.replace("mode: COMPLIANCE", "mode: GOVERNANCE"),
     "data.object_lock.mode", 17, "prod must use object lock in COMPLIANCE mode"),
    ("prod-short-deletion-window", "prod.yaml",
     VALID_PROD.replace("kms_deletion_window_days: 30", "kms_deletion_window_days: 14"),
     "data.kms_deletion_window_days", 15, "KMS deletion window of 30 days"),
    ("replication-same-region", "prod.yaml", VALID_PROD.replace("dr_region: eu-central-1", "dr_region: eu-west-1"),
     "data.replication.enabled", 20, "DR region different from the primary region"),
    ("missing-required-key", "dev.yaml", VALID_DEV.replace("tier: dev\n", ""), "tier", 1, "required key is missing"),
    ("unknown-framework", "dev.yaml", VALID_DEV.replace("compliance: [gdpr]", "compliance: [gdpr, sox]"),
     "compliance[1]", 11, "'hipaa', 'gdpr', 'nist-800-53', 'pci-dss', 'cis' or 'iso27001'"),
    ("repeated-framework", "dev.yaml", VALID_DEV.replace("compliance: [gdpr]", "compliance: [gdpr, gdpr]"),
     "compliance", 11, "frameworks must not repeat"),
    ("role-in-other-account", "dev.yaml",
     VALID_DEV.replace("arn:aws:iam::111122223333:role", "arn:aws:iam::777788889999:role"),
     "deployer_role_arn", 6, "not the env's account 111122223333"),
    ("name-differs-from-file", "dev.yaml", VALID_DEV.replace("name: dev", "name: develop"),
     "name", 1, "must equal the file name 'dev'"),
    ("duplicate-key", "dev.yaml", VALID_DEV + "tier: prod\n", "tier", 19, "duplicate key"),
    ("invalid-yaml", "dev.yaml", VALID_DEV.replace("  object_lock:\n", "  object_lock: [\n"), "", 16, "invalid YAML"),
    ("top-level-list", "dev.yaml", "- name: dev\n", "", 1, "top level must be a mapping"),
    ("empty-file", "dev.yaml", "", "", None, "file is empty"),
    ("bad-backend-type", "dev.yaml", VALID_DEV + "backend:\n  type: gcs\n", "backend", 19, "does not match any of the expected tags"),
    ("s3-backend-unknown-key", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n  dynamodb_table: locks\n",
     "backend.dynamodb_table", 21, "unknown key"),
    ("s3-backend-lockfile-off", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n  use_lockfile: false\n",
     "backend.use_lockfile", 21, "Input should be True"),
    ("prod-lenient-gate", "prod.yaml", VALID_PROD + "gate:\n  fail_on: high\n", "gate.fail_on", 22,
     "prod must fail on every severity"),
    ("glacier-before-ia", "dev.yaml", VALID_DEV + "  lifecycle:\n    datasets_infrequent_access_after_days: 100\n"
     "    datasets_glacier_after_days: 110\n",
     "data.lifecycle.datasets_glacier_after_days", 21, "at least 30 days after"),
    # The S3 backend's state key: the key ARN recorded after bootstrap, in the env's account and state region.
    ("state-key-alias-arn", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n"
     "  kms_key_id: arn:aws:kms:eu-west-1:111122223333:alias/aegis-dev-state\n",
     "backend.kms_key_id", 21, "is not a KMS key ARN"),
    ("state-key-alias-name", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n  kms_key_id: alias/aegis-dev-state\n",
     "backend.kms_key_id", 21, "an alias, alias ARN or bare key id would have every state write denied"),
    ("state-key-other-account", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n"
     "  kms_key_id: arn:aws:kms:eu-west-1:999999999999:key/3f1c9e2a-7b4d-4e8f-a1c6-5d2b8e9f0a37\n",
     "backend.kms_key_id", 21, "not the env's account 111122223333"),
    ("state-key-other-region", "dev.yaml", VALID_DEV + "backend:\n  type: s3\n"
     "  kms_key_id: arn:aws:kms:eu-central-1:111122223333:key/3f1c9e2a-7b4d-4e8f-a1c6-5d2b8e9f0a37\n",
     "backend.kms_key_id", 21, "the state bucket is in eu-west-1"),
]


@pytest.mark.parametrize("case,file,text,key,line,fragment", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_config_is_one_clear_error(tmp_path, case, file, text, key, line, fragment):
    directory = write_envs(tmp_path, {file: text})
    with pytest.raises(ConfigError) as info:
        load_env(Path(file).stem, directory)
    error = info.value
    assert error.file == f"environments/{file}"
    assert error.key_path == key
    assert error.line == line
    assert fragment in error.message, error.message
    assert "\n" not in str(error)
    assert str(tmp_path) not in str(error)  # never a machine path


@pytest.mark.parametrize("case,file,text,key,line,fragment", INVALID[:6] + INVALID[9:12], ids=[c[0] for c in INVALID[:6] + INVALID[9:12]])
def test_cli_exits_2_and_writes_nothing(tmp_path, case, file, text, key, line, fragment):
    directory = write_envs(tmp_path, {file: text})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["--environments", str(directory), "synth", "--out", str(out)])
    assert result.exit_code == 2
    assert f"environments/{file}" in result.output and fragment in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [directory]  # no temporary or partial folder left behind


def test_failed_synth_keeps_previous_output(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV.replace("tier: dev", "tier: qa")})
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    result = CliRunner().invoke(cli, ["--environments", str(directory), "synth", "--out", str(out)])
    assert result.exit_code == 2
    assert (out / "manifest.json").read_text() == "{}"


def test_base_file_is_merged_and_errors_point_into_it(tmp_path):
    base = "tags:\n  owner_team: ml-platform\n  cost_center: X\n  data_classification: internal\n"
    dev = "\n".join(line for line in VALID_DEV.splitlines() if not line.startswith(("tags:", "  owner_team", "  cost_center", "  data_classification")))
    directory = write_envs(tmp_path, {"base.yaml": base, "dev.yaml": dev + "\n"})
    with pytest.raises(ConfigError) as info:
        load_env("dev", directory)
    assert info.value.file == "environments/base.yaml"
    assert info.value.key_path == "tags.cost_center"
    assert info.value.line == 3


def test_env_file_overrides_base(tmp_path):
    directory = write_envs(tmp_path, {"base.yaml": "region: us-east-1\n", "dev.yaml": VALID_DEV})
    assert load_env("dev", directory).region == "eu-west-1"


def test_yes_no_words_stay_strings(tmp_path):
    # YAML 1.1 would read `no` as False; a config must not change meaning that way.
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV.replace("owner_team: ml-platform", "owner_team: no")})
    assert load_env("dev", directory).tags.owner_team == "no"


def test_unknown_environment_is_named(tmp_path):
    directory = write_envs(tmp_path, {"dev.yaml": VALID_DEV})
    with pytest.raises(ConfigError, match="unknown environment 'qa' \\(have: dev\\)"):
        load_env("qa", directory)


def test_default_environments_are_valid():
    configs = {c.name: c for c in load_all()}
    assert set(configs) == {"dev", "staging", "prod"}
    assert configs["prod"].data.object_lock.mode == "COMPLIANCE"
    assert configs["prod"].data.kms_deletion_window_days == 30
    assert configs["prod"].data.replication.enabled
    assert not configs["dev"].data.replication.enabled
    assert len({c.account_id for c in configs.values()}) == 3  # one account per environment


def test_validate_command_reports_each_env():
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 0
    assert [line.strip() for line in result.output.splitlines()] == ["dev: ok", "prod: ok", "staging: ok"]


def test_envs_command_lists_region_account_and_stacks():
    result = CliRunner().invoke(cli, ["envs"])
    assert result.exit_code == 0
    prod = next(line for line in result.output.splitlines() if line.startswith("prod"))
    assert "eu-west-1" in prod and "777788889999" in prod
    for pillar in ("bootstrap", "data", "platform", "access", "governance"):
        assert f"prod-{pillar}" in prod


def test_cis_and_iso27001_are_framework_choices(tmp_path):
    """The catalog maps CIS and ISO/IEC 27001 controls: an environment may list them (and the report shows them)."""
    text = VALID_DEV.replace("compliance: [gdpr]", "compliance: [gdpr, cis, iso27001]")
    assert text != VALID_DEV
    config = load_env("dev", write_envs(tmp_path, {"dev.yaml": text}))
    assert list(config.compliance) == ["gdpr", "cis", "iso27001"]
