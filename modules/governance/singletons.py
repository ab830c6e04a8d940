"""Account singletons that already exist: adopt them (Terraform `import` blocks) or leave them to a central owner.

Real accounts are rarely empty: a GuardDuty detector, Security Hub, an AWS Config recorder and delivery
channel, Macie, Inspector or an Access Analyzer analyzer may already be on (enabled by hand, by Control Tower
or by a delegated administrator). AWS allows one of each per account and region, so creating another fails
the first apply. Two ways out, both declared under `governance:` (`python main.py preflight` prints the lines):

- `adopt:` names the existing resource; the stack emits the resource as usual plus a Terraform `import`
  block (Terraform >= 1.5), so the first apply takes it under management (and sets it as the stack says)
  instead of failing. Resources whose name cannot change in place (recorder, delivery channel, analyzer)
  keep the adopted name.
- `central:` lists services an organisation manages for the account (a delegated administrator, Control
  Tower): the stack creates nothing for them, and the gate reports the control as provided centrally.
"""
from __future__ import annotations

from typing import Annotated, Iterator, Literal

from pydantic import Field

from modules.schema_base import Problem, Strict

# Services an organisation can manage for its member accounts.
CentralService = Literal["guardduty", "securityhub", "config", "macie", "inspector"]
CENTRAL_SERVICES: tuple[CentralService, ...] = ("guardduty", "securityhub", "config", "macie", "inspector")

DetectorId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]  # GuardDuty detector IDs: 32 hex characters
# AWS Config recorder and delivery channel names: 1-256 characters, no spaces.
ConfigName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@/-]{1,256}$")]
AnalyzerName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,254}$")]


class AdoptSettings(Strict):
    """The existing singletons to import (None: Aegis creates its own). Account-wide ones are imported by the
    environment's account ID, so they are switched on with `true`."""

    guardduty_detector: DetectorId | None = None
    guardduty_detector_dr: DetectorId | None = None  # the DR region's detector (with data.replication)
    securityhub_account: Literal[True] | None = None
    macie_account: Literal[True] | None = None
    inspector: Literal[True] | None = None
    config_recorder: ConfigName | None = None
    config_delivery_channel: ConfigName | None = None
    access_analyzer: AnalyzerName | None = None  # the account's external-access analyzer (one per region)
    # RDS enhanced monitoring's `RDSOSMetrics` log group (one per region), owned by `<env>-platform`'s data store.
    rds_os_metrics_log_group: Literal[True] | None = None


# Which central service each adoptable singleton belongs to (adopting one of a central service is a contradiction).
SERVICE_OF = {"guardduty_detector": "guardduty", "guardduty_detector_dr": "guardduty",
              "securityhub_account": "securityhub", "macie_account": "macie", "inspector": "inspector",
              "config_recorder": "config", "config_delivery_channel": "config", "access_analyzer": None,
              "rds_os_metrics_log_group": None}


def adopted(adopt: AdoptSettings) -> dict[str, object]:
    return {key: value for key, value in adopt if value is not None}


def singleton_problems(adopt: AdoptSettings, central: list[str], env) -> Iterator[Problem]:
    if len(set(central)) != len(central):
        yield "central", "services must not repeat"
    for key in adopted(adopt):
        if SERVICE_OF[key] in central:
            yield f"adopt.{key}", f"{SERVICE_OF[key]} is listed in central: adopt it or leave it to its central owner"
    if adopt.guardduty_detector_dr is not None and not env.data.replication.enabled:
        yield "adopt.guardduty_detector_dr", "there is no DR-region detector without data.replication.enabled"
    training = env.platform.training
    if adopt.rds_os_metrics_log_group and not (training.enabled and training.data_store.enabled):
        yield "adopt.rds_os_metrics_log_group", ("only the training data store uses RDSOSMetrics: enable "
                                                 "platform.training.data_store or remove this key")


def import_existing(resource, import_id: object, provider=None) -> None:
    """Emit a Terraform `import` block for `resource` (None: nothing to adopt). `provider`: the resource's own
    provider when it is not the default one (the DR region's), so the import reads the right region."""
    if import_id is not None:
        resource.import_from(str(import_id), provider)
