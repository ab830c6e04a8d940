"""Settings of the Access Control and Monitoring pillar (`access:` in an environment file).

Every key has a secure default, so an environment without an `access:` section is valid: persona
roles trusted by the environment's own account with MFA, one year of log retention, CloudTrail
Insights in prod, GuardDuty with every protection plan, alerts for high-severity findings.
"""
from __future__ import annotations

import re
from typing import Annotated, Iterator, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from modules.regions import AWS_REGIONS
from modules.schema_base import AccountId, Problem, Strict

PersonaName = Literal["platform-admin", "ml-engineer", "data-scientist", "app-invoker", "security-auditor",
                      "model-approver"]
PERSONAS: tuple[PersonaName, ...] = ("platform-admin", "ml-engineer", "data-scientist", "app-invoker", "security-auditor",
                                     "model-approver")
# Workload personas are assumed by software, not people: no MFA, only named principals.
WORKLOAD_PERSONAS = frozenset({"app-invoker"})
# Shortest sensible sessions by default; the break-glass role gets the shortest.
DEFAULT_SESSION_HOURS = {"platform-admin": 1, "ml-engineer": 4, "data-scientist": 8,
                         "app-invoker": 1, "security-auditor": 4, "model-approver": 2}
# Role chaining (a role session assuming another role) is capped at 1 hour (IAM user guide, "Roles terms
# and concepts": role chaining); identity-center trust reaches every human persona that way.
CHAINED_SESSION_HOURS = 1

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)
PROD_MIN_RETENTION_DAYS = 365
# GuardDuty severity bands (numeric lower bounds of each band).
FINDING_SEVERITY = {"low": 1.0, "medium": 4.0, "high": 7.0, "critical": 9.0}

# IAM roles or users (wildcards allowed): trust checks them through aws:PrincipalArn, which never
# holds an assumed-role session ARN.
PrincipalArn = Annotated[str, Field(
    pattern=r"^arn:aws:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/*?-]+)$", max_length=600)]
SamlProviderArn = Annotated[str, Field(pattern=r"^arn:aws:iam::[0-9]{12}:saml-provider/[A-Za-z0-9._-]+$")]
# IAM Identity Center permission set names (they name the AWSReservedSSO_<name>_<suffix> roles).
PermissionSetName = Annotated[str, Field(pattern=r"^[A-Za-z0-9+=,.@-]{1,32}$")]
# How people assume the human personas, and who checks their MFA:
# - iam-mfa: IAM principals (of identity_account_id, or principal_arns); the trust requires
#   aws:MultiFactorAuthPresent, which AWS sets only for sessions that used MFA;
# - identity-center: IAM Identity Center permission-set roles (AWSReservedSSO_*) of
#   identity_account_id. Identity Center sessions never carry the MFA key (MFA happens at its
#   sign-in), so the trust names the permission set and Identity Center must require MFA;
# - saml: a SAML identity provider (saml_provider_arn) that requires MFA.
TrustMode = Literal["iam-mfa", "identity-center", "saml"]
# The trust kinds each mode accepts.
MODE_KINDS: dict[str, tuple[str, ...]] = {
    "iam-mfa": ("identity_account_id", "principal_arns"),
    "identity-center": ("identity_account_id",),
    "saml": ("saml_provider_arn",),
}
OidcProviderArn = Annotated[str, Field(pattern=r"^arn:aws:iam::[0-9]{12}:oidc-provider/[A-Za-z0-9./_:-]+$")]


def _known_region(value: str) -> str:
    """An AWS region name (modules/regions.py)."""
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region name")
    return value


Region = Annotated[str, AfterValidator(_known_region)]
OrgTargetId = Annotated[str, Field(pattern=r"^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|[0-9]{12})$")]


class OidcTrust(Strict):
    provider_arn: OidcProviderArn
    audience: str = Field(min_length=1, max_length=255)
    # Subjects (`sub` claims) allowed to assume the role; wildcards allowed, never a bare "*".
    subjects: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(min_length=1)

    @field_validator("subjects")
    @classmethod
    def _no_catch_all(cls, subjects: list[str]) -> list[str]:
        if any(s.strip("*") == "" for s in subjects):
            raise ValueError("a subject must not be only '*': it would admit every identity of the provider")
        return subjects

    @property
    def provider_host(self) -> str:
        return self.provider_arn.split(":oidc-provider/", 1)[1]


