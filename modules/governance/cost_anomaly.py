"""Cost Anomaly Detection: a per-service monitor and an immediate alert to the alert topic when an
anomaly's total impact reaches the configured amount.

AWS allows one dimensional SERVICE monitor per account (each environment has its own account).
An SNS subscriber requires IMMEDIATE frequency.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import CostAnomalySettings
from modules.naming import Naming


class CostAnomalyDetection(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: CostAnomalySettings):
        super().__init__(scope, construct_id)
        self.monitor = aws.ce_anomaly_monitor.CeAnomalyMonitor(
            self, "services", name=naming.resource("service-spend"), monitor_type="DIMENSIONAL",
            monitor_dimension="SERVICE")
        s = aws.ce_anomaly_subscription
        self.subscription = s.CeAnomalySubscription(
            self, "alert", name=naming.resource("cost-anomalies"), frequency="IMMEDIATE",
            monitor_arn_list=[self.monitor.arn],
            subscriber=[s.CeAnomalySubscriptionSubscriber(type="SNS", address=naming.alert_topic_arn())],
            threshold_expression=s.CeAnomalySubscriptionThresholdExpression(
                dimension=s.CeAnomalySubscriptionThresholdExpressionDimension(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[str(settings.threshold_usd)])))
