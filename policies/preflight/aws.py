"""The AWS side of preflight: credentials, the deployer role, clients, and what a failed call means.

Credentials come from boto3's default chain (environment, shared config and SSO profiles, container and
instance roles), the chain the Terraform AWS provider reads too. Unless told otherwise, preflight assumes
the environment's `deployer_role_arn`, as the provider does, so it sees what the apply will see. The
temporary credentials stay inside the session: nothing here prints or returns them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

# Standard retry mode backs off on throttling; what is still throttled after that is reported as such.
MAX_ATTEMPTS = 5
RETRIES = Config(retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS}, connect_timeout=10, read_timeout=30)
SESSION_NAME = "aegis-preflight"
# STS refused the credentials themselves: nothing else can be read.
REFUSED_CREDENTIALS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException",
                       "UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure"}
THROTTLED = {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
             "ThrottledException", "SlowDown", "RequestThrottled", "RequestThrottledException"}


class PreflightError(Exception):
    """Preflight could not run at all: one line, exit 2."""


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def is_access_denied(exc: BaseException) -> bool:
    code = error_code(exc)
    return code.startswith("AccessDenied") or code in ("UnauthorizedOperation", "AuthorizationError")


def describe(exc: BaseException) -> str:
    """One line for a call that failed: what was refused and why, never credentials or a stack."""
    if isinstance(exc, ClientError):
        code, operation = error_code(exc), exc.operation_name
        if is_access_denied(exc):
            return f"access denied to {operation} ({code}): grant it to the role preflight runs as"
        if code in THROTTLED:
            return f"{operation} was still throttled after {MAX_ATTEMPTS} attempts ({code})"
        message = str(exc.response.get("Error", {}).get("Message", "")).splitlines()
        return f"{operation} failed: {code}" + (f": {message[0]}" if message and message[0] else "")
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found"
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


@dataclass
class Aws:
    """Clients of one boto3 session, created once per (service, region). `overrides` replaces a client
    (tests give botocore Stubber-wrapped clients for APIs the in-process AWS mock does not offer)."""

    session: Any
    region: str
    overrides: dict[tuple[str, str], Any] = field(default_factory=dict)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key in self.overrides:
            return self.overrides[key]
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1], config=RETRIES)
        return self._clients[key]


@dataclass(frozen=True)
class Caller:
    account_id: str
    arn: str


def caller_of(aws: Aws) -> Caller:
    """Who the credentials are; PreflightError when there are none or STS refuses them."""
    try:
        identity = aws.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise PreflightError("no AWS credentials found (environment, shared config or SSO profile, container or "
                             "instance role): sign in, e.g. `aws sso login --profile NAME` and "
                             "AWS_PROFILE=NAME") from None
    except NoRegionError:
        raise PreflightError("no AWS region configured") from None
    except ClientError as exc:
        if error_code(exc) in REFUSED_CREDENTIALS:
            raise PreflightError(f"STS refused the credentials ({error_code(exc)}): renew them") from None
        raise PreflightError(f"could not read the caller identity: {describe(exc)}") from None
    except BotoCoreError as exc:
        raise PreflightError(f"could not reach STS: {describe(exc)}") from None
    return Caller(str(identity["Account"]), str(identity["Arn"]))


def assumed(aws: Aws, role_arn: str) -> Aws:
    """Clients that act as `role_arn` (raises ClientError when it cannot be assumed)."""
    response = aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME, DurationSeconds=900)
    credentials = response["Credentials"]
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                              aws_secret_access_key=credentials["SecretAccessKey"],
                              aws_session_token=credentials["SessionToken"], region_name=aws.region)
    return Aws(session, aws.region, overrides=aws.overrides)
