"""The `governance:` section is validated: bounds on every value, and cross-field rules that name
the key path and the line (via modules.config.load_env on a temporary environments folder)."""
from __future__ import annotations

import pytest

from modules.config import load_env
from modules.errors import ConfigError
from tests.governance.conftest import environments_with

# (case id, env, governance patch, key path, message fragment)
INVALID = [
    ("prod-governance-vault-lock", "prod", {"backup": {"vault_lock": {"mode": "governance"}}},
     "governance.backup.vault_lock.mode", "compliance mode"),
    ("prod-no-dr-copy", "prod", {"backup": {"copy_to_dr": False}}, "governance.backup.copy_to_dr", "must copy"),
    ("prod-short-retention", "prod", {"backup": {"retention_days": 14, "dr_retention_days": 35}},
     "governance.backup.retention_days", "at least 35 days"),
    ("retention-outside-lock", "dev", {"backup": {"retention_days": 40}},
     "governance.backup.retention_days", "outside the vault lock range 1–35"),
    ("dr-retention-outside-lock", "prod", {"backup": {"dr_retention_days": 20}},
     "governance.backup.dr_retention_days", "outside the vault lock range"),
    ("lock-min-above-max", "staging", {"backup": {"vault_lock": {"min_retention_days": 100}}},
     "governance.backup.vault_lock.min_retention_days", "must not exceed"),
    ("dr-copy-without-replication", "dev", {"backup": {"copy_to_dr": True}},
     "governance.backup.copy_to_dr", "needs data.replication.enabled"),
    ("completion-window-too-short", "dev", {"backup": {"start_window_minutes": 120, "completion_window_minutes": 150}},
     "governance.backup.completion_window_minutes", "60 minutes longer"),
    ("changeable-days-below-aws-minimum", "prod", {"backup": {"vault_lock": {"changeable_for_days": 2}}},
     "governance.backup.vault_lock.changeable_for_days", "greater than or equal to 3"),
    ("bad-cron", "dev", {"backup": {"schedule": "every day at 3"}}, "governance.backup.schedule", "should match pattern"),
    ("budget-zero", "dev", {"budget": {"monthly_limit_usd": 0}}, "governance.budget.monthly_limit_usd",
     "greater than or equal to 1"),
    ("budget-percents-descending", "dev", {"budget": {"actual_alert_percents": [100, 80]}},
     "governance.budget.actual_alert_percents", "ascending"),
    ("budget-alerts-only-after-overspend", "dev", {"budget": {"actual_alert_percents": [120, 150]}},
     "governance.budget.actual_alert_percents", "at or below 100"),
    ("budget-too-many-notifications", "dev", {"budget": {"actual_alert_percents": [20, 40, 60, 80, 100]}},
     "governance.budget.actual_alert_percents", "5 notifications per budget"),
    ("anomaly-above-budget", "dev", {"cost_anomaly": {"threshold_usd": 600}}, "governance.cost_anomaly.threshold_usd",
     "above the monthly budget (500 USD)"),
    ("macie-weekday-with-daily", "dev", {"macie": {"schedule": "daily", "weekday": "MONDAY"}},
     "governance.macie.weekday", "weekly schedule"),
    ("prod-macie-sampling", "prod", {"macie": {"sampling_percentage": 50}}, "governance.macie.sampling_percentage",
     "every object"),
    ("macie-sampling-zero", "dev", {"macie": {"sampling_percentage": 0}}, "governance.macie.sampling_percentage",
     "greater than or equal to 1"),
    ("prod-daily-recording", "prod", {"recorder": {"recording_frequency": "DAILY"}},
     "governance.recorder.recording_frequency", "continuously"),
    ("bad-home-region", "dev", {"recorder": {"global_resources_region": "eu-west-9"}},
     "governance.recorder.global_resources_region", "not an AWS region"),
    ("prod-without-unused-access", "prod", {"access_analyzer": {"unused_access": False}},
     "governance.access_analyzer.unused_access", "unused-access analyzer"),
    ("unused-access-age-too-long", "prod", {"access_analyzer": {"unused_access_age_days": 400}},
     "governance.access_analyzer.unused_access_age_days", "less than or equal to 365"),
    ("shield-protects-nothing", "dev", {"shield": {"enabled": True, "protect_load_balancers": False,
                                                   "protect_cloudfront": False}},
     "governance.shield.enabled", "protects nothing"),
    ("pci-without-security-contact", "prod", {"security_contact": None}, "governance.security_contact",
     "pci-dss conformance pack checks the account's security contact"),
    ("security-contact-phone-not-a-number", "prod", {"security_contact": {"phone": "call the SOC"}},
     "governance.security_contact.phone", "should match pattern"),
    ("unknown-key", "dev", {"budgett": {}}, "governance.budgett", "unknown key"),
    ("anomaly-monitor-off-without-existing", "dev", {"cost_anomaly": {"service_monitor": False}},
     "governance.cost_anomaly.monitor_arn", "name the account's existing AWS-services monitor"),
    ("anomaly-monitor-created-and-named", "dev", {"cost_anomaly": {
        "monitor_arn": "arn:aws:ce::111122223333:anomalymonitor/abc-123"}},
     "governance.cost_anomaly.monitor_arn", "set service_monitor: false"),
    ("anomaly-monitor-of-another-account", "dev", {"cost_anomaly": {
        "service_monitor": False, "monitor_arn": "arn:aws:ce::999999999999:anomalymonitor/abc-123"}},
     "governance.cost_anomaly.monitor_arn", "environment's account"),
]


