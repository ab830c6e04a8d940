"""policies/suppression_policy.yaml: validated with file, key and line; it can tighten the built-in rules,
never loosen them; the shipped suppressions comply with it."""
from __future__ import annotations

import datetime as dt

import pytest

from modules.errors import ConfigError
from policies.catalog import load_catalog
from policies.findings import Suppression
from policies.gate_result import EXIT_ERROR
from policies.plan.approvals import load_approvals
from policies.suppression_policy import MAX_LIFETIME_DAYS, SuppressionPolicy, load_policy, violation
from policies.suppressions import load_exceptions
from tests.policies.gate.test_suppression_policy import NO_LOGGING, REASON, TODAY, inline, judge, status


@pytest.mark.parametrize("body, key, words", [
    ("  max_lifetime_days: {prod: 3650}\n", "suppression_policy.max_lifetime_days.prod", "a year at most"),
    ("  max_lifetime_days: {prod: 0}\n", "suppression_policy.max_lifetime_days.prod", "from 1 to 365"),
    ("  exact_resource_from: critical\n", "suppression_policy.exact_resource_from", "not one of"),
    ("  approver: {tiers: [dev]}\n", "suppression_policy.approver.tiers", "includes prod"),
    ("  approver: {from: never}\n", "suppression_policy.approver.from", "not one of"),
    ("  max_lifetime: 30\n", "suppression_policy.max_lifetime", "unknown key"),
])
def test_attack_policy_file_that_loosens_the_rules_is_refused(tmp_path, body, key, words):
    path = tmp_path / "suppression_policy.yaml"
    path.write_text("suppression_policy:\n" + body)
    with pytest.raises(ConfigError) as err:
        load_policy(path)
    assert (err.value.file, err.value.key_path, err.value.line) == ("suppression_policy.yaml", key, 2)
    assert words in err.value.message
    # the gate refuses to judge with it (exit 2), it never falls back to a default
    assert judge([("dev", *NO_LOGGING)], [inline(*NO_LOGGING)], policy_file=path).exit_code == EXIT_ERROR


def test_a_tighter_policy_file_shortens_lifetimes_per_tier(tmp_path):
    path = tmp_path / "suppression_policy.yaml"
    path.write_text("suppression_policy:\n  max_lifetime_days: {prod: 90}\n  exact_resource_from: medium\n")
    in_120_days = (TODAY + dt.timedelta(days=120)).isoformat()
    result = judge([("dev", *NO_LOGGING), ("prod", *NO_LOGGING)],
                   [inline(*NO_LOGGING, expires=in_120_days), inline(*NO_LOGGING, env="prod", expires=in_120_days)],
                   policy_file=path)
    assert result.errors == [f"suppression of CKV_AWS_18 (prod-platform/aws_s3_bucket.logs): expires {in_120_days}, "
                             "120 days from today: at most 90 days in prod (policies/suppression_policy.yaml); "
                             "review it and set a nearer expiry"]
    assert status(result, "dev", "CKV_AWS_18") == "suppressed" and status(result, "prod", "CKV_AWS_18") == "failed"
    assert load_policy(path).exact_resource("CKV_AWS_18", "medium")


def test_a_suppression_spanning_tiers_gets_the_shortest_lifetime():
    policy = SuppressionPolicy(max_lifetime_days={"dev": 365, "staging": 200, "prod": 90})
    item = Suppression("CKV_AWS_18", REASON, (TODAY + dt.timedelta(days=100)).isoformat(), "exceptions",
                       "exceptions.yaml:2", owner="platform-oncall", pattern="aws_s3_bucket.logs",
                       environments=("*",))
    assert "at most 90 days in prod" in violation(item, policy, "medium", frozenset({"dev", "staging", "prod"}), TODAY)
    assert violation(item, policy, "medium", frozenset({"dev"}), TODAY) is None


def test_the_shipped_policy_exceptions_and_approvals_comply():
    policy, catalog = load_policy(), load_catalog()
    assert all(days <= MAX_LIFETIME_DAYS for days in policy.max_lifetime_days.values())
    tiers = frozenset({"dev", "staging", "prod"})  # judged at the strictest: whatever environments they name
    for item in load_exceptions():
        rule = catalog.get(item.check_id)
        assert violation(item, policy, rule.severity if rule else "high", tiers, dt.date.today()) is None, item.where
    for approval in load_approvals():
        assert (approval.expires - dt.date.today()).days <= policy.lifetime(tiers)[0], approval.where
