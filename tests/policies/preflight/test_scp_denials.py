"""SCPs that already deny what the stacks create, from IAM's policy simulator (botocore Stubber: moto has no
simulator), per region of the synthesized stacks."""
from __future__ import annotations

import pytest

from policies.preflight.checks.scp_denials import actions_by_region, scp_denials
from tests.policies.preflight.conftest import context, stubbed

PROD = "777788889999"


def result(action: str, allowed_by_scp: bool = True, decision: str = "allowed") -> dict:
    return {"EvalActionName": action, "EvalResourceName": "*", "EvalDecision": decision,
            "OrganizationsDecisionDetail": {"AllowedByOrganizations": allowed_by_scp}}


def simulator(ctx, answer) -> object:
    """Stubbed SimulatePrincipalPolicy answering per region in the order the check asks (sorted regions)."""
    calls = []
    for region, actions in sorted(actions_by_region(ctx).items()):
        calls.append(("simulate_principal_policy", {"EvaluationResults": [answer(region, a) for a in sorted(actions)],
                                                    "IsTruncated": False},
                      {"PolicySourceArn": ctx.config.deployer_role_arn, "ActionNames": sorted(actions),
                       "ContextEntries": [{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": [region],
                                           "ContextKeyType": "string"}]}))
    return stubbed("iam", "us-east-1", calls)


@pytest.fixture
def prod(in_account, mocked, synthesized):
    in_account(PROD)
    return context("prod", synthesized)


def test_the_regions_and_actions_come_from_the_synthesized_stacks(prod):
    wanted = actions_by_region(prod)
    assert set(wanted) == {"eu-west-1", "eu-central-1", "us-east-1"}  # primary, DR (replicas), CloudFront's edge
    assert {"guardduty:CreateDetector", "organizations:CreatePolicy", "sagemaker:CreateEndpoint"} <= wanted["eu-west-1"]
    assert "guardduty:CreateDetector" in wanted["eu-central-1"]


def test_an_scp_denying_a_create_action_fails_in_that_region(prod):
    prod.aws.overrides[("iam", "us-east-1")] = simulator(
        prod, lambda region, action: result(action, allowed_by_scp=not (region == "eu-central-1"
                                                                        and action == "guardduty:CreateDetector")))
    checks = {c.id: c for c in scp_denials(prod)}
    assert checks["scp.eu-central-1"].status == "fail"
    assert "an SCP denies guardduty:CreateDetector in eu-central-1" in checks["scp.eu-central-1"].found
    assert checks["scp.eu-west-1"].status == "pass" and checks["scp.us-east-1"].status == "pass"


def test_a_denial_by_the_role_alone_is_a_warning(prod):
    prod.aws.overrides[("iam", "us-east-1")] = simulator(
        prod, lambda region, action: result(action, decision="implicitDeny" if action == "kms:CreateKey" else "allowed"))
    checks = {c.id: c for c in scp_denials(prod)}
    assert all(checks[f"scp.{r}"].status == "pass" for r in ("eu-west-1", "eu-central-1", "us-east-1"))
    assert checks["deployer-policy.eu-west-1"].status == "warn" and "kms:CreateKey" in checks["deployer-policy.eu-west-1"].found


def test_simulator_denied_to_the_caller_is_an_error(prod):
    prod.aws.overrides[("iam", "us-east-1")] = stubbed("iam", "us-east-1", [
        ("simulate_principal_policy", {"error": "AccessDenied", "status": 403}, None)] * 3)
    checks = scp_denials(prod)
    assert {c.status for c in checks} == {"error"}
    assert "access denied to SimulatePrincipalPolicy" in checks[0].found
