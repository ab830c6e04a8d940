"""Account singletons that already exist where Aegis would create its own (one per account and region).

For each: none → Aegis creates it (pass); one exists → the first apply would fail unless the config adopts
it (`governance.adopt`, an `import` block) or leaves the service to its central owner (`governance.central`,
suggested when an administrator account manages it). Adopting something that is not there, or a service
declared central that nobody enabled, is reported too. A singleton already in this environment's
Terraform state is its own, from an earlier apply.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import partial
from typing import Callable

from botocore.exceptions import ClientError

from policies.preflight.aws import error_code
from policies.preflight.context import Context, adopt_key, attempt, found_in_state
from policies.preflight.model import Check


@dataclass(frozen=True)
class Existing:
    ids: tuple[str, ...] = ()  # what identifies each one found (detector ID, name, account ID)
    administrator: str = ""    # the administrator account that manages it for this one, when known
    note: str = ""             # what else is worth knowing about it (Security Hub: its enabled standards)


@dataclass(frozen=True)
class Singleton:
    key: str                    # its governance.adopt key (the DR region's adds `_dr`)
    service: str | None         # its governance.central service (None: cannot be central)
    rtype: str                  # the Terraform resource type Aegis declares
    title: str
    find: Callable[[Context, str], Existing]
    by_account: bool = False    # imported by the account ID: adopted with `true`
    dr: bool = False            # Aegis also declares one in the DR region (with data.replication)
    own_name: Callable[[Context], str] | None = None  # Aegis's own name: one found under it is this env's


def _administrator(client, method: str = "get_administrator_account") -> str:
    try:
        response = getattr(client, method)()
    except ClientError:
        return ""
    admin = response.get("Administrator") or response.get("administrator") or response.get("Master") or {}
    return str(admin.get("AccountId") or admin.get("accountId") or "")


def _guardduty(ctx: Context, region: str) -> Existing:
    client = ctx.aws.client("guardduty", region)
    ids = tuple(client.list_detectors().get("DetectorIds", []))
    if not ids:
        return Existing()
    return Existing(ids, _administrator(_WithDetector(client, ids[0])))


class _WithDetector:
    """GuardDuty's GetAdministratorAccount takes the detector ID."""

    def __init__(self, client, detector_id: str):
        self.client, self.detector_id = client, detector_id

    def get_administrator_account(self):
        return self.client.get_administrator_account(DetectorId=self.detector_id)


def _securityhub(ctx: Context, region: str) -> Existing:
    client = ctx.aws.client("securityhub", region)
    try:
        client.describe_hub()
    except ClientError as exc:
        if error_code(exc) in ("InvalidAccessException", "ResourceNotFoundException"):
            return Existing()  # "Account is not subscribed to AWS Security Hub"
        raise
    pages = client.get_paginator("get_enabled_standards").paginate()
    standards = sorted(str(sub["StandardsArn"]).split(":", 5)[-1] for page in pages
                       for sub in page.get("StandardsSubscriptions", []))
    return Existing((ctx.account_id,), _administrator(client),
                    f"enabled standards: {', '.join(standards) or 'none'}")


def _macie(ctx: Context, region: str) -> Existing:
    client = ctx.aws.client("macie2", region)
    try:
        session = client.get_macie_session()
    except ClientError as exc:
        # Macie answers AccessDeniedException "Macie is not enabled" when it is off.
        if error_code(exc) == "ResourceNotFoundException" or "not enabled" in str(exc):
            return Existing()
        raise
    if session.get("status") not in ("ENABLED", "PAUSED"):
        return Existing()
    return Existing((ctx.account_id,), _administrator(client))


def _inspector(ctx: Context, region: str) -> Existing:
    client = ctx.aws.client("inspector2", region)
    accounts = client.batch_get_account_status(accountIds=[ctx.account_id]).get("accounts", [])
    status = (accounts[0].get("state") or {}).get("status") if accounts else None
    if status not in ("ENABLED", "ENABLING"):
        return Existing()
    admin = ""
    with contextlib.suppress(ClientError):
        admin = str(client.get_delegated_admin_account().get("delegatedAdmin", {}).get("accountId", ""))
    return Existing((ctx.account_id,), admin if admin != ctx.account_id else "")


def _recorder(ctx: Context, region: str) -> Existing:
    recorders = ctx.aws.client("config", region).describe_configuration_recorders().get("ConfigurationRecorders", [])
    names = tuple(r["name"] for r in recorders)
    # Control Tower's baseline recorder is managed for the account: leave it central.
    return Existing(names, "Control Tower" if any(n.startswith("aws-controltower") for n in names) else "")


def _channel(ctx: Context, region: str) -> Existing:
    channels = ctx.aws.client("config", region).describe_delivery_channels().get("DeliveryChannels", [])
    names = tuple(c["name"] for c in channels)
    return Existing(names, "Control Tower" if any(n.startswith("aws-controltower") for n in names) else "")


