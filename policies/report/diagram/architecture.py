"""The model of an environment's architecture diagram: what the picture shows, and the bucket naming
convention it recognises buckets by (`<prefix>-<purpose>-<account>-<region>`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from modules.naming import BUCKETS
from policies.report.diagram.stacks import strings


@dataclass
class Bucket:
    purpose: str
    name: str
    encryption: str = "?"  # "KMS <class>" | "SSE-S3"
    lock: str = ""  # "COMPLIANCE 365 d" …
    versioned: bool = False
    logs_to: str = ""  # purpose of the access-log target
    replicated: bool = False


@dataclass
class Stage:
    title: str
    detail: str = ""


@dataclass
class Model:
    name: str
    kind: str  # sagemaker | sagemaker-serverless | lambda | ec2
    stages: list[Stage] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)  # bucket purposes
    writes: set[str] = field(default_factory=set)
    triggers: set[str] = field(default_factory=set)  # buckets whose events invoke it
    alarms: int = 0
    notes: list[str] = field(default_factory=list)
    # How a new version reaches traffic and what watches it: release strategy and rollback alarms, data
    # capture, Model Monitor and its drift alarm (or why there is none).
    lifecycle: list[str] = field(default_factory=list)
    drift_alarm: bool = False  # the access stack alarms on its Model Monitor drift


@dataclass
class Network:
    cidr: str = ""
    azs: int = 0
    private_subnets: int = 0
    public_subnets: int = 0
    interface_endpoints: list[str] = field(default_factory=list)
    gateway_endpoints: list[str] = field(default_factory=list)
    nat_gateways: int = 0
    internet_gateway: bool = False
    flow_logs: str = ""
    security_groups: int = 0


@dataclass
class Service:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Flow:
    source: str  # node id: bucket:<purpose> | model:<name> | svc:<key> | dr | storage:<key>
    target: str
    label: str


@dataclass
class Architecture:
    env: str
    project: str = ""
    region: str = ""
    dr_region: str = ""
    account: str = ""
    keys: list[str] = field(default_factory=list)
    dr_keys: list[str] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    dr_buckets: list[str] = field(default_factory=list)  # purposes replicated to the DR region
    account_guards: list[str] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    network: Network | None = None
    models: list[Model] = field(default_factory=list)
    training: list[Stage] = field(default_factory=list)  # the training lane (diagram/training.py)
    storage: list[Service] = field(default_factory=list)
    access: list[Service] = field(default_factory=list)
    governance: list[Service] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # pillar → resources
    rotated: int = 0  # data-stack KMS keys with rotation enabled

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.env}" if self.project else self.env


_BUCKET_NAME = re.compile(r"^(?P<prefix>.+?)-(?P<purpose>[a-z0-9-]+?)-(?P<account>\d{12})-(?P<region>[a-z]{2}(-[a-z]+)+-\d)$")


def bucket_purpose(arch: Architecture, bucket_name: str) -> tuple[str, str] | None:
    """(purpose, region) of a bucket named by the convention `<prefix>-<purpose>-<account>-<region>`."""
    match = _BUCKET_NAME.match(bucket_name)
    if not match:
        return None
    purpose = match["purpose"]
    if arch.prefix and bucket_name.startswith(arch.prefix + "-"):
        # The regex cannot tell where a hyphenated prefix ends; the environment's prefix can.
        purpose = bucket_name[len(arch.prefix) + 1:match.start("account") - 1]
    return purpose, match["region"]


def bucket_purposes(arch: Architecture, value: Any) -> set[str]:
    """Purposes of the environment's primary-region buckets that a value names (by name or ARN)."""
    found = set()
    for text in strings(value):
        for name in re.findall(r"(?:arn:aws:s3:::|s3://|^)([a-z0-9][a-z0-9.-]{2,62})", text):
            hit = bucket_purpose(arch, name)
            if hit and hit[0] in arch.buckets and hit[1] == arch.region:
                found.add(hit[0])
    return found


def bucket_order(purpose: str) -> tuple[int, str]:
    order = list(BUCKETS)
    # access logs last: every other bucket sends its logs there
    order.remove("access-logs")
    order.append("access-logs")
    return (order.index(purpose) if purpose in order else len(order) - 1, purpose)
