"""Organizations SCPs: only when the env turns organisation management on (prod does)."""
from __future__ import annotations

import json

import pytest

from modules.config import load_env
from policies.iam_eval import Request, is_allowed

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ec2:*", "iam:*", "kms:*", "cloudtrail:*", "guardduty:*", "config:*",
                                   "securityhub:*", "organizations:*", "s3:*"], "Resource": "*"}]}


def scps(synthesized, env) -> dict[str, dict]:
    return {p["name"]: p for p in synthesized.resources(f"{env}-access", "aws_organizations_policy").values()}


EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def test_scps_only_where_configured(synthesized, env):
    config = load_env(env)
    policies = scps(synthesized, env)
    attachments = synthesized.resources(f"{env}-access", "aws_organizations_policy_attachment")
    if not config.access.organization.manage_scps:
        assert policies == {} and attachments == {}
        return
    assert len(policies) == 2 and all(p["type"] == "SERVICE_CONTROL_POLICY" for p in policies.values())
    for p in policies.values():
        assert len(json.dumps(json.loads(p["content"]), separators=(",", ":"))) <= 5120  # SCP size limit
    targets = sorted(a["target_id"] for a in attachments.values())
    assert targets == sorted(config.access.organization.target_ids * len(policies))


def test_prod_turns_scps_on():
    assert load_env("prod").access.organization.manage_scps


@pytest.fixture
def prod_scps(synthesized):
    config = load_env("prod")
    return config, [json.loads(p["content"]) for p in scps(synthesized, "prod").values()]


@pytest.mark.parametrize("action", [
    "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "guardduty:DeleteDetector",
    "guardduty:DisassociateFromAdministratorAccount", "config:StopConfigurationRecorder",
    "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "securityhub:DisableSecurityHub",
    "kms:ScheduleKeyDeletion", "kms:DisableKey", "organizations:LeaveOrganization",
])
def test_nobody_disables_security_services_or_keys_or_leaves(prod_scps, action):
    config, documents = prod_scps
    for principal in (config.deployer_role_arn, f"arn:aws:iam::{config.account_id}:role/Admin"):
        request = Request(action, "*", {"aws:PrincipalArn": principal, "aws:RequestedRegion": config.region})
        assert not is_allowed([ALLOW_ALL], request, scps=documents), (action, principal)


def test_only_the_deployer_reconfigures_the_trail(prod_scps):
    config, documents = prod_scps
    for principal, expected in ((config.deployer_role_arn, True), (f"arn:aws:iam::{config.account_id}:role/Admin", False)):
        request = Request("cloudtrail:UpdateTrail", "*", {"aws:PrincipalArn": principal,
                                                          "aws:RequestedRegion": config.region})
        assert is_allowed([ALLOW_ALL], request, scps=documents) is expected


def test_region_allow_list(prod_scps):
    config, documents = prod_scps

    def ok(action: str, region: str) -> bool:
        return is_allowed([ALLOW_ALL], Request(action, "*", {"aws:RequestedRegion": region,
                                                            "aws:PrincipalArn": config.deployer_role_arn}),
                          scps=documents)

    assert ok("ec2:RunInstances", config.region) and ok("ec2:RunInstances", config.dr_region)
    assert not ok("ec2:RunInstances", "us-east-2")
    assert not ok("s3:CreateBucket", "ap-southeast-1")
    assert ok("iam:CreateRole", "us-east-1")  # global service


def test_scps_let_aegis_manage_its_cloudfront_edge_in_us_east_1(prod_scps):
    """prod-platform manages the CLOUDFRONT web ACL, the edge key, log groups and log delivery in us-east-1:
    the region SCP once exempted classic waf:* only, denying wafv2, kms and logs there to the deployer too."""
    config, documents = prod_scps

    def ok(action: str, region: str) -> bool:
        request = Request(action, "*", {"aws:RequestedRegion": region, "aws:PrincipalArn": config.deployer_role_arn})
        return is_allowed([EVERYTHING], request, scps=documents)

    for action in ("wafv2:CreateWebACL", "kms:CreateKey", "logs:CreateLogGroup", "logs:PutDeliverySource"):
        assert ok(action, "us-east-1"), action
        assert not ok(action, "us-west-2"), action  # only where the app manages them
    assert not ok("ec2:RunInstances", "us-east-1") and not ok("s3:CreateBucket", "us-east-1")


def test_region_exemptions_are_derived_from_what_the_platform_manages_outside(synthesized):
    """Every resource synthesized outside the allowed regions is of a type modules/edge.py declares, so the
    SCP's exemptions (derived from those types) cover exactly what the app manages there."""
    from modules.edge import EDGE_REGION, EDGE_RESOURCE_TYPES, managed_outside
    from modules.iam_services import service_of

    for env in ("dev", "staging", "prod"):
        config = load_env(env)
        allowed = config.access.allowed_regions(config.region, config.dr_region)
        outside = {rtype for stack in synthesized.stack_names if stack.startswith(f"{env}-")
                   for rtype, items in synthesized.stack(stack).get("resource", {}).items()
                   for conf in items.values() if conf.get("region") not in (None, *allowed)}
        assert outside <= set(EDGE_RESOURCE_TYPES), env
        expected = {EDGE_REGION: tuple(sorted({service_of(t) for t in outside}))} if outside else {}
        assert managed_outside(config, allowed) == expected, env
    assert managed_outside(load_env("prod"), ["eu-west-1", "eu-central-1"])[EDGE_REGION] == ("kms", "logs", "wafv2")
