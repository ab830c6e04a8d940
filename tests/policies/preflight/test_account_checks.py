"""Organizations, Identity Center, account settings, named resources and service-linked roles, against
moto (Organizations, SSO admin, S3 control, Backup, CloudTrail, IAM) and botocore Stubber (the default EBS
key and Cost Explorer's anomaly monitors, which moto lacks; region opt-in status for a disabled region)."""
from __future__ import annotations

import boto3
import pytest

from modules.config import load_env
from policies.preflight.checks.account_settings import contacts, cost_monitor, ebs_encryption, public_access_block
from policies.preflight.checks.identity import regions
from policies.preflight.checks.named_resources import backup_vaults, trails
from policies.preflight.checks.organizations import identity_center, organization
from policies.preflight.checks.service_linked_roles import service_linked_roles
from policies.preflight.context import Context
from tests.policies.preflight.conftest import StubberFor, context, stubbed

DEV, PROD = "111122223333", "777788889999"


@pytest.fixture
def ctx_of(in_account, mocked, synthesized):
    def make(env: str, account: str, overrides: dict | None = None):
        in_account(account)
        return context(env, synthesized, overrides)
    return make


def test_disabled_dr_region_fails_with_the_enable_command(ctx_of):
    answer = {"Regions": [{"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
                          {"RegionName": "eu-central-1", "OptInStatus": "not-opted-in"}]}
    ec2 = stubbed("ec2", "eu-west-1", [("describe_regions", answer, {"AllRegions": True,
                                                                     "RegionNames": ["eu-central-1", "eu-west-1"]})])
    checks = {c.id: c for c in regions(ctx_of("dev", DEV, {("ec2", "eu-west-1"): ec2}))}
    assert checks["identity.region.eu-west-1"].status == "pass"
    assert checks["identity.region.eu-central-1"].status == "fail"
    assert checks["identity.region.eu-central-1"].fix == "aws account enable-region --region-name eu-central-1"


def test_standalone_account_with_managed_scps_fails(ctx_of):
    (check,) = organization(ctx_of("prod", PROD))  # prod manages SCPs; moto's account is in no organisation
    assert check.status == "fail" and "in no organisation" in check.found


def test_member_that_is_not_a_delegated_administrator_cannot_manage_scps(ctx_of):
    ctx = ctx_of("prod", PROD)
    boto3.client("organizations").create_organization(FeatureSet="ALL")  # this account becomes the management one
    checks = {c.id: c for c in organization(ctx)}
    assert checks["organizations.account"].status == "fail"
    assert "management account: SCPs never apply to it" in checks["organizations.account"].found
    declared = checks["organizations.management-account"]
    assert declared.status == "fail" and dict(declared.paste) == {"access.organization.management_account_id": PROD}


def test_identity_center_in_another_account_is_a_warning(ctx_of):
    (check,) = identity_center(ctx_of("dev", DEV))  # base.yaml: identity-center trust of account 999900001111
    assert check.status == "warn" and "999900001111" in check.found


def test_ebs_default_key_of_another_workload_is_a_warning(ctx_of):
    ec2 = StubberFor(boto3.client("ec2", region_name="eu-west-1"), stubbed("ec2", "eu-west-1", [
        ("get_ebs_default_kms_key_id", {"KmsKeyId": f"arn:aws:kms:eu-west-1:{DEV}:key/other"}, {})]),
        frozenset({"get_ebs_default_kms_key_id"}))
    (check,) = ebs_encryption(ctx_of("dev", DEV, {("ec2", "eu-west-1"): ec2}))
    assert check.status == "warn" and "replacing that key" in check.found


def test_public_access_block_partly_off_is_a_warning(ctx_of):
    ctx = ctx_of("dev", DEV)
    boto3.client("s3control", region_name="eu-west-1").put_public_access_block(AccountId=DEV, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    (check,) = public_access_block(ctx)
    assert check.status == "warn" and "BlockPublicPolicy, RestrictPublicBuckets off" in check.found


def test_existing_service_monitor_fails_with_the_lines_to_watch_it(ctx_of):
    arn = f"arn:aws:ce::{DEV}:anomalymonitor/1a2b3c4d-0000-4000-8000-000000000000"
    ce = stubbed("ce", "us-east-1", [("get_anomaly_monitors", {"AnomalyMonitors": [
        {"MonitorArn": arn, "MonitorName": "Default-Services-Monitor", "MonitorType": "DIMENSIONAL",
         "MonitorDimension": "SERVICE"}]}, {})])
    (check,) = cost_monitor(ctx_of("dev", DEV, {("ce", "us-east-1"): ce}))
    assert check.status == "fail"
    assert dict(check.paste) == {"governance.cost_anomaly.service_monitor": False,
                                 "governance.cost_anomaly.monitor_arn": arn}


def test_vault_and_trail_of_the_same_name_fail(ctx_of):
    ctx = ctx_of("dev", DEV)
    boto3.client("backup", region_name="eu-west-1").create_backup_vault(BackupVaultName="aegis-dev-backup")
    checks = backup_vaults(ctx)
    assert [c.status for c in checks] == ["fail"] and "aegis-dev-backup" in checks[0].found
    assert [c.status for c in trails(ctx)] == ["pass"]
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="left-over-trail-logs", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    boto3.client("cloudtrail", region_name="eu-west-1").create_trail(Name="aegis-dev-trail",
                                                                       S3BucketName="left-over-trail-logs")
    (check,) = trails(ctx)
    assert check.status == "fail" and "aegis-dev-trail" in check.found


def test_service_linked_role_setting_must_match_the_account(ctx_of):
    ctx = ctx_of("dev", DEV)
    assert {c.status for c in service_linked_roles(ctx)} == {"pass"}  # none exist; the stacks create them
    boto3.client("iam").create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    checks = {c.id: c for c in service_linked_roles(ctx)}
    check = checks["service-linked-role.AWSServiceRoleForAutoScaling"]
    assert check.status == "fail" and dict(check.paste) == {"data.service_linked_roles.autoscaling": "existing"}


def org_answers(delegation: dict, scp_enabled: bool = True) -> list:
    """Stubber answers (moto has no Organizations resource policy) for a member of 222233334444's organisation."""
    org = {"Organization": {"Id": "o-abcdefghij", "MasterAccountId": "222233334444", "FeatureSet": "ALL",
                            "Arn": "arn:aws:organizations::222233334444:organization/o-abcdefghij"}}
    roots = {"Roots": [{"Id": "r-ab12", "Name": "Root", "Arn": "arn:aws:organizations::222233334444:root/o-abcdefghij/r-ab12",
                        "PolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY",
                                         "Status": "ENABLED" if scp_enabled else "PENDING_DISABLE"}]}]}
    return [("describe_organization", org, {}), ("describe_resource_policy", delegation, {})] + (
        [("list_roots", roots, {})] if "error" not in delegation else [])


