"""Existing account singletons (moto for GuardDuty, Security Hub, Config, Macie, Inspector; botocore Stubber
for Access Analyzer, which moto lacks): a conflict fails with the exact config line to paste, adopting it
(or leaving it central) passes, and adopting what is not there fails."""
from __future__ import annotations

import boto3
import pytest
import yaml

from policies.preflight.checks.singletons import SINGLETONS, judge, singletons
from policies.preflight.model import Outcome
from tests.policies.preflight.conftest import StubberFor, context, stubbed

DEV = "111122223333"


def analyzers(region: str, names: list[str]):
    """Stubber: Access Analyzer's ListAnalyzers (type ACCOUNT) answering these analyzers."""
    return stubbed("accessanalyzer", region, [("list_analyzers", {"analyzers": [
        {"arn": f"arn:aws:access-analyzer:{region}:{DEV}:analyzer/{n}", "name": n, "type": "ACCOUNT",
         "createdAt": "2026-01-01T00:00:00Z", "status": "ACTIVE"} for n in names]}, {"type": "ACCOUNT"})])


@pytest.fixture
def dev(in_account, mocked, synthesized):
    in_account(DEV)
    boto3.client("macie2", region_name="eu-west-1").disable_macie()  # moto starts with Macie on
    return lambda analyzer_names=(), env="dev": context(
        env, synthesized, {("accessanalyzer", "eu-west-1"): analyzers("eu-west-1", list(analyzer_names))})


def by_id(checks):
    return {c.id: c for c in checks}


def with_governance(ctx, **update):
    governance = ctx.config.governance.model_copy(update=update)
    ctx.config = ctx.config.model_copy(update={"governance": governance})
    return ctx


def test_empty_account_has_no_conflicts(dev):
    checks = singletons(dev())
    assert {c.status for c in checks} == {"pass"}, [(c.id, c.found) for c in checks if c.status != "pass"]
    assert len(checks) == len(SINGLETONS)  # dev has no DR region: one of each


def test_existing_detector_fails_with_the_adopt_line_to_paste(dev):
    detector = boto3.client("guardduty", region_name="eu-west-1").create_detector(Enable=True)["DetectorId"]
    check = by_id(singletons(dev()))["singleton.guardduty_detector.eu-west-1"]
    assert check.status == "fail"
    assert detector in check.found and "creating another fails" in check.found
    assert f"governance.adopt.guardduty_detector: {detector}" in check.fix
    pasted = yaml.safe_load(Outcome("dev", DEV, "eu-west-1", checks=[check]).paste_yaml())
    assert pasted == {"governance": {"adopt": {"guardduty_detector": detector}}}


def test_adopted_detector_passes_and_a_wrong_id_fails(dev):
    detector = boto3.client("guardduty", region_name="eu-west-1").create_detector(Enable=True)["DetectorId"]
    ctx = dev()
    adopt = ctx.config.governance.adopt.model_copy(update={"guardduty_detector": detector})
    check = by_id(singletons(with_governance(ctx, adopt=adopt)))["singleton.guardduty_detector.eu-west-1"]
    assert check.status == "pass" and "first apply imports it" in check.found

    wrong = adopt.model_copy(update={"guardduty_detector": "0" * 32})
    check = by_id(singletons(with_governance(dev(), adopt=wrong)))["singleton.guardduty_detector.eu-west-1"]
    assert check.status == "fail" and "0" * 32 in check.found
    assert dict(check.paste) == {"governance.adopt.guardduty_detector": detector}


def test_adopting_a_singleton_that_does_not_exist_fails(dev):
    ctx = dev()
    adopt = ctx.config.governance.adopt.model_copy(update={"securityhub_account": True})
    check = by_id(singletons(with_governance(ctx, adopt=adopt)))["singleton.securityhub_account.eu-west-1"]
    assert check.status == "fail" and "the import would fail" in check.found


def securityhub_with_standards(*arns: str):
    """moto's Security Hub, with its enabled standards answered by a Stubber (moto lacks GetEnabledStandards)."""
    subscriptions = [{"StandardsSubscriptionArn": f"{arn}/subscription", "StandardsArn": arn, "StandardsInput": {},
                      "StandardsStatus": "READY"} for arn in arns]
    return StubberFor(boto3.client("securityhub", region_name="eu-west-1"), stubbed("securityhub", "eu-west-1", [
        ("get_enabled_standards", {"StandardsSubscriptions": subscriptions}, {})]),
        frozenset({"get_paginator", "get_enabled_standards"}))


