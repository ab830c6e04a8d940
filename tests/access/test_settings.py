"""Validation of the `access:` section: each mistake is one ConfigError naming the key (and line)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from modules.config import load_env
from modules.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_ENVIRONMENTS = ROOT / "tests" / "fixtures" / "environments"
SECTION = re.compile(r"^access:\n(?:(?:[ #].*)?\n)*", re.M)


def env_file(name: str, access: str) -> str:
    """The project's own environment file with its `access:` section replaced, so the other
    sections stay valid as their pillars evolve."""
    text = (FIXTURE_ENVIRONMENTS / f"{name}.yaml").read_text()
    return SECTION.sub("", text).rstrip("\n") + "\n" + access


def load(tmp_path: Path, name: str, access: str):
    directory = tmp_path / "environments"
    directory.mkdir(parents=True, exist_ok=True)
    base = (FIXTURE_ENVIRONMENTS / "base.yaml").read_text()
    (directory / "base.yaml").write_text(SECTION.sub("", base))  # the defaults of the code, not of base.yaml
    (directory / f"{name}.yaml").write_text(env_file(name, access))
    return load_env(name, directory)


SAML = "arn:aws:iam::999900001111:saml-provider/corp"
OIDC = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"

# (case, env, access section, expected key path, expected message fragment)
INVALID = [
    ("prod-short-retention", "prod", "access:\n  logs:\n    retention_days: 90\n",
     "access.logs.retention_days", "prod must retain logs for at least 365 days"),
    ("retention-not-a-cloudwatch-value", "dev", "access:\n  logs:\n    retention_days: 100\n",
     "access.logs.retention_days", "CloudWatch Logs accepts only"),
    ("prod-without-insights", "prod", "access:\n  trail:\n    insights: false\n",
     "access.trail.insights", "prod must enable CloudTrail Insights"),
    ("prod-without-lambda-data-events", "prod", "access:\n  trail:\n    lambda_data_events: false\n",
     "access.trail.lambda_data_events", "prod must record Lambda data events"),
    ("two-trust-kinds", "dev",
     f"access:\n  trust:\n    identity_account_id: \"999900001111\"\n    saml_provider_arn: {SAML}\n",
     "access.trust", "set exactly one of"),
    ("no-trust-kind", "dev", "access:\n  trust: {}\n", "access.trust", "set exactly one of"),
    ("federated-humans-without-idp-mfa", "dev", f"access:\n  trust:\n    saml_provider_arn: {SAML}\n",
     "access.trust.idp_enforces_mfa", "no aws:MultiFactorAuthPresent"),
    ("federated-persona-without-idp-mfa", "dev",
     f"access:\n  personas:\n    ml-engineer:\n      trust:\n        saml_provider_arn: {SAML}\n",
     "access.personas.ml-engineer.trust.idp_enforces_mfa", "idp_enforces_mfa: true"),
    ("workload-trusting-an-account", "dev",
     "access:\n  personas:\n    app-invoker:\n      trust:\n        identity_account_id: \"999900001111\"\n",
     "access.personas.app-invoker.trust", "only by named principals"),
    ("workload-trusting-a-root", "dev",
     "access:\n  personas:\n    app-invoker:\n      trust:\n        principal_arns: [\"arn:aws:iam::999900001111:root\"]\n",
     "access.personas.app-invoker.trust.principal_arns", "admits every principal"),
    ("oidc-catch-all-subject", "dev",
     f"access:\n  personas:\n    app-invoker:\n      trust:\n        oidc:\n          provider_arn: {OIDC}\n"
     "          audience: sts.amazonaws.com\n          subjects: [\"*\"]\n",
     "access.personas.app-invoker.trust.oidc.subjects", "must not be only '*'"),
    ("unknown-persona", "dev", "access:\n  personas:\n    intern: {max_session_hours: 1}\n",
     "access.personas.intern..key", "'platform-admin', 'ml-engineer'"),
    ("session-too-long", "dev", "access:\n  personas:\n    platform-admin: {max_session_hours: 13}\n",
     "access.personas.platform-admin.max_session_hours", "less than or equal to 12"),
    ("bad-principal-arn", "dev",
     "access:\n  personas:\n    app-invoker:\n      trust:\n        principal_arns: [\"arn:aws:iam::1:role/x\"]\n",
     "access.personas.app-invoker.trust.principal_arns.0", "should match pattern"),
    ("scps-without-targets", "dev", "access:\n  organization:\n    manage_scps: true\n",
     "access.organization.target_ids", "at least one root, OU or account"),
    ("scp-unknown-region", "dev", "access:\n  organization:\n    allowed_regions: [eu-west-9]\n",
     "access.organization.allowed_regions.0", "is not an AWS region name"),
    ("bad-email-subscription", "dev",
     "access:\n  alerts:\n    subscriptions:\n      - {protocol: email, endpoint: not-an-address}\n",
     "access.alerts.subscriptions.0", "not a valid email endpoint"),
    ("http-subscription", "dev",
     "access:\n  alerts:\n    subscriptions:\n      - {protocol: http, endpoint: http://example.com}\n",
     "access.alerts.subscriptions.0.protocol", ""),
    ("datapoints-above-periods", "dev",
     "access:\n  model_alarms:\n    evaluation_periods: 2\n    datapoints_to_alarm: 3\n",
     "access.model_alarms", "datapoints_to_alarm must not exceed evaluation_periods"),
    ("prod-critical-only-findings", "prod", "access:\n  guardduty:\n    finding_min_severity: critical\n",
     "access.guardduty.finding_min_severity", "prod must alert on high-severity findings"),
    ("unknown-access-key", "dev", "access:\n  cloudtrail: {}\n", "access.cloudtrail", "unknown key"),
    # Trust modes: IAM Identity Center and SAML sessions never carry aws:MultiFactorAuthPresent.
    ("identity-center-without-idp-mfa", "dev",
     "access:\n  trust:\n    mode: identity-center\n    identity_account_id: \"999900001111\"\n",
     "access.trust.idp_enforces_mfa", "no aws:MultiFactorAuthPresent"),
    ("identity-center-without-account", "dev",
     f"access:\n  trust:\n    mode: identity-center\n    saml_provider_arn: {SAML}\n    idp_enforces_mfa: true\n",
     "access.trust", "mode identity-center needs identity_account_id"),
    ("saml-mode-without-provider", "dev",
     "access:\n  trust:\n    mode: saml\n    identity_account_id: \"999900001111\"\n",
     "access.trust", "mode saml needs saml_provider_arn"),
    ("unknown-trust-mode", "dev", "access:\n  trust:\n    mode: sso\n    identity_account_id: \"999900001111\"\n",
     "access.trust.mode", "'iam-mfa', 'identity-center' or 'saml'"),
    ("permission-set-outside-identity-center", "dev",
     "access:\n  personas:\n    ml-engineer: {permission_set: MlEngineers}\n",
     "access.personas.ml-engineer.permission_set", "only when the persona's trust mode is identity-center"),
    ("permission-set-on-a-workload", "dev",
     "access:\n  personas:\n    app-invoker: {permission_set: Apps}\n",
     "access.personas.app-invoker.permission_set", "human personas"),
    # Identity Center reaches personas by role chaining, which AWS caps at 1 hour.
    ("identity-center-session-over-an-hour", "dev",
     "access:\n  trust:\n    mode: identity-center\n    identity_account_id: \"999900001111\"\n"
     "    idp_enforces_mfa: true\n  personas:\n    data-scientist: {max_session_hours: 8}\n",
     "access.personas.data-scientist.max_session_hours", "role chaining, which AWS caps at 1 hour"),
    ("identity-center-persona-session-over-an-hour", "dev",
     "access:\n  personas:\n    ml-engineer:\n      max_session_hours: 2\n      trust:\n"
     "        mode: identity-center\n        identity_account_id: \"999900001111\"\n        idp_enforces_mfa: true\n",
     "access.personas.ml-engineer.max_session_hours", "cannot be reached with identity-center trust"),
    ("permission-set-name-too-long", "dev",
     "access:\n  trust:\n    mode: identity-center\n    identity_account_id: \"999900001111\"\n"
     "    idp_enforces_mfa: true\n  personas:\n    ml-engineer: {permission_set: " + "A" * 33 + "}\n",
     "access.personas.ml-engineer.permission_set", "should match pattern"),
]


@pytest.mark.parametrize("case, env, access, key, fragment", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_access_config_is_one_clear_error(tmp_path, case, env, access, key, fragment):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, env, access)
    error = info.value
    assert error.key_path.replace("[", ".").replace("]", "") == key, str(error)
    assert fragment in error.message, str(error)
    assert error.file == f"environments/{env}.yaml"


def test_problems_point_at_the_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "prod", "access:\n  logs:\n    retention_days: 180\n")
    lines = (tmp_path / "environments" / "prod.yaml").read_text().splitlines()
    assert lines[info.value.line - 1] == "    retention_days: 180"


def test_identity_center_session_error_points_at_the_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, "staging", "access:\n  trust:\n    mode: identity-center\n    identity_account_id: \"999900001111\"\n"
                                  "    idp_enforces_mfa: true\n  personas:\n    ml-engineer:\n      max_session_hours: 4\n")
    lines = (tmp_path / "environments" / "staging.yaml").read_text().splitlines()
    assert lines[info.value.line - 1] == "      max_session_hours: 4"


def test_session_lengths_follow_the_trust_mode(tmp_path):
    """Identity Center (role chaining): 1 hour for every human persona; SAML and IAM users keep the longer
    defaults and may set up to 12 hours."""
    chained = load(tmp_path / "ic", "dev", "access:\n  trust:\n    mode: identity-center\n"
                                           "    identity_account_id: \"999900001111\"\n    idp_enforces_mfa: true\n"
                                           "  personas:\n    platform-admin: {max_session_hours: 1}\n")
    assert {p: chained.access.session_hours(p) for p in ("platform-admin", "ml-engineer", "data-scientist",
                                                          "security-auditor")} == dict.fromkeys(
        ("platform-admin", "ml-engineer", "data-scientist", "security-auditor"), 1)
    direct = load(tmp_path / "saml", "dev", f"access:\n  trust:\n    saml_provider_arn: {SAML}\n"
                                            "    idp_enforces_mfa: true\n  personas:\n    data-scientist: {max_session_hours: 12}\n")
    assert direct.access.session_hours("data-scientist") == 12 and direct.access.session_hours("ml-engineer") == 4
    assert load(tmp_path / "iam", "dev", "").access.session_hours("data-scientist") == 8


def test_shipped_environments_give_identity_center_personas_one_hour_sessions():
    for env in ("dev", "staging", "prod"):
        access = load_env(env).access
        assert access.trust is not None and access.trust.effective_mode == "identity-center"
        for persona in ("platform-admin", "ml-engineer", "data-scientist", "security-auditor"):
            assert access.session_hours(persona) == 1, (env, persona)


def test_empty_access_section_is_valid_and_secure(tmp_path):
    for env in ("dev", "prod"):
        config = load(tmp_path / env, env, "")
        access = config.access
        assert access.logs.retention_days >= 365
        assert access.insights_enabled(config.tier) is (env == "prod")
        assert access.enabled_personas() == ["platform-admin", "ml-engineer", "data-scientist", "app-invoker",
                                             "security-auditor", "model-approver"]
        assert access.trust is None
        assert access.trust_of("ml-engineer", config.account_id, "unused").identity_account_id == config.account_id
        workload = f"arn:aws:iam::{config.account_id}:role/aegis-{env}-workload-*"
        assert access.trust_of("app-invoker", config.account_id, workload).principal_arns == [workload]
        assert not access.organization.manage_scps


def test_valid_federation_and_overrides(tmp_path):
    config = load(tmp_path, "dev", f"""\