class Trust(Strict):
    """Who may assume a persona role: exactly one of the four kinds, and the mode (see TrustMode)."""

    mode: TrustMode | None = None  # None: saml for saml_provider_arn, iam-mfa for the IAM kinds
    identity_account_id: AccountId | None = None
    saml_provider_arn: SamlProviderArn | None = None
    oidc: OidcTrust | None = None
    principal_arns: list[PrincipalArn] | None = Field(default=None, min_length=1)
    # SAML, OIDC and Identity Center sessions carry no aws:MultiFactorAuthPresent: a human role
    # trusted that way is accepted only when the identity provider is declared to enforce MFA.
    idp_enforces_mfa: bool = False

    @model_validator(mode="after")
    def _exactly_one(self) -> "Trust":
        kinds = [k for k in ("identity_account_id", "saml_provider_arn", "oidc", "principal_arns")
                 if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("set exactly one of identity_account_id, saml_provider_arn, oidc, principal_arns"
                             + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.mode is not None and kinds[0] not in MODE_KINDS[self.mode]:
            raise ValueError(f"mode {self.mode} needs {' or '.join(MODE_KINDS[self.mode])} (got {kinds[0]})")
        return self

    @property
    def effective_mode(self) -> str:
        """The mode, or the one the kind implies (`oidc` for web identity federation)."""
        if self.mode is not None:
            return self.mode
        return {"saml_provider_arn": "saml", "oidc": "oidc"}.get(self.kind, "iam-mfa")

    @property
    def idp_mfa(self) -> bool:
        """MFA is the identity provider's: the sessions never carry aws:MultiFactorAuthPresent."""
        return self.effective_mode != "iam-mfa"

    @property
    def kind(self) -> str:
        for k in ("identity_account_id", "saml_provider_arn", "oidc", "principal_arns"):
            if getattr(self, k) is not None:
                return k
        raise AssertionError("unreachable")  # pragma: no cover


class PersonaSettings(Strict):
    enabled: bool = True
    max_session_hours: int | None = Field(default=None, ge=1, le=12)
    trust: Trust | None = None  # None: the pillar's default trust (or, for workloads, see AccessSettings)
    # identity-center trust: the permission set whose users may assume the persona. None: the
    # convention `<Project><Env><Persona>` in CamelCase (`AegisDevMlEngineer`), one per environment,
    # so a permission set for dev never opens prod.
    permission_set: PermissionSetName | None = None


class LogSettings(Strict):
    retention_days: int = 365

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_value(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return days


class TrailSettings(Strict):
    insights: bool | None = None  # None: on in prod, off elsewhere
    lambda_data_events: bool = True


class Subscription(Strict):
    protocol: Literal["email", "https", "sqs", "lambda"]
    endpoint: str = Field(min_length=3, max_length=512)

    @model_validator(mode="after")
    def _endpoint_fits_protocol(self) -> "Subscription":
        patterns = {"email": r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$", "https": r"^https://\S+$",
                    "sqs": r"^arn:aws:sqs:[a-z0-9-]+:[0-9]{12}:\S+$",
                    "lambda": r"^arn:aws:lambda:[a-z0-9-]+:[0-9]{12}:function:\S+$"}
        if not re.match(patterns[self.protocol], self.endpoint):
            raise ValueError(f"endpoint is not a valid {self.protocol} endpoint")
        return self


class AlertSettings(Strict):
    subscriptions: list[Subscription] = Field(default_factory=list)


class ModelAlarmSettings(Strict):
    period_seconds: Literal[60, 300] = 60
    evaluation_periods: int = Field(default=5, ge=1, le=30)
    datapoints_to_alarm: int = Field(default=3, ge=1, le=30)
    latency_p99_ms: int = Field(default=1000, ge=1, le=600_000)
    error_rate_5xx_percent: float = Field(default=1.0, gt=0, le=100)
    error_rate_4xx_percent: float = Field(default=5.0, gt=0, le=100)
    anomaly_band_width: float = Field(default=3.0, gt=0, le=10)  # standard deviations
    lambda_errors_percent: float = Field(default=1.0, gt=0, le=100)
    lambda_duration_p99_ms: int = Field(default=3000, ge=1, le=900_000)
    lambda_concurrency_percent: float = Field(default=80.0, gt=0, le=100)  # of reserved concurrency
    lambda_reserved_concurrency: int = Field(default=100, ge=1, le=10_000)  # used when the model sets none
    alb_5xx_count: int = Field(default=5, ge=1)
    target_response_time_p99_s: float = Field(default=2.0, gt=0, le=600)

    @model_validator(mode="after")
    def _datapoints(self) -> "ModelAlarmSettings":
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError("datapoints_to_alarm must not exceed evaluation_periods")
        return self


class GuardDutySettings(Strict):
    finding_min_severity: Literal["low", "medium", "high", "critical"] = "high"
    publishing_frequency: Literal["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"] = "FIFTEEN_MINUTES"
    # Runtime monitoring is not offered in every region; turn it off where GuardDuty rejects it.
    runtime_monitoring: bool = True


class OrganizationSettings(Strict):
    """Service control policies. The environment's account must be the organisation's management
    account or a delegated administrator for Organizations policies. SCPs never apply to the management
    account itself, so config names it (`management_account_id`) and the SCPs may not target it."""

    manage_scps: bool = False
    management_account_id: AccountId | None = None  # required with manage_scps
    target_ids: list[OrgTargetId] = Field(default_factory=list)  # root, OUs or accounts the SCPs attach to
    allowed_regions: list[Region] = Field(default_factory=list)  # empty: the env's region and DR region

    def problems(self, env) -> Iterator[Problem]:
        if not self.manage_scps:
            return
        management = self.management_account_id
        if management is None:
            yield "organization.management_account_id", (
                "manage_scps needs the organisation's management account: SCPs never apply to it, so Aegis must "
                "know it to refuse SCPs that would protect nothing")
            return
        if env.account_id == management:
            yield "organization.management_account_id", (
                f"the environment's account {management} is the organisation's management account: SCPs never "
                "apply to it, so these SCPs could not protect this environment; run it in a member account")
        if management in self.target_ids:
            yield "organization.target_ids", (
                f"{management} is the organisation's management account: SCPs do not apply to it (attach them to "
                "the member accounts or OUs instead)")


class AccessSettings(Strict):
    trust: Trust | None = None  # default trust of the human personas; None: the env's own account
    personas: dict[PersonaName, PersonaSettings] = Field(default_factory=dict)
    logs: LogSettings = LogSettings()
    trail: TrailSettings = TrailSettings()
    alerts: AlertSettings = AlertSettings()
    model_alarms: ModelAlarmSettings = ModelAlarmSettings()
    guardduty: GuardDutySettings = GuardDutySettings()
    organization: OrganizationSettings = OrganizationSettings()

    def persona(self, name: PersonaName) -> PersonaSettings:
        return self.personas.get(name, PersonaSettings())

    def enabled_personas(self) -> list[PersonaName]:
        return [p for p in PERSONAS if self.persona(p).enabled]

    def session_hours(self, name: PersonaName) -> int:
        """The role's maximum session. Identity Center reaches a persona from the permission set's role
        session, which is role chaining: AWS caps it at 1 hour (and refuses a longer DurationSeconds),
        so the longer defaults apply only to the other trust modes."""
        own = self.persona(name).max_session_hours
        if own is not None:
            return own
        return CHAINED_SESSION_HOURS if self._chained(name) else DEFAULT_SESSION_HOURS[name]

    def _chained(self, name: PersonaName) -> bool:
        """Whether people reach this persona by role chaining (identity-center trust)."""
        if name in WORKLOAD_PERSONAS:
            return False
        trust = self.persona(name).trust or self.trust
        return trust is not None and trust.effective_mode == "identity-center"

    def trust_of(self, name: PersonaName, account_id: str, workload_pattern: str) -> Trust:
        """Effective trust of a persona. Workloads never fall back to an account-wide trust: without
        configured principals they trust only this account's `<prefix>-workload-*` roles."""
        if name in WORKLOAD_PERSONAS:
            return self.persona(name).trust or Trust(principal_arns=[workload_pattern])
        return self._human_trust(name, account_id)

    def _human_trust(self, name: PersonaName, account_id: str) -> Trust:
        return self.persona(name).trust or self.trust or Trust(identity_account_id=account_id)

    def permission_set(self, name: PersonaName, project: str, env: str) -> str:
        """The IAM Identity Center permission set of a human persona (identity-center trust)."""
        own = self.persona(name).permission_set
        return own or "".join(part.capitalize() for part in f"{project}-{env}-{name}".split("-"))

    def insights_enabled(self, tier: str) -> bool:
        return self.trail.insights if self.trail.insights is not None else tier == "prod"

    def allowed_regions(self, region: str, dr_region: str) -> list[str]:
        return sorted(set(self.organization.allowed_regions) | {region, dr_region})

    def _permission_set_problems(self, env) -> Iterator[Problem]:
        for name, persona in self.personas.items():
            if persona.permission_set is None:
                continue
            if name in WORKLOAD_PERSONAS:
                yield f"personas.{name}.permission_set", "applies to human personas (identity-center trust) only"
            elif self._human_trust(name, env.account_id).effective_mode != "identity-center":
                yield f"personas.{name}.permission_set", "applies only when the persona's trust mode is identity-center"
        for name in self.enabled_personas():
            if name in WORKLOAD_PERSONAS or self._human_trust(name, env.account_id).effective_mode != "identity-center":
                continue
            derived = self.permission_set(name, env.project, env.name)
            if len(derived) > 32:
                yield f"personas.{name}.permission_set", (
                    f"the conventional name '{derived}' exceeds the 32 characters of a permission set name: set one")

    def _session_problems(self) -> Iterator[Problem]:
        for name, persona in self.personas.items():
            hours = persona.max_session_hours
            if hours is not None and hours > CHAINED_SESSION_HOURS and self._chained(name):
                yield f"personas.{name}.max_session_hours", (
                    f"{hours} hours cannot be reached with identity-center trust: a persona assumed from an "
                    f"Identity Center session is role chaining, which AWS caps at {CHAINED_SESSION_HOURS} hour "
                    "(set 1, or use the saml trust mode for longer sessions)")

    def problems(self, env) -> Iterator[Problem]:
        if env.tier == "prod":
            if self.logs.retention_days < PROD_MIN_RETENTION_DAYS:
                yield "logs.retention_days", f"prod must retain logs for at least {PROD_MIN_RETENTION_DAYS} days"
            if self.trail.insights is False:
                yield "trail.insights", "prod must enable CloudTrail Insights"
            if not self.trail.lambda_data_events:
                yield "trail.lambda_data_events", "prod must record Lambda data events"
        for name, persona in self.personas.items():
            trust = persona.trust
            if name in WORKLOAD_PERSONAS:
                if trust is not None and trust.kind not in ("principal_arns", "oidc"):
                    yield f"personas.{name}.trust", (
                        "a workload role is assumable only by named principals (principal_arns) or an OIDC subject")
                if trust is not None and trust.principal_arns and any(
                        a.endswith(":root") or a.endswith("/*") for a in trust.principal_arns):
                    yield f"personas.{name}.trust.principal_arns", (
                        "name the workload roles; an account root or a bare '/*' admits every principal")
                continue
            if trust is not None and trust.idp_mfa and not trust.idp_enforces_mfa:
                yield f"personas.{name}.trust.idp_enforces_mfa", (
                    "a human role trusted through SAML/OIDC/Identity Center needs idp_enforces_mfa: true "
                    "(those sessions carry no aws:MultiFactorAuthPresent)")
        if self.trust is not None and self.trust.idp_mfa and not self.trust.idp_enforces_mfa:
            yield "trust.idp_enforces_mfa", ("human roles trusted through SAML/OIDC/Identity Center need "
                                             "idp_enforces_mfa: true (those sessions carry no aws:MultiFactorAuthPresent)")
        yield from self._permission_set_problems(env)
        yield from self._session_problems()
        if self.trust is not None and self.trust.principal_arns and any(
                a.endswith(":root") for a in self.trust.principal_arns):
            yield "trust.principal_arns", "use identity_account_id for a whole account"
        org = self.organization
        if org.manage_scps and not org.target_ids:
            yield "organization.target_ids", "manage_scps needs at least one root, OU or account to attach to"
        yield from org.problems(env)
        if env.tier == "prod" and self.guardduty.finding_min_severity in ("critical",):
            yield "guardduty.finding_min_severity", "prod must alert on high-severity findings too (use high or lower)"