def test_centrally_managed_service_is_reported_as_such_with_its_standards(dev):
    boto3.client("securityhub", region_name="eu-west-1").enable_security_hub(EnableDefaultStandards=False)
    ctx = with_governance(dev(), central=["securityhub"])
    ctx.aws.overrides[("securityhub", "eu-west-1")] = securityhub_with_standards(
        "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0")
    check = by_id(singletons(ctx))["singleton.securityhub_account.eu-west-1"]
    assert check.status == "pass" and "provided centrally" in check.found
    assert "enabled standards: standards/aws-foundational-security-best-practices/v/1.0.0" in check.found


def test_security_hub_already_on_is_adopted_by_account(dev):
    boto3.client("securityhub", region_name="eu-west-1").enable_security_hub(EnableDefaultStandards=False)
    ctx = dev()
    ctx.aws.overrides[("securityhub", "eu-west-1")] = securityhub_with_standards()
    check = by_id(singletons(ctx))["singleton.securityhub_account.eu-west-1"]
    assert check.status == "fail" and "enabled standards: none" in check.found
    assert dict(check.paste) == {"governance.adopt.securityhub_account": True}


def test_control_tower_recorder_suggests_central(dev):
    config = boto3.client("config", region_name="eu-west-1")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "aws-controltower-BaselineConfigRecorder",
        "roleARN": f"arn:aws:iam::{DEV}:role/aws-controltower-ConfigRecorderRole",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    check = by_id(singletons(dev()))["singleton.config_recorder.eu-west-1"]
    assert check.status == "fail" and "Control Tower" in check.found
    assert dict(check.paste) == {"governance.central": ["config"]}


def test_macie_and_inspector_already_on_are_adopted_by_account(dev):
    boto3.client("macie2", region_name="eu-west-1").enable_macie()
    boto3.client("inspector2", region_name="eu-west-1").enable(accountIds=[DEV], resourceTypes=["EC2", "ECR"])
    checks = by_id(singletons(dev()))
    assert dict(checks["singleton.macie_account.eu-west-1"].paste) == {"governance.adopt.macie_account": True}
    assert dict(checks["singleton.inspector.eu-west-1"].paste) == {"governance.adopt.inspector": True}


def test_an_existing_analyzer_is_adopted_by_name_and_our_own_name_passes(dev):
    check = by_id(singletons(dev(["ConsoleAnalyzer-1a2b"])))["singleton.access_analyzer.eu-west-1"]
    assert check.status == "fail"
    assert dict(check.paste) == {"governance.adopt.access_analyzer": "ConsoleAnalyzer-1a2b"}
    check = by_id(singletons(dev(["aegis-dev-external-access"])))["singleton.access_analyzer.eu-west-1"]
    assert check.status == "pass"


def test_dr_region_detector_is_checked_where_the_environment_uses_it(in_account, mocked, synthesized):
    in_account("444455556666")
    for region in ("eu-west-1", "eu-central-1"):
        boto3.client("macie2", region_name=region).disable_macie()
    dr_detector = boto3.client("guardduty", region_name="eu-central-1").create_detector(Enable=True)["DetectorId"]
    ctx = context("staging", synthesized, {("accessanalyzer", "eu-west-1"): analyzers("eu-west-1", [])})
    checks = by_id(singletons(ctx))
    check = checks["singleton.guardduty_detector_dr.eu-central-1"]
    assert check.status == "fail"
    assert dict(check.paste) == {"governance.adopt.guardduty_detector_dr": dr_detector}
    assert checks["singleton.guardduty_detector.eu-west-1"].status == "pass"


def test_access_denied_on_one_service_is_an_error_for_that_check_only(dev):
    denied = stubbed("guardduty", "eu-west-1", [("list_detectors", {"error": "AccessDeniedException",
                                                                    "status": 403}, None)])
    ctx = dev()
    ctx.aws.overrides[("guardduty", "eu-west-1")] = denied
    checks = by_id(singletons(ctx))
    error = checks["singleton.guardduty_detector.eu-west-1"]
    assert error.status == "error" and "access denied to ListDetectors" in error.found
    assert all(c.status == "pass" for i, c in checks.items() if i != error.id)


def test_judge_is_pure_on_what_was_found(dev):
    """The decision table without AWS: an administrator account managing the service suggests central."""
    from policies.preflight.checks.singletons import Existing

    ctx = dev()
    guardduty = next(s for s in SINGLETONS if s.key == "guardduty_detector")
    check = judge(ctx, guardduty, "eu-west-1", Existing(("ab" * 16,), "999988887777"))
    assert check.status == "fail" and "managed by 999988887777" in check.found
    assert dict(check.paste) == {"governance.central": ["guardduty"]}
