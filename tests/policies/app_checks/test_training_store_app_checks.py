"""AEGIS_TRAINING_STORE_CONTROLS on prod's training data store as synthesized, and with each control
taken out."""
from __future__ import annotations

import copy

import pytest

from tests.policies.app_checks.helpers import config, failures, run

CHECK = "AEGIS_TRAINING_STORE_CONTROLS"


@pytest.fixture(scope="module")
def prod_platform(synthesized) -> dict:
    return {"prod-platform": synthesized.stack("prod-platform")}


def _cluster(stacks: dict) -> dict:
    (cluster,) = stacks["prod-platform"]["resource"]["aws_rds_cluster"].values()
    return cluster


def test_prods_data_store_passes(prod_platform):
    results = run(CHECK, copy.deepcopy(prod_platform), "prod")
    assert len(results) == 1 and failures(results) == []


@pytest.mark.parametrize("attribute, value, message", [
    ("storage_encrypted", False, "storage_encrypted is not true"),
    ("kms_key_id", "${data.aws_kms_key.kms-model.arn}", "kms_key_id is the model key"),
    ("master_user_secret_kms_key_id", None, "master_user_secret_kms_key_id is not the key of a known class"),
    ("iam_database_authentication_enabled", False, "iam_database_authentication_enabled is not true"),
    ("manage_master_user_password", None, "not managed by RDS in Secrets Manager"),
    ("master_password", "hunter2hunter2", "not managed by RDS in Secrets Manager"),
    ("deletion_protection", False, "deletion_protection is off"),
    ("backup_retention_period", 1, "keep at least 7 days"),
    ("tags", {}, "no Backup=aegis-prod tag"),
    ("db_cluster_parameter_group_name", "default.aurora-postgresql16", "the default group accepts connections"),
])
def test_each_missing_control_fails(prod_platform, attribute, value, message):
    stacks = copy.deepcopy(prod_platform)
    cluster = _cluster(stacks)
    if value is None:
        cluster.pop(attribute, None)
    else:
        cluster[attribute] = value
    (failure,) = failures(run(CHECK, stacks, "prod"))
    assert message in failure


def test_a_parameter_group_without_force_ssl_fails(prod_platform):
    stacks = copy.deepcopy(prod_platform)
    (group,) = stacks["prod-platform"]["resource"]["aws_rds_cluster_parameter_group"].values()
    group["parameter"] = [p for p in group["parameter"] if p["name"] != "rds.force_ssl"]
    (failure,) = failures(run(CHECK, stacks, "prod"))
    assert "does not set rds.force_ssl to 1" in failure


def test_dev_needs_no_deletion_protection_and_one_day_of_backups(prod_platform):
    dev = config("dev")
    cfg = dev.model_copy(update={"platform": dev.platform.model_copy(update={"deletion_protection": False})})
    stacks = {"dev-platform": copy.deepcopy(prod_platform["prod-platform"])}
    cluster = _cluster({"prod-platform": stacks["dev-platform"]})
    cluster.update({"deletion_protection": False, "backup_retention_period": 1,
                    "tags": {"Backup": "aegis-dev"}})
    cluster["kms_key_id"] = cluster["master_user_secret_kms_key_id"] = "alias/aegis-dev-training"
    assert failures(run(CHECK, stacks, configs={"dev": cfg})) == []
