"""Settings of the Continuous Security Enhancement pillar (`governance:` in an environment file).

Every value has bounds; rules that need the whole environment are in `problems()`. Values left
out follow the tier: prod gets the strict choice (compliance-mode vault lock, copies to the DR
region, unused-access analyzer), dev and staging the cheaper one. The stack reads the resolved
values through the `*_for(tier)` / `effective_*` helpers, never the raw optional fields.
"""
from __future__ import annotations

from typing import Annotated, Iterator, Literal

from pydantic import AfterValidator, Field

from modules.governance.singletons import AdoptSettings, CentralService, singleton_problems
from modules.regions import AWS_REGIONS
from modules.schema_base import Problem, Strict

Frequency = Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"]
Weekday = Literal["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]

# Monthly budget when an environment does not set one (USD).
TIER_BUDGET_USD = {"dev": 500, "staging": 2000, "prod": 10000}
# Prod keeps at least five weeks of backups, so a monthly restore test always has a point to use.
PROD_MIN_BACKUP_RETENTION_DAYS = 35
# AWS Budgets accepts at most five notifications per budget.
MAX_BUDGET_NOTIFICATIONS = 5


def _known_region(value: str) -> str:
    """An AWS region name (modules/regions.py)."""
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region name")
    return value


Region = Annotated[str, AfterValidator(_known_region)]


class RecorderSettings(Strict):
    # DAILY records each resource at most once a day: cheaper, but drift shows up to a day late.
    recording_frequency: Literal["CONTINUOUS", "DAILY"] = "CONTINUOUS"
    snapshot_frequency: Frequency = "TwentyFour_Hours"
    # Global resources (IAM) are recorded in one region only, or every region records them again.
    # None: the environment's own region is the home region.
    global_resources_region: Region | None = None
    # AWS Config records through its service-linked role. Set false when the account already has
    # AWSServiceRoleForConfig (created by the console or another tool): the role is then referenced.
    create_service_linked_role: bool = True

    def home_region(self, env_region: str) -> str:
        return self.global_resources_region or env_region


class RulesSettings(Strict):
    # How often periodic managed rules (account-level checks) run.
    periodic_frequency: Frequency = "TwentyFour_Hours"


class MacieSettings(Strict):
    schedule: Literal["daily", "weekly", "monthly"] = "weekly"
    weekday: Weekday = "SUNDAY"
    # Macie runs a monthly job on the last day of shorter months.
    day_of_month: int = Field(default=1, ge=1, le=31)
    sampling_percentage: int = Field(default=100, ge=1, le=100)
    finding_publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = "FIFTEEN_MINUTES"


class AccessAnalyzerSettings(Strict):
    # None: an unused-access analyzer in prod only (it is billed per IAM role and user analysed).
    unused_access: bool | None = None
    unused_access_age_days: int = Field(default=90, ge=1, le=365)

    def unused_access_for(self, tier: str) -> bool:
        return self.unused_access if self.unused_access is not None else tier == "prod"


class ShieldSettings(Strict):
    # Shield Advanced costs about 3,000 USD a month with a one-year commitment: off unless asked for.
    enabled: bool = False
    protect_load_balancers: bool = True  # internet-facing ALBs of this environment
    protect_cloudfront: bool = True      # CloudFront distributions of this environment


class SecurityContactSettings(Strict):
    """The account's security alternate contact, whom AWS notifies about security issues in the account
    (AWS Account Management; the limits and patterns are the PutAlternateContact API's)."""
    name: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=50)
    email: str = Field(max_length=254, pattern=r"^[\w+=.#|!&-]+@[\w.-]+\.\w+$")
    phone: str = Field(min_length=1, max_length=25, pattern=r"^[\s0-9()+-]+$")


class BudgetSettings(Strict):
    monthly_limit_usd: int | None = Field(default=None, ge=1, le=10_000_000)
    actual_alert_percents: list[Annotated[int, Field(ge=1, le=1000)]] = Field(default_factory=lambda: [80, 100])
    forecast_alert_percent: int = Field(default=100, ge=1, le=1000)

    def limit_for(self, tier: str) -> int:
        return self.monthly_limit_usd if self.monthly_limit_usd is not None else TIER_BUDGET_USD[tier]


class CostAnomalySettings(Strict):
    # An alert fires for an anomaly whose total cost impact reaches this amount (USD).
    threshold_usd: int = Field(default=100, ge=1, le=1_000_000)
    # AWS allows one AWS-services (DIMENSIONAL SERVICE) monitor per account, and new accounts may already
    # have one: set false and name it in monitor_arn to alert on that monitor instead of creating one.
    service_monitor: bool = True
    monitor_arn: str | None = Field(default=None, pattern=r"^arn:aws:ce::[0-9]{12}:anomalymonitor/[A-Za-z0-9-]+$")

    def problems(self, env) -> Iterator[Problem]:
        if self.service_monitor and self.monitor_arn is not None:
            yield "monitor_arn", "with service_monitor: true Aegis creates the monitor; set service_monitor: false to use this one"
        if not self.service_monitor and self.monitor_arn is None:
            yield "monitor_arn", ("service_monitor is false: name the account's existing AWS-services monitor here, "
                                  "or anomalies would alert nobody")
        if self.monitor_arn is not None and self.monitor_arn.split(":")[4] != env.account_id:
            yield "monitor_arn", f"the monitor must be in the environment's account ({env.account_id})"


