"""AEGIS_BUDGET_AND_ANOMALY: each environment has a monthly cost budget with alerts and a cost
anomaly monitor with a subscription.

GPU endpoints and fleets left running, or an inference endpoint under abuse, cost money by the
hour; cost efficiency is one of the architecture's goals. Required per environment: an
`aws_budgets_budget` of type COST, MONTHLY, with a positive limit and at least one notification
with a subscriber, and an `aws_ce_anomaly_monitor` referenced by an `aws_ce_anomaly_subscription`
that has a subscriber; or, where the account's one AWS-services monitor already exists and config
names it (`governance.cost_anomaly.monitor_arn`), a subscription with a subscriber watching that ARN.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, ok
from policies.app_checks.view import AppView, Env, nested, ref
from policies.checks.aegis_values import as_float, as_list


@app_check("AEGIS_BUDGET_AND_ANOMALY",
           "Each environment has a monthly cost budget with alerts and a cost anomaly monitor")
def budget_and_anomaly(app: AppView):
    for env in app.envs:
        home = env.home_stack("governance")
        budgets = list(env.resources("aws_budgets_budget"))
        if not budgets:
            yield fail(home, "", f"environment {env.name} has no budget")
        for stack, name, conf in budgets:
            yield judge(stack.name, f"aws_budgets_budget.{name}", _budget_problems(conf),
                        "monthly cost budget with alerts")
        yield from _anomaly_results(env, home)


def _anomaly_results(env: Env, home: str):
    monitors = list(env.resources("aws_ce_anomaly_monitor"))
    existing = env.config.governance.cost_anomaly.monitor_arn
    if not monitors and existing is not None:
        watching = [(stack, name) for stack, name, s in env.resources("aws_ce_anomaly_subscription")
                    if nested(s, "subscriber") and existing in as_list(s.get("monitor_arn_list"))]
        if watching:
            stack, name = watching[0]
            yield ok(stack.name, f"aws_ce_anomaly_subscription.{name}",
                     "cost anomalies of the account's existing monitor are alerted")
            return
    if not monitors:
        yield fail(home, "", f"environment {env.name} has no cost anomaly monitor")
    subscriptions = [c for _, _, c in env.resources("aws_ce_anomaly_subscription")]
    for stack, name, _conf in monitors:
        subscribed = [s for s in subscriptions if nested(s, "subscriber") and any(
            (ref(a) or ("", ""))[:2] == ("aws_ce_anomaly_monitor", name)
            for a in as_list(s.get("monitor_arn_list")))]
        yield judge(stack.name, f"aws_ce_anomaly_monitor.{name}",
                    [] if subscribed else ["no anomaly subscription with a subscriber watches this monitor"],
                    "cost anomalies are alerted")


def _budget_problems(conf):
    if conf.get("budget_type") != "COST":
        yield f"budget_type is {conf.get('budget_type')!r}, not COST"
    if conf.get("time_unit") != "MONTHLY":
        yield f"time_unit is {conf.get('time_unit')!r}, not MONTHLY"
    limit = as_float(conf.get("limit_amount"))
    if limit is None or limit <= 0:
        yield f"limit_amount {conf.get('limit_amount')!r} is not a positive amount"
    notified = [n for n in nested(conf, "notification")
                if as_list(n.get("subscriber_sns_topic_arns")) or as_list(n.get("subscriber_email_addresses"))]
    if not notified:
        yield "no notification with a subscriber"