def _analyzer(ctx: Context, region: str) -> Existing:
    analyzers = ctx.aws.client("accessanalyzer", region).list_analyzers(type="ACCOUNT").get("analyzers", [])
    return Existing(tuple(a["name"] for a in analyzers if a.get("status") != "FAILED"))


SINGLETONS = (
    Singleton("guardduty_detector", "guardduty", "aws_guardduty_detector", "GuardDuty detector", _guardduty, dr=True),
    Singleton("securityhub_account", "securityhub", "aws_securityhub_account", "Security Hub", _securityhub,
              by_account=True),
    Singleton("config_recorder", "config", "aws_config_configuration_recorder", "AWS Config recorder", _recorder,
              own_name=lambda ctx: ctx.naming.resource("recorder")),
    Singleton("config_delivery_channel", "config", "aws_config_delivery_channel", "AWS Config delivery channel",
              _channel, own_name=lambda ctx: ctx.naming.resource("config-delivery")),
    Singleton("macie_account", "macie", "aws_macie2_account", "Macie", _macie, by_account=True),
    Singleton("inspector", "inspector", "aws_inspector2_enabler", "Inspector", _inspector, by_account=True),
    Singleton("access_analyzer", None, "aws_accessanalyzer_analyzer", "Access Analyzer (account analyzer)",
              _analyzer, own_name=lambda ctx: ctx.naming.resource("external-access")),
)


def judge(ctx: Context, singleton: Singleton, region: str, existing: Existing) -> Check:
    dr = region != ctx.config.region
    key = singleton.key + ("_dr" if dr else "")
    check_id, title = f"singleton.{key}.{region}", f"No conflicting {singleton.title} in {region}"
    governance = ctx.config.governance
    central = singleton.service is not None and governance.is_central(singleton.service)
    adopted = getattr(governance.adopt, key)
    found = ", ".join(existing.ids) + (f" ({existing.note})" if existing.note else "")
    managed_by = f" (managed by {existing.administrator})" if existing.administrator else ""
    if not existing.ids:
        if adopted is not None:
            return Check(check_id, title, "fail", f"{adopt_key(key)} is set, but {region} has no {singleton.title}: "
                                                  "the import would fail", f"remove {adopt_key(key)}")
        if central:
            return Check(check_id, title, "warn",
                         f"governance.central lists {singleton.service}, but {region} has no {singleton.title}: "
                         "nothing provides the control",
                         f"enable it from the administrator account, or remove {singleton.service} from "
                         "governance.central")
        return Check(check_id, title, "pass", f"none in {region}: Aegis creates it")
    if central:
        return Check(check_id, title, "pass", f"{found}{managed_by}: provided centrally (governance.central)")
    if found_in_state(ctx, singleton.rtype):
        return Check(check_id, title, "pass", f"{found}: already in this environment's Terraform state")
    if singleton.own_name is not None and singleton.own_name(ctx) in existing.ids:
        return Check(check_id, title, "pass", f"{found}: the name this environment gives it")
    wanted: object = True if singleton.by_account else existing.ids[0]
    if adopted is not None and adopted == wanted:
        return Check(check_id, title, "pass", f"{found}: adopted ({adopt_key(key)}); the first apply imports it")
    if existing.administrator and singleton.service is not None:
        return Check(check_id, title, "fail",
                     f"{singleton.title} {found} exists{managed_by}: creating another fails",
                     f"leave it to its administrator: add {singleton.service} to governance.central "
                     f"(or adopt it: {adopt_key(key)}: {_yaml(wanted)})",
                     (("governance.central", [singleton.service]),))
    wrong = f"{adopt_key(key)} names {adopted}, but " if adopted is not None else ""
    return Check(check_id, title, "fail", f"{wrong}{singleton.title} {found} exists in {region}: creating another "
                                          "fails", f"adopt it: {adopt_key(key)}: {_yaml(wanted)}"
                 + (f" (or governance.central: [{singleton.service}] if an organisation manages it)"
                    if singleton.service else ""), ((adopt_key(key), wanted),))


def _yaml(value: object) -> str:
    return "true" if value is True else str(value)


def _find_and_judge(ctx: Context, singleton: Singleton, region: str) -> Check:
    return judge(ctx, singleton, region, singleton.find(ctx, region))


def singletons(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for singleton in SINGLETONS:
        for region in ctx.regions(singleton.dr and ctx.config.data.replication.enabled):
            key = singleton.key + ("_dr" if region != ctx.config.region else "")
            checks += attempt(f"singleton.{key}.{region}", f"No conflicting {singleton.title} in {region}",
                              partial(_find_and_judge, ctx, singleton, region))
    return checks


PROBES = [("singleton", "Account singletons", singletons)]
