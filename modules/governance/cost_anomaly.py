"""Cost Anomaly Detection: a per-service monitor and an immediate alert to the alert topic when an
anomaly's total impact reaches the configured amount.

AWS allows one dimensional SERVICE monitor per account (each environment has its own account), and
an account may already have one: with `governance.cost_anomaly.service_monitor: false` the alert
watches the existing monitor named in `monitor_arn` instead. An SNS subscriber requires IMMEDIATE frequency.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import CostAnomalySettings
from modules.naming import Naming


class CostAnomalyDetection(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: CostAnomalySettings):
        super().__init__(scope, construct_id)
        self.monitor = None
        if settings.service_monitor:
            self.monitor = aws.ce_anomaly_monitor.CeAnomalyMonitor(
                self, "services", name=naming.resource("service-spend"), monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE")
        monitor_arn = self.monitor.arn if self.monitor is not None else settings.monitor_arn
        assert monitor_arn is not None, "settings require monitor_arn without service_monitor"
        s = aws.ce_anomaly_subscription
        self.subscription = s.CeAnomalySubscription(
            self, "alert", name=naming.resource("cost-anomalies"), frequency="IMMEDIATE",
            monitor_arn_list=[monitor_arn],
            subscriber=[s.CeAnomalySubscriptionSubscriber(type="SNS", address=naming.alert_topic_arn())],
            threshold_expression=s.CeAnomalySubscriptionThresholdExpression(
                dimension=s.CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[str(settings.threshold_usd)])))