class VaultLockSettings(Strict):
    # None: compliance in prod, governance in dev and staging.
    mode: Literal["governance", "compliance"] | None = None
    # Compliance only: days during which the lock can still be changed; after that it is immutable.
    changeable_for_days: int = Field(default=3, ge=3, le=36500)
    min_retention_days: int = Field(default=1, ge=1, le=36500)
    max_retention_days: int = Field(default=3650, ge=1, le=36500)

    def mode_for(self, tier: str) -> str:
        return self.mode or ("compliance" if tier == "prod" else "governance")


# AWS Config rules that report every EC2 instance or EBS volume outside a backup plan, and the frameworks whose
# conformance packs deploy one (written out so validation never parses the rule lists: every run validates;
# tests/governance/test_pack_coverage.py holds it to the rule lists).
FLEET_BACKUP_RULES = ("EBS_IN_BACKUP_PLAN", "EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
                      "EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN")
FLEET_BACKUP_FRAMEWORKS = ("hipaa", "pci-dss")


class BackupSettings(Strict):
    # AWS Backup cron: six fields, in UTC. Default: 03:00 every day.
    schedule: str = Field(default="cron(0 3 * * ? *)", pattern=r"^cron\([0-9*?,/LW#A-Z -]{9,100}\)$")
    start_window_minutes: int = Field(default=60, ge=60, le=1440)
    completion_window_minutes: int = Field(default=480, ge=120, le=10080)
    retention_days: int = Field(default=35, ge=1, le=36500)
    # None: prod copies every recovery point to the DR region.
    copy_to_dr: bool | None = None
    dr_retention_days: int | None = Field(default=None, ge=1, le=36500)  # None: same as retention_days
    vault_lock: VaultLockSettings = VaultLockSettings()
    # The GPU fleets' instances and volumes (daily AMIs with EBS snapshots, kept retention_days in the home region,
    # never copied to the DR region). None: prod backs them up. The instances are stateless, so this buys evidence
    # and forensics rather than recovery: the PCI DSS and HIPAA packs require every instance and volume in a plan.
    gpu_fleets: bool | None = None

    def backs_up_fleets(self, tier: str) -> bool:
        return self.gpu_fleets if self.gpu_fleets is not None else tier == "prod"

    def copies_to_dr(self, tier: str) -> bool:
        return self.copy_to_dr if self.copy_to_dr is not None else tier == "prod"

    def dr_copy_required(self, tier: str) -> bool:
        """The DR copy is on and only replication can satisfy it: the tier's default, or prod (which refuses
        copy_to_dr: false)."""
        return self.copies_to_dr(tier) and (self.copy_to_dr is None or tier == "prod")

    @property
    def effective_dr_retention_days(self) -> int:
        return self.dr_retention_days or self.retention_days