@pytest.mark.parametrize("case,env,patch,key,fragment", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_governance_config_is_one_clear_error(tmp_path, case, env, patch, key, fragment):
    directory = environments_with(tmp_path, env, {"governance": patch})
    with pytest.raises(ConfigError) as info:
        load_env(env, directory)
    error = info.value
    assert error.file in (f"environments/{env}.yaml", "environments/base.yaml")
    assert error.key_path == key
    assert fragment in error.message, error.message
    assert error.line is not None
    assert str(tmp_path) not in str(error)


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_default_environments_are_valid(env):
    config = load_env(env)
    backup = config.governance.backup
    assert backup.vault_lock.mode_for(config.tier) == ("compliance" if env == "prod" else "governance")
    assert backup.copies_to_dr(config.tier) == (env == "prod")


def test_tier_defaults_when_values_are_left_out(tmp_path):
    """A minimal prod section still gets the strict choices (the foundation's minimal configs rely on it)."""
    from modules.governance.settings import GovernanceSettings

    settings = GovernanceSettings()
    assert settings.backup.vault_lock.mode_for("prod") == "compliance"
    assert settings.backup.vault_lock.mode_for("dev") == "governance"
    assert settings.backup.copies_to_dr("prod") and not settings.backup.copies_to_dr("staging")
    assert settings.access_analyzer.unused_access_for("prod") and not settings.access_analyzer.unused_access_for("dev")
    assert settings.budget.limit_for("prod") > settings.budget.limit_for("dev")


@pytest.mark.parametrize("copy_to_dr", [True, None], ids=["copy-to-dr-in-the-file", "copy-to-dr-from-the-tier"])
def test_prod_without_replication_names_the_key_to_set(tmp_path, copy_to_dr):
    """Prod copies backups to the DR region whether or not its file says so, and only replication creates the
    DR key that copy needs: the error names data.replication.enabled (the line the user must change), never a
    governance key the file may not even hold."""
    directory = environments_with(tmp_path, "prod", {"data": {"replication": {"enabled": False}}})
    path = directory / "prod.yaml"
    if copy_to_dr is None:
        path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                                if "copy_to_dr:" not in line))
    with pytest.raises(ConfigError) as info:
        load_env("prod", directory)
    error = info.value
    assert error.key_path == "data.replication.enabled"
    assert "set data.replication.enabled: true" in error.message
    assert path.read_text().splitlines()[error.line - 1].strip() == "enabled: false"
