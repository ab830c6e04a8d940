"""Cost guardrails: a monthly budget alerting on actual and forecast spend, and a per-service cost
anomaly monitor alerting above the configured impact, both to the alert topic."""
from __future__ import annotations

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