access:
  trust:
    saml_provider_arn: {SAML}
    idp_enforces_mfa: true
  personas:
    data-scientist: {{enabled: false}}
    app-invoker:
      max_session_hours: 2
      trust:
        oidc:
          provider_arn: {OIDC}
          audience: sts.amazonaws.com
          subjects: ["repo:example/app:environment:dev"]
  organization:
    manage_scps: true
    management_account_id: "123456789012"
    target_ids: [ou-ab12-cdefgh34]
    allowed_regions: [us-east-1]
""")
    assert "data-scientist" not in config.access.enabled_personas()
    assert config.access.session_hours("app-invoker") == 2
    assert config.access.allowed_regions(config.region, config.dr_region) == ["eu-central-1", "eu-west-1", "us-east-1"]


@pytest.mark.parametrize("organization, key, fragment", [
    ("    manage_scps: true\n    target_ids: [ou-ab12-cdefgh34]\n",
     "access.organization.management_account_id", "manage_scps needs the organisation's management account"),
    ("    manage_scps: true\n    management_account_id: \"222233334444\"\n    target_ids: [\"222233334444\"]\n",
     "access.organization.target_ids", "SCPs do not apply to it"),
    ("    manage_scps: true\n    management_account_id: \"111122223333\"\n    target_ids: [ou-ab12-cdefgh34]\n",
     "access.organization.management_account_id", "is the organisation's management account: SCPs never apply"),
])
def test_scps_refuse_to_target_the_management_account(tmp_path, organization, key, fragment):
    """SCPs never apply to the organisation's management account: config names it and SCPs may not rely on it."""
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "dev", "access:\n  organization:\n" + organization)
    assert err.value.key_path == key and fragment in err.value.message
    assert err.value.file == "environments/dev.yaml" and err.value.line


def test_identity_center_mode_names_one_permission_set_per_persona_and_environment(tmp_path):
    config = load(tmp_path, "dev", """\
access:
  trust:
    mode: identity-center
    identity_account_id: "999900001111"
    idp_enforces_mfa: true
  personas:
    security-auditor: {permission_set: CorpAuditors}
""")
    access = config.access
    assert access.trust.effective_mode == "identity-center"
    assert access.permission_set("ml-engineer", config.project, config.name) == "AegisDevMlEngineer"
    assert access.permission_set("security-auditor", config.project, config.name) == "CorpAuditors"


def test_a_long_project_name_needs_explicit_permission_sets(tmp_path):
    directory = tmp_path / "environments"
    directory.mkdir()
    base = (FIXTURE_ENVIRONMENTS / "base.yaml").read_text().replace("project: aegis", "project: aegisplatform")
    (directory / "base.yaml").write_text(base)
    (directory / "staging.yaml").write_text((FIXTURE_ENVIRONMENTS / "staging.yaml").read_text())
    with pytest.raises(ConfigError) as info:
        load_env("staging", directory)
    assert info.value.key_path == "access.personas.platform-admin.permission_set", str(info.value)
    assert "exceeds the 32 characters" in info.value.message
