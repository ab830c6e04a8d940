"""Preflight runs offline here: moto's in-process AWS (`mock_aws`) for every API it offers, botocore's
Stubber for the few it does not (Service Quotas values, Access Analyzer, Cost Explorer anomaly monitors,
the default EBS key, Lambda account settings). Fake credentials only; no shared config or profile is
read, and nothing reaches the network (moto intercepts; a Stubber raises on any call it was not given)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from modules.config import load_env
from policies.preflight.aws import Aws
from policies.preflight.context import Context

FAKE_SECRET = "fake-secret-access-key-never-printed"
FAKE_TOKEN = "fake-session-token-never-printed"


@pytest.fixture
def fake_credentials(monkeypatch, tmp_path):
    """Environment credentials only (as terraform and boto3 read them), in an account set per test."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEPREFLIGHT000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return monkeypatch


@pytest.fixture
def in_account(fake_credentials):
    """`in_account("111122223333")`: moto answers as that account (the caller's account)."""
    def set_account(account_id: str) -> None:
        fake_credentials.setenv("MOTO_ACCOUNT_ID", account_id)

    return set_account


@pytest.fixture
def mocked(fake_credentials):
    from moto import mock_aws

    with mock_aws():
        yield


def stubbed(service: str, region: str, calls: list[tuple[str, dict, dict | None]]) -> Any:
    """A client whose answers are botocore Stubber responses: (operation, response, expected params or
    None), or (operation, {"error": code}, None) for a service error. Any other call raises."""
    client = boto3.client(service, region_name=region)
    stubber = Stubber(client)
    for operation, response, params in calls:
        if "error" in response:
            stubber.add_client_error(operation, service_error_code=response["error"],
                                     service_message=response.get("message", ""),
                                     http_status_code=response.get("status", 400))
        else:
            stubber.add_response(operation, response, params)
    stubber.activate()
    client.stubber = stubber
    return client


@dataclass
class StubberFor:
    """One service's client: moto for what it offers, a Stubber-wrapped client for `operations` moto lacks."""

    moto: Any
    stub: Any
    operations: frozenset[str] = field(default_factory=frozenset)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stub if name in self.operations else self.moto, name)


def context(env: str, synthesized, overrides: dict | None = None) -> Context:
    config = load_env(env)
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith(f"{env}-")}
    aws = Aws(boto3.Session(region_name=config.region), config.region, overrides=overrides or {})
    return Context(config, aws, stacks)