class GovernanceSettings(Strict):
    recorder: RecorderSettings = RecorderSettings()
    rules: RulesSettings = RulesSettings()
    macie: MacieSettings = MacieSettings()
    access_analyzer: AccessAnalyzerSettings = AccessAnalyzerSettings()
    shield: ShieldSettings = ShieldSettings()
    # Required where the environment lists pci-dss: its pack checks that the account has one.
    security_contact: SecurityContactSettings | None = None
    budget: BudgetSettings = BudgetSettings()
    cost_anomaly: CostAnomalySettings = CostAnomalySettings()
    backup: BackupSettings = BackupSettings()
    # Existing account singletons to import, and services an organisation manages centrally (singletons.py).
    adopt: AdoptSettings = AdoptSettings()
    central: list[CentralService] = Field(default_factory=list)

    def is_central(self, service: str) -> bool:
        return service in self.central

    def problems(self, env) -> Iterator[Problem]:
        prod = env.tier == "prod"
        yield from singleton_problems(self.adopt, list(self.central), env)
        yield from self._recorder_problems(prod)
        yield from self._macie_problems(prod)
        if prod and self.access_analyzer.unused_access is False:
            yield "access_analyzer.unused_access", "prod must run the unused-access analyzer"
        if self.shield.enabled and not (self.shield.protect_load_balancers or self.shield.protect_cloudfront):
            yield "shield.enabled", "Shield Advanced is enabled but protects nothing (both protect_* are false)"
        if "pci-dss" in env.compliance and self.security_contact is None:
            yield "security_contact", ("the pci-dss conformance pack checks the account's security contact: "
                                       "name the person or team AWS should notify")
        yield from self._budget_problems(env)
        for path, message in self.cost_anomaly.problems(env):
            yield f"cost_anomaly.{path}", message
        yield from self._backup_problems(env, prod)

    def _recorder_problems(self, prod: bool) -> Iterator[Problem]:
        if prod and self.recorder.recording_frequency != "CONTINUOUS":
            yield "recorder.recording_frequency", "prod must record configuration changes continuously"

    def _macie_problems(self, prod: bool) -> Iterator[Problem]:
        macie = self.macie
        given = macie.model_fields_set
        if "weekday" in given and macie.schedule != "weekly":
            yield "macie.weekday", f"weekday applies to a weekly schedule, not '{macie.schedule}'"
        if "day_of_month" in given and macie.schedule != "monthly":
            yield "macie.day_of_month", f"day_of_month applies to a monthly schedule, not '{macie.schedule}'"
        if prod and macie.sampling_percentage != 100:
            yield "macie.sampling_percentage", "prod must classify every object (100)"

    def _fleet_backup_problems(self, env) -> Iterator[Problem]:
        packs = _packs_judging_fleet_backups(env)
        if packs and not self.backup.backs_up_fleets(env.tier):
            yield "backup.gpu_fleets", (f"the {packs} conformance pack judges every EC2 instance and EBS volume "
                                        "against backup plans, the GPU fleets' too: set gpu_fleets: true")

    def _budget_problems(self, env) -> Iterator[Problem]:
        budget = self.budget
        percents = budget.actual_alert_percents
        if not percents:
            yield "budget.actual_alert_percents", "needs at least one alert on actual spend"
        elif percents != sorted(set(percents)):
            yield "budget.actual_alert_percents", "must be ascending without repeats"
        elif min(percents) > 100:
            yield "budget.actual_alert_percents", "needs an alert at or below 100 % so spend is flagged before the limit"
        if len(percents) + 1 > MAX_BUDGET_NOTIFICATIONS:
            yield "budget.actual_alert_percents", (
                f"AWS Budgets allows {MAX_BUDGET_NOTIFICATIONS} notifications per budget "
                f"({len(percents)} actual + 1 forecast)")
        limit = budget.limit_for(env.tier)
        if self.cost_anomaly.threshold_usd > limit:
            yield "cost_anomaly.threshold_usd", (
                f"{self.cost_anomaly.threshold_usd} USD is above the monthly budget ({limit} USD): no anomaly would alert first")

    def _backup_problems(self, env, prod: bool) -> Iterator[Problem]:
        backup, lock = self.backup, self.backup.vault_lock
        if prod and lock.mode == "governance":
            yield "backup.vault_lock.mode", "prod must lock the backup vault in compliance mode"
        if prod and backup.copy_to_dr is False:
            yield "backup.copy_to_dr", "prod must copy backups to the DR region"
        if prod and backup.retention_days < PROD_MIN_BACKUP_RETENTION_DAYS:
            yield "backup.retention_days", f"prod must keep backups at least {PROD_MIN_BACKUP_RETENTION_DAYS} days"
        if backup.copies_to_dr(env.tier):
            if env.dr_region == env.region:
                yield "backup.copy_to_dr", f"copying to the DR region needs a dr_region different from {env.region}"
            elif not env.data.replication.enabled and not backup.dr_copy_required(env.tier):
                # The DR copy vault is encrypted with the DR audit key that `<env>-data` creates with replication.
                # (When the tier requires the copy, data.replication.enabled reports it: the key to set.)
                yield "backup.copy_to_dr", ("copying to the DR region needs data.replication.enabled: true (it creates "
                                            "the DR keys), or set copy_to_dr: false")
        yield from self._fleet_backup_problems(env)
        if backup.completion_window_minutes < backup.start_window_minutes + 60:
            yield "backup.completion_window_minutes", "must be at least 60 minutes longer than start_window_minutes"
        if lock.min_retention_days > lock.max_retention_days:
            yield "backup.vault_lock.min_retention_days", "must not exceed max_retention_days"
            return
        # The vault lock rejects recovery points whose retention is outside its range: the job would fail.
        for key, days in (("retention_days", backup.retention_days),
                          ("dr_retention_days", backup.effective_dr_retention_days)):
            if key == "dr_retention_days" and not backup.copies_to_dr(env.tier):
                continue
            if not lock.min_retention_days <= days <= lock.max_retention_days:
                yield f"backup.{key}", (f"{days} days is outside the vault lock range "
                                        f"{lock.min_retention_days}–{lock.max_retention_days} days")

def _packs_judging_fleet_backups(env) -> str:
    """The listed frameworks whose conformance pack judges EC2 instances or EBS volumes against backup plans,
    where the environment has a GPU fleet; empty otherwise."""
    if not any(m.serving == "ec2" for m in env.platform.models):
        return ""
    return ", ".join(f for f in sorted(env.compliance) if f in FLEET_BACKUP_FRAMEWORKS)
