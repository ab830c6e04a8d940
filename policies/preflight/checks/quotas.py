"""Quotas against what the config asks for: EC2 vCPUs of the GPU fleets at their max size (On-Demand and
Spot, per instance family), Lambda concurrency, SageMaker endpoint instances, and VPC, Elastic IP and NAT
gateway limits. New accounts start low (G and VT vCPUs at 0, Lambda concurrency can be 10), and a quota
hit in the middle of an apply leaves a half-built stack. The demand is an upper bound at max size; what
already runs in the account counts against the same quotas.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from botocore.exceptions import ClientError

from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

UNRESERVED_MINIMUM = 100  # Lambda keeps 100 concurrent executions unreserved per account and region
LAMBDA_CONCURRENCY = ("lambda", "L-B99A9384")


@dataclass(frozen=True)
class VcpuQuota:
    label: str
    on_demand: str  # quota codes (service code ec2)
    spot: str | None


# EC2 vCPU quotas by instance family (the codes the Service Quotas console lists for ec2).
FAMILIES = (
    (re.compile(r"^(g|vt)\d"), VcpuQuota("G and VT", "L-DB2E81BA", "L-3819A6DF")),
    (re.compile(r"^p[2-4]"), VcpuQuota("P", "L-417A185B", "L-7212CCBC")),
    (re.compile(r"^p\d"), VcpuQuota("P", "L-417A185B", None)),  # P5 and later: a Spot quota of their own
    (re.compile(r"^[acdhimrtz]\d"), VcpuQuota("Standard", "L-1216C47A", "L-34B43A08")),
)
NETWORK = (  # (service code, quota code, what, demand function)
    ("vpc", "L-F678F1CE", "VPCs per region"),
    ("ec2", "L-0263D0A3", "Elastic IP addresses"),
    ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone"),
)


def quota_value(ctx: Context, service: str, code: str) -> float:
    """The account's value of a quota, or the AWS default where the account has none of its own."""
    client = ctx.aws.client("service-quotas")
    try:
        return float(client.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchResourceException":
            raise
    return float(client.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"])


def request(service: str, code: str, value: float) -> str:
    return (f"aws service-quotas request-service-quota-increase --service-code {service} --quota-code {code} "
            f"--desired-value {math.ceil(value)}")


def family_quota(instance_type: str) -> VcpuQuota | None:
    return next((quota for pattern, quota in FAMILIES if pattern.match(instance_type)), None)


def fleet_vcpus(ctx: Context) -> list[Check]:
    fleets = [m for m in ctx.config.platform.models if m.ec2 is not None]
    if not fleets:
        return [Check("quota.ec2-vcpus", "EC2 vCPU quotas cover the fleets", "pass", "no EC2 fleets")]
    title = "EC2 vCPU quotas cover the fleets at max size"

    def judge() -> list[Check]:
        types = sorted({t for m in fleets for t in m.ec2.instance_types})  # type: ignore[union-attr]
        listed = ctx.aws.client("ec2").describe_instance_types(InstanceTypes=types)["InstanceTypes"]
        vcpus = {i["InstanceType"]: int(i["VCpuInfo"]["DefaultVCpus"]) for i in listed}
        demand: dict[tuple[str, str], float] = {}  # (quota code, purchase) → vCPUs
        labels: dict[str, str] = {}
        unchecked: list[str] = []
        for model in fleets:
            fleet = model.ec2
            assert fleet is not None
            on_demand = fleet.on_demand_base_capacity + math.ceil(
                (fleet.max_size - fleet.on_demand_base_capacity) * fleet.on_demand_percentage_above_base / 100)
            spot = fleet.max_size - on_demand
            by_quota: dict[VcpuQuota, int] = {}
            for itype in fleet.instance_types:
                quota = family_quota(itype)
                if quota is None:
                    unchecked.append(itype)
                    continue
                by_quota[quota] = max(by_quota.get(quota, 0), vcpus[itype])  # worst case: the largest type
            for quota, size in by_quota.items():
                if on_demand:
                    key = (quota.on_demand, "On-Demand")
                    demand[key] = demand.get(key, 0) + on_demand * size
                    labels[quota.on_demand] = quota.label
                if spot:
                    if quota.spot is None:
                        unchecked.append(f"{quota.label} Spot ({', '.join(fleet.instance_types)})")
                        continue
                    demand[(quota.spot, "Spot")] = demand.get((quota.spot, "Spot"), 0) + spot * size
                    labels[quota.spot] = quota.label
        checks = [_vcpu_check(ctx, code, purchase, labels[code], need) for (code, purchase), need in sorted(demand.items())]
        if unchecked:
            checks.append(Check("quota.ec2-vcpus.unchecked", title, "warn",
                                f"no vCPU quota known here for {', '.join(sorted(set(unchecked)))}",
                                "check it in the Service Quotas console (ec2) before applying"))
        return checks

    return attempt("quota.ec2-vcpus", title, judge)


def _vcpu_check(ctx: Context, code: str, purchase: str, label: str, need: float) -> Check:
    check_id = f"quota.ec2-vcpus.{code}"
    title = f"{purchase} {label} vCPUs cover the fleets at max size"
    have = quota_value(ctx, "ec2", code)
    found = f"quota {code} ({purchase} {label}) is {have:g} vCPUs; the fleets need up to {need:g} at max size"
    if have >= need:
        return Check(check_id, title, "pass", found)
    return Check(check_id, title, "fail", found + " (instances already running count too)",
                 f"request quota {code}: {request('ec2', code, need)}")


def lambda_concurrency(ctx: Context) -> list[Check]:
    title = "Lambda concurrency covers the reserved concurrency plus the unreserved minimum"
    reserved = sum(int(conf.get("reserved_concurrent_executions") or 0)
                   for _, _, conf in ctx.stack_resources("aws_lambda_function")
                   if int(conf.get("reserved_concurrent_executions") or 0) > 0)
    if not reserved:
        return [Check("quota.lambda-concurrency", title, "pass", "no function reserves concurrency")]

    def judge() -> Check:
        limit = ctx.aws.client("lambda").get_account_settings()["AccountLimit"]
        total, unreserved = int(limit["ConcurrentExecutions"]), int(limit["UnreservedConcurrentExecutions"])
        available = unreserved - UNRESERVED_MINIMUM
        found = (f"account concurrency {total} ({unreserved} unreserved now); the functions reserve {reserved}, and "
                 f"{UNRESERVED_MINIMUM} must stay unreserved")
        if reserved <= available:
            return Check("quota.lambda-concurrency", title, "pass", found)
        service, code = LAMBDA_CONCURRENCY
        return Check("quota.lambda-concurrency", title, "fail", found + ": setting the reservations fails",
                     f"request quota {code}: {request(service, code, total + reserved - available)}")

    return attempt("quota.lambda-concurrency", title, judge)


def sagemaker_instances(ctx: Context) -> list[Check]:
    need: dict[str, int] = {}
    for model in ctx.config.platform.models:
        if model.sagemaker is not None:
            itype = model.sagemaker.instance_type
            need[itype] = need.get(itype, 0) + model.sagemaker.autoscaling.max_capacity
    if not need:
        return []
    title = "SageMaker endpoint instance quotas cover the endpoints at max capacity"

    def judge() -> list[Check]:
        pages = ctx.aws.client("service-quotas").get_paginator("list_service_quotas").paginate(ServiceCode="sagemaker")
        quotas = {q["QuotaName"]: q for page in pages for q in page.get("Quotas", [])}
        checks = []
        for itype, count in sorted(need.items()):
            quota = quotas.get(f"{itype} for endpoint usage")
            check_id = f"quota.sagemaker-endpoint.{itype}"
            if quota is None:
                checks.append(Check(check_id, title, "fail", f"no '{itype} for endpoint usage' quota in the account "
                                                             "and region: the type may not be offered here",
                                    "pick an instance type the region offers for endpoints"))
                continue
            have = float(quota["Value"])
            found = f"quota {quota['QuotaCode']} ({itype} for endpoint usage) is {have:g}; the endpoints scale to {count}"
            checks.append(Check(check_id, title, "pass", found) if have >= count else Check(
                check_id, title, "fail", found, f"request quota {quota['QuotaCode']}: "
                                                f"{request('sagemaker', quota['QuotaCode'], count)}"))
        return checks

    return attempt("quota.sagemaker-endpoint", title, judge)


def network(ctx: Context) -> list[Check]:
    settings = ctx.config.platform.network
    nat = (settings.az_count if settings.nat_gateway_per_az else 1) if settings.egress else 0
    title = "VPC, Elastic IP and NAT gateway quotas cover the network"

    def judge() -> list[Check]:
        ec2 = ctx.aws.client("ec2")
        vpcs = len(ec2.describe_vpcs()["Vpcs"])
        addresses = len(ec2.describe_addresses()["Addresses"])
        demand = {"L-F678F1CE": (vpcs, 1), "L-0263D0A3": (addresses, nat), "L-FE5A380F": (0, 1 if nat else 0)}
        checks = []
        for service, code, what in NETWORK:
            used, more = demand[code]
            if not more:
                continue
            have = quota_value(ctx, service, code)
            found = f"quota {code} ({what}) is {have:g}; {used} in use, the environment adds {more}"
            checks.append(Check(f"quota.network.{code}", title, "pass", found) if used + more <= have else Check(
                f"quota.network.{code}", title, "fail", found, f"request quota {code}: "
                                                               f"{request(service, code, used + more)}"))
        return checks

    return attempt("quota.network", title, judge)


PROBES = [("quota.ec2-vcpus", "EC2 vCPU quotas", fleet_vcpus),
          ("quota.lambda-concurrency", "Lambda concurrency", lambda_concurrency),
          ("quota.sagemaker-endpoint", "SageMaker endpoint quotas", sagemaker_instances),
          ("quota.network", "Network quotas", network)]
