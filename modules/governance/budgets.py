"""A monthly cost budget for the environment's account, alerting the alert topic on actual spend
(80 % and 100 % by default) and on the forecast (100 %)."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import BudgetSettings
from modules.naming import Naming


class CostBudget(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: BudgetSettings, tier: str):
        super().__init__(scope, construct_id)
        m = aws.budgets_budget
        topic = naming.alert_topic_arn()

        def notify(kind: str, percent: int):
            return m.BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN", notification_type=kind, threshold=percent,
                threshold_type="PERCENTAGE", subscriber_sns_topic_arns=[topic])

        notifications = [notify("ACTUAL", p) for p in settings.actual_alert_percents]
        notifications.append(notify("FORECASTED", settings.forecast_alert_percent))
        self.limit_usd = settings.limit_for(tier)
        self.budget = m.BudgetsBudget(
            self, "monthly", name=naming.resource("monthly-cost"), account_id=naming.account_id,
            budget_type="COST", time_unit="MONTHLY", limit_amount=str(self.limit_usd), limit_unit="USD",
            notification=notifications)
