"""What the training data store needs of the account: AWS Backup opted in to Aurora (botocore Stubber:
moto has no DescribeRegionSettings) and the account's `RDSOSMetrics` log group created or adopted (moto)."""
from __future__ import annotations

import boto3
import pytest

from policies.preflight.checks.backup_opt_in import aurora_opt_in, fleet_opt_in
from policies.preflight.checks.rds_os_metrics import os_metrics_group
from tests.policies.preflight.conftest import context, stubbed

DEV, PROD = "111122223333", "777788889999"
REGION = "eu-west-1"  # prod.yaml


@pytest.fixture
def ctx_of(in_account, mocked, synthesized):
    def make(env: str, account: str, overrides: dict | None = None, adopt: bool = False):
        in_account(account)
        ctx = context(env, synthesized, overrides)
        if adopt:
            governance = ctx.config.governance
            ctx.config = ctx.config.model_copy(update={"governance": governance.model_copy(update={
                "adopt": governance.adopt.model_copy(update={"rds_os_metrics_log_group": True})})})
        return ctx
    return make


def _region_settings(preference: dict):
    return stubbed("backup", REGION, [("describe_region_settings", {"ResourceTypeOptInPreference": preference}, {})])


@pytest.mark.parametrize("preference", [{"Aurora": False, "RDS": True, "S3": True}, {"RDS": True}])
def test_aurora_opted_out_fails_naming_the_setting_and_the_command(ctx_of, preference):
    (check,) = aurora_opt_in(ctx_of("prod", PROD, {("backup", REGION): _region_settings(preference)}))
    assert check.status == "fail"
    assert f"resource type opt-in in {REGION}: Aurora " in check.found and "training data store" in check.found
    assert check.fix == f"aws backup update-region-settings --region {REGION} --resource-type-opt-in-preference Aurora=true"


def test_aurora_opted_in_passes(ctx_of):
    (check,) = aurora_opt_in(ctx_of("prod", PROD, {("backup", REGION): _region_settings({"Aurora": True, "RDS": False})}))
    assert check.status == "pass"


def test_the_opt_in_is_not_judged_when_it_cannot_be_read(ctx_of):
    denied = stubbed("backup", REGION, [("describe_region_settings", {"error": "AccessDeniedException"}, None)])
    (check,) = aurora_opt_in(ctx_of("prod", PROD, {("backup", REGION): denied}))
    assert check.status == "error"  # never a pass it did not read


def test_without_the_data_store_the_opt_in_is_not_asked(ctx_of):
    never = stubbed("backup", REGION, [])  # any call would raise
    assert aurora_opt_in(ctx_of("dev", DEV, {("backup", REGION): never})) == []
    assert os_metrics_group(ctx_of("dev", DEV)) == []


@pytest.mark.parametrize("preference, off", [({"EC2": True, "EBS": False}, "EBS=true"),
                                             ({"Aurora": True}, "EC2=true,EBS=true")])
def test_prods_fleets_need_ec2_and_ebs_opted_in(ctx_of, preference, off):
    (check,) = fleet_opt_in(ctx_of("prod", PROD, {("backup", REGION): _region_settings(preference)}))
    assert check.status == "fail" and "GPU fleets" in check.found
    assert check.fix == f"aws backup update-region-settings --region {REGION} --resource-type-opt-in-preference {off}"
    (check,) = fleet_opt_in(ctx_of("prod", PROD, {("backup", REGION): _region_settings({"EC2": True, "EBS": True})}))
    assert check.status == "pass"


def test_fleets_outside_the_plan_do_not_ask_for_the_ec2_opt_in(ctx_of):
    never = stubbed("backup", REGION, [])  # staging backs up no fleet: any call would raise
    assert fleet_opt_in(ctx_of("staging", "444455556666", {("backup", REGION): never})) == []


def _put_group(kms_key: str | None = None) -> None:
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="RDSOSMetrics", **({"kmsKeyId": kms_key} if kms_key else {}))
    logs.create_log_group(logGroupName="RDSOSMetricsOther")  # same prefix, not the group


def test_no_group_passes_and_aegis_creates_it(ctx_of):
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="RDSOSMetricsOther")
    (check,) = os_metrics_group(ctx_of("prod", PROD))
    assert check.status == "pass" and "Aegis creates it" in check.found


def test_an_existing_group_fails_with_the_adopt_line(ctx_of):
    ctx = ctx_of("prod", PROD)
    _put_group()
    (check,) = os_metrics_group(ctx)
    assert check.status == "fail" and "no customer key" in check.found
    assert check.fix == "adopt it: governance.adopt.rds_os_metrics_log_group: true"
    assert dict(check.paste) == {"governance.adopt.rds_os_metrics_log_group": True}


def test_an_adopted_group_passes_and_adopting_a_missing_one_fails(ctx_of):
    (missing,) = os_metrics_group(ctx_of("prod", PROD, adopt=True))
    assert missing.status == "fail" and "the import would fail" in missing.found
    _put_group()
    (adopted,) = os_metrics_group(ctx_of("prod", PROD, adopt=True))
    assert adopted.status == "pass" and "the first apply imports it" in adopted.found


def test_a_group_under_this_environments_audit_key_is_its_own(ctx_of):
    ctx = ctx_of("prod", PROD)
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=ctx.naming.kms_alias("audit"), TargetKeyId=key["KeyId"])
    _put_group(key["Arn"])
    (check,) = os_metrics_group(ctx)
    assert check.status == "pass" and "its own" in check.found
    other = kms.create_key()["KeyMetadata"]
    logs = boto3.client("logs", region_name=REGION)
    logs.delete_log_group(logGroupName="RDSOSMetrics")
    logs.create_log_group(logGroupName="RDSOSMetrics", kmsKeyId=other["Arn"])  # another workload's key
    (check,) = os_metrics_group(ctx)
    assert check.status == "fail"
