"""`python main.py preflight` end to end, offline: moto in-process, botocore Stubber for what moto lacks.
Exit 0 nothing blocks, 1 something will fail (another account's credentials), 2 preflight could not run
(no credentials, throttled) with one line and no traceback; credentials never reach the output."""
from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

import policies.preflight_cli as preflight_cli
from main import cli
from policies.preflight.aws import Aws
from tests.policies.preflight.conftest import FAKE_SECRET, FAKE_TOKEN, StubberFor, stubbed

DEV = "111122223333"


def invoke(synthesized, tmp_path, *args):
    return CliRunner().invoke(cli, ["preflight", "--env", "dev", "--synth-out", str(synthesized.out),
                                    "--out", str(tmp_path / "reports"), *args], catch_exceptions=False)


def quota(code: str, value: float, service: str = "ec2") -> dict:
    return {"Quota": {"ServiceCode": service, "QuotaCode": code, "QuotaName": code, "Value": value}}


def dev_stubs() -> dict:
    """Stubber answers for the calls of a dev run that moto does not implement, in call order."""
    ec2 = StubberFor(boto3.client("ec2", region_name="eu-west-1"), stubbed("ec2", "eu-west-1", [
        ("get_ebs_default_kms_key_id", {"KmsKeyId": "alias/aws/ebs"}, {})]), frozenset({"get_ebs_default_kms_key_id"}))
    from policies.preflight.checks.scp_denials import CREATE_ACTIONS

    simulated = {"EvaluationResults": [{"EvalActionName": a, "EvalResourceName": "*", "EvalDecision": "allowed"}
                                       for a in sorted(set(CREATE_ACTIONS.values()))], "IsTruncated": False}
    iam = StubberFor(boto3.client("iam", region_name="us-east-1"), stubbed("iam", "us-east-1", [
        ("simulate_principal_policy", simulated, None)]), frozenset({"get_paginator", "simulate_principal_policy"}))
    return {
        ("iam", "us-east-1"): iam,
        ("ec2", "eu-west-1"): ec2,
        ("accessanalyzer", "eu-west-1"): stubbed("accessanalyzer", "eu-west-1", [
            ("list_analyzers", {"analyzers": []}, {"type": "ACCOUNT"})]),
        ("ce", "us-east-1"): stubbed("ce", "us-east-1", [("get_anomaly_monitors", {"AnomalyMonitors": []}, {})]),
        ("lambda", "eu-west-1"): stubbed("lambda", "eu-west-1", [("get_account_settings", {"AccountLimit": {
            "ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}}, {})]),
        ("service-quotas", "eu-west-1"): stubbed("service-quotas", "eu-west-1", [
            ("get_service_quota", quota("L-3819A6DF", 64), {"ServiceCode": "ec2", "QuotaCode": "L-3819A6DF"}),
            ("list_service_quotas", {"Quotas": [{"QuotaName": "ml.m5.large for endpoint usage",
                                                 "QuotaCode": "L-FAKE0001", "Value": 4.0}]},
             {"ServiceCode": "sagemaker"}),
            ("get_service_quota", quota("L-F678F1CE", 5, "vpc"), {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"}),
            ("get_service_quota", quota("L-0263D0A3", 5), {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"}),
            ("get_service_quota", quota("L-FE5A380F", 5, "vpc"), {"ServiceCode": "vpc", "QuotaCode": "L-FE5A380F"}),
        ]),
    }


@pytest.fixture
def with_clients(monkeypatch):
    """`with_clients(overrides)`: the command's AWS clients get these overrides."""
    def use(overrides: dict) -> None:
        monkeypatch.setattr(preflight_cli, "aws_for", lambda region: Aws(boto3.Session(region_name=region), region,
                                                                         overrides=overrides))
    return use


def test_wrong_account_exits_1_with_a_clear_message(in_account, mocked, synthesized, tmp_path):
    in_account("999900009999")
    result = invoke(synthesized, tmp_path)
    assert result.exit_code == 1, result.output
    assert "the credentials are for account 999900009999" in result.output
    assert "environment dev is account 111122223333" in result.output
    report = json.loads((tmp_path / "reports" / "aegis-preflight.json").read_text())
    assert report["verdict"] == "BLOCKED" and [c["id"] for c in report["checks"]] == ["identity.account"]


def test_no_credentials_exits_2_with_one_line(fake_credentials, synthesized, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        fake_credentials.delenv(name)
    result = invoke(synthesized, tmp_path)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: preflight could not run: no AWS credentials found")
    assert "Traceback" not in result.output


def test_throttled_identity_exits_2_with_one_line(fake_credentials, synthesized, tmp_path, with_clients):
    with_clients({("sts", "eu-west-1"): stubbed("sts", "eu-west-1", [
        ("get_caller_identity", {"error": "Throttling", "message": "Rate exceeded"}, None)])})
    result = invoke(synthesized, tmp_path)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "throttled" in lines[0] and "Traceback" not in result.output


def test_deployer_role_that_cannot_be_assumed_blocks(fake_credentials, synthesized, tmp_path, with_clients):
    with_clients({("sts", "eu-west-1"): stubbed("sts", "eu-west-1", [
        ("get_caller_identity", {"Account": DEV, "Arn": f"arn:aws:iam::{DEV}:user/alice", "UserId": "AIDAFAKE"}, {}),
        ("assume_role", {"error": "AccessDenied", "status": 403}, None)])})
    result = invoke(synthesized, tmp_path)
    assert result.exit_code == 1, result.output
    assert "assuming arn:aws:iam::111122223333:role/aegis-deployer failed: access denied to AssumeRole" in result.output
    assert "--no-assume" in result.output


def test_full_run_writes_every_report_and_never_prints_credentials(in_account, mocked, synthesized, tmp_path,
                                                                   with_clients, monkeypatch):
    in_account(DEV)
    boto3.client("macie2", region_name="eu-west-1").disable_macie()
    issued: list[dict] = []
    real_session = boto3.Session

    def recording_session(**kwargs):
        if "aws_session_token" in kwargs:
            issued.append(kwargs)  # the deployer role's temporary credentials
        return real_session(**kwargs)

    monkeypatch.setattr(boto3, "Session", recording_session)
    with_clients(dev_stubs())
    result = invoke(synthesized, tmp_path)
    assert result.exit_code == 0, result.output
    assert "Aegis preflight: READY" in result.output
    assert issued, "the deployer role was assumed"
    secrets = [FAKE_SECRET, FAKE_TOKEN] + [c[k] for c in issued for k in ("aws_secret_access_key", "aws_session_token")]
    reports = sorted((tmp_path / "reports").iterdir())
    assert [p.name for p in reports] == ["aegis-preflight.html", "aegis-preflight.json", "aegis-preflight.md"]
    for text in [result.output] + [p.read_text() for p in reports]:
        for secret in secrets:
            assert secret not in text
    report = json.loads((tmp_path / "reports" / "aegis-preflight.json").read_text())
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses["identity.deployer-role"] == "pass"
    assert "error" not in statuses.values(), [c for c in report["checks"] if c["status"] == "error"]
    assert statuses["quota.ec2-vcpus.L-3819A6DF"] == "pass"
    assert statuses["serving.image.fraud-scorer"] == "warn"  # the repository comes with dev-data


def test_format_option_limits_the_extra_reports(in_account, mocked, synthesized, tmp_path):
    in_account("999900009999")
    invoke(synthesized, tmp_path, "--format", "markdown")
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["aegis-preflight.json", "aegis-preflight.md"]
