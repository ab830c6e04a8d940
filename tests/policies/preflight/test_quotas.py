"""Quotas against the config: Service Quotas and Lambda account settings answered by botocore's Stubber
(moto has neither's values), instance vCPUs and network usage by moto."""
from __future__ import annotations

import boto3
import pytest

from policies.preflight.checks.quotas import fleet_vcpus, lambda_concurrency, network, sagemaker_instances
from tests.policies.preflight.conftest import context, stubbed


def quota(code: str, value: float, service: str = "ec2") -> dict:
    return {"Quota": {"ServiceCode": service, "QuotaCode": code, "QuotaName": code, "Value": value}}


def quotas(*answers):
    return stubbed("service-quotas", "eu-west-1", list(answers))


@pytest.fixture
def ctx_of(in_account, mocked, synthesized):
    def make(env: str, account: str, overrides: dict):
        in_account(account)
        return context(env, synthesized, overrides)
    return make


def test_gpu_spot_quota_at_zero_fails_with_the_quota_code(ctx_of):
    # dev: all-spot fleet of up to 2 instances of g5/g4dn/g6 .xlarge (4 vCPUs each): 8 G and VT Spot vCPUs.
    ctx = ctx_of("dev", "111122223333", {("service-quotas", "eu-west-1"): quotas(
        ("get_service_quota", quota("L-3819A6DF", 0), {"ServiceCode": "ec2", "QuotaCode": "L-3819A6DF"}))})
    (check,) = fleet_vcpus(ctx)
    assert check.status == "fail" and check.id == "quota.ec2-vcpus.L-3819A6DF"
    assert "is 0 vCPUs; the fleets need up to 8" in check.found
    assert "--quota-code L-3819A6DF --desired-value 8" in check.fix


def test_prod_fleet_needs_on_demand_and_spot_quotas(ctx_of):
    # prod: max 12, 2 on-demand base + 50 % above → 7 on-demand, 5 spot; g5.2xlarge/g6.2xlarge: 8 vCPUs.
    ctx = ctx_of("prod", "777788889999", {("service-quotas", "eu-west-1"): quotas(
        ("get_service_quota", quota("L-3819A6DF", 40), {"ServiceCode": "ec2", "QuotaCode": "L-3819A6DF"}),
        ("get_service_quota", quota("L-DB2E81BA", 32), {"ServiceCode": "ec2", "QuotaCode": "L-DB2E81BA"}))})
    checks = {c.id: c for c in fleet_vcpus(ctx)}
    assert checks["quota.ec2-vcpus.L-3819A6DF"].status == "pass"  # 5 × 8 = 40
    on_demand = checks["quota.ec2-vcpus.L-DB2E81BA"]
    assert on_demand.status == "fail" and "need up to 56" in on_demand.found  # 7 × 8


def test_quota_without_an_account_value_falls_back_to_the_aws_default(ctx_of):
    ctx = ctx_of("dev", "111122223333", {("service-quotas", "eu-west-1"): quotas(
        ("get_service_quota", {"error": "NoSuchResourceException"}, None),
        ("get_aws_default_service_quota", quota("L-3819A6DF", 8), {"ServiceCode": "ec2", "QuotaCode": "L-3819A6DF"}))})
    (check,) = fleet_vcpus(ctx)
    assert check.status == "pass"


def test_lambda_concurrency_must_leave_the_unreserved_minimum(ctx_of):
    settings = {"AccountLimit": {"ConcurrentExecutions": 10, "UnreservedConcurrentExecutions": 10}}
    ctx = ctx_of("dev", "111122223333", {("lambda", "eu-west-1"): stubbed("lambda", "eu-west-1", [
        ("get_account_settings", settings, {})])})
    (check,) = lambda_concurrency(ctx)
    assert check.status == "fail" and "the functions reserve 10" in check.found
    assert "--quota-code L-B99A9384 --desired-value 110" in check.fix

    roomy = {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}}
    ctx = ctx_of("dev", "111122223333", {("lambda", "eu-west-1"): stubbed("lambda", "eu-west-1", [
        ("get_account_settings", roomy, {})])})
    assert [c.status for c in lambda_concurrency(ctx)] == ["pass"]


def test_sagemaker_endpoint_quota_per_instance_type(ctx_of):
    listing = {"Quotas": [{"QuotaName": "ml.c6i.2xlarge for endpoint usage", "QuotaCode": "L-FAKE0002", "Value": 4.0}]}
    ctx = ctx_of("prod", "777788889999", {("service-quotas", "eu-west-1"): quotas(
        ("list_service_quotas", listing, {"ServiceCode": "sagemaker"}))})
    (check,) = sagemaker_instances(ctx)
    assert check.status == "fail" and "scale to 12" in check.found  # fraud-scorer max_capacity
    assert "--service-code sagemaker --quota-code L-FAKE0002 --desired-value 12" in check.fix


def test_elastic_ips_in_use_count_against_the_nat_gateways(ctx_of):
    # prod: a NAT gateway per AZ (3) needs 3 Elastic IPs; 4 of the 5 are already allocated.
    ctx = ctx_of("prod", "777788889999", {("service-quotas", "eu-west-1"): quotas(
        ("get_service_quota", quota("L-F678F1CE", 5, "vpc"), {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"}),
        ("get_service_quota", quota("L-0263D0A3", 5), {"ServiceCode": "ec2", "QuotaCode": "L-0263D0A3"}),
        ("get_service_quota", quota("L-FE5A380F", 5, "vpc"), {"ServiceCode": "vpc", "QuotaCode": "L-FE5A380F"}))})
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    for _ in range(4):
        ec2.allocate_address(Domain="vpc")
    checks = {c.id: c for c in network(ctx)}
    eip = checks["quota.network.L-0263D0A3"]
    assert eip.status == "fail" and "4 in use, the environment adds 3" in eip.found
    assert checks["quota.network.L-F678F1CE"].status == "pass"


def test_throttled_quota_call_is_an_error_not_a_pass(ctx_of):
    ctx = ctx_of("dev", "111122223333", {("service-quotas", "eu-west-1"): quotas(
        ("get_service_quota", {"error": "TooManyRequestsException"}, None))})
    (check,) = fleet_vcpus(ctx)
    assert check.status == "error" and "throttled" in check.found
