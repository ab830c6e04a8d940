"""Cost guardrails: a monthly budget alerting on actual and forecast spend, and a per-service cost
anomaly monitor alerting above the configured impact, both to the alert topic."""
from __future__ import annotations

import json

EXPECTED_ACTUAL = {"dev": [80, 100], "staging": [80, 100], "prod": [50, 80, 100]}
EXPECTED_LIMIT = {"dev": "500", "staging": "2000", "prod": "10000"}


def test_budget_thresholds(gov, env):
    _, budget = gov.one("aws_budgets_budget")
    assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == ("COST", "MONTHLY", "USD")
    assert budget["limit_amount"] == EXPECTED_LIMIT[env] == str(gov.settings.budget.limit_for(env))
    assert budget["account_id"] == gov.config.account_id
    notifications = budget["notification"]
    actual = sorted(n["threshold"] for n in notifications if n["notification_type"] == "ACTUAL")
    forecast = [n["threshold"] for n in notifications if n["notification_type"] == "FORECASTED"]
    assert actual == EXPECTED_ACTUAL[env] and {80, 100} <= set(actual)
    assert forecast == [100]
    for n in notifications:
        assert n["threshold_type"] == "PERCENTAGE" and n["comparison_operator"] == "GREATER_THAN"
        assert n["subscriber_sns_topic_arns"] == [gov.naming.alert_topic_arn()]


def test_cost_anomaly_monitor_per_service(gov):
    name, monitor = gov.one("aws_ce_anomaly_monitor")
    assert (monitor["monitor_type"], monitor["monitor_dimension"]) == ("DIMENSIONAL", "SERVICE")
    _, subscription = gov.one("aws_ce_anomaly_subscription")
    assert subscription["monitor_arn_list"] == [gov.ref("aws_ce_anomaly_monitor", name, "arn")]
    assert subscription["frequency"] == "IMMEDIATE"  # the only frequency AWS allows for SNS subscribers
    assert subscription["subscriber"] == [{"type": "SNS", "address": gov.naming.alert_topic_arn()}]
    dimension = subscription["threshold_expression"]["dimension"]
    assert dimension["key"] == "ANOMALY_TOTAL_IMPACT_ABSOLUTE"
    assert dimension["match_options"] == ["GREATER_THAN_OR_EQUAL"]
    assert dimension["values"] == [str(gov.settings.cost_anomaly.threshold_usd)]
    assert gov.settings.cost_anomaly.threshold_usd < gov.settings.budget.limit_for(gov.config.tier)


def test_existing_service_monitor_is_used_instead_of_a_second_one(tmp_path, synthesized):
    """An account holds one AWS-services monitor; with service_monitor off, the alert watches the named one
    (was: always created, failing in accounts that already have one)."""
    from modules.config import load_env
    from policies.app_checks import REGISTRY, all_checks
    from policies.app_checks.view import AppView
    from tests.governance.conftest import environments_with, synth_governance

    existing = "arn:aws:ce::111122223333:anomalymonitor/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
    config = load_env("dev", environments_with(tmp_path, "dev", {"governance": {"cost_anomaly": {
        "service_monitor": False, "monitor_arn": existing}}}))
    text, _ = synth_governance(config, tmp_path / "out")
    all_checks()
    doc = json.loads(text)
    assert "aws_ce_anomaly_monitor" not in doc["resource"]
    (subscription,) = doc["resource"]["aws_ce_anomaly_subscription"].values()
    assert subscription["monitor_arn_list"] == [existing]
    results = list(REGISTRY["AEGIS_BUDGET_AND_ANOMALY"].func(AppView.build({"dev-governance": doc}, {"dev": config})))
    assert results and all(r.passed for r in results)
    config_without = config.model_copy(update={"governance": config.governance.model_copy(update={
        "cost_anomaly": config.governance.cost_anomaly.model_copy(update={"monitor_arn": None})})})
    results = list(REGISTRY["AEGIS_BUDGET_AND_ANOMALY"].func(AppView.build({"dev-governance": doc},
                                                                            {"dev": config_without})))
    assert [r.message for r in results if not r.passed] == ["environment dev has no cost anomaly monitor"]