def test_member_without_policy_delegation_cannot_manage_scps(ctx_of):
    organizations = stubbed("organizations", "eu-west-1", org_answers({"error": "AccessDeniedException", "status": 403}))
    (check,) = organization(ctx_of("prod", PROD, {("organizations", "eu-west-1"): organizations}))
    assert check.status == "fail" and "not a delegated administrator" in check.found


def test_delegated_policy_administrator_passes_when_scps_are_enabled(ctx_of):
    import json

    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Delegate", "Effect": "Allow",
              "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"}, "Action": ["organizations:CreatePolicy"],
              "Resource": "*"}]}
    delegation = {"ResourcePolicy": {"Content": json.dumps(policy), "ResourcePolicySummary": {}}}
    organizations = stubbed("organizations", "eu-west-1", org_answers(delegation))
    checks = {c.id: c for c in organization(ctx_of("prod", PROD, {("organizations", "eu-west-1"): organizations}))}
    assert checks["organizations.account"].status == "pass" and "delegated administrator" in checks[
        "organizations.account"].found
    assert checks["organizations.scp-policy-type"].status == "pass"


def _with_addresses(config, email: str, endpoint: str):
    contact = config.governance.security_contact.model_copy(update={"email": email})
    alerts = config.access.alerts.model_copy(update={"subscriptions": [
        s.model_copy(update={"endpoint": endpoint}) for s in config.access.alerts.subscriptions]})
    return config.model_copy(update={"governance": config.governance.model_copy(update={"security_contact": contact}),
                                     "access": config.access.model_copy(update={"alerts": alerts})})


def test_the_shipped_example_contacts_fail_naming_each_key():
    (check,) = contacts(Context(load_env("prod"), None, {}))  # config only: no AWS call
    assert check.status == "fail"
    assert "governance.security_contact.email ml-platform-security@example.com" in check.found
    assert "access.alerts.subscriptions[0].endpoint" in check.found and "example.com is reserved" in check.found


def test_deliverable_contacts_pass():
    config = _with_addresses(load_env("prod"), "security-oncall@acme-bank.eu", "alerts@acme-bank.eu")
    (check,) = contacts(Context(config, None, {}))
    assert check.status == "pass" and "2 address(es)" in check.found
