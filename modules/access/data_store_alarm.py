"""The training data store's capacity alarm: Aurora Serverless v2 close to its maximum capacity.

A Serverless v2 cluster scales up to `platform.training.data_store.max_capacity` ACUs and no further; at that
ceiling queries queue and the training jobs that read features stall. ACUUtilization (AWS/RDS, per
DBClusterIdentifier) is the capacity in use as a percentage of the maximum; the alarm notifies the alert
topic when its average stays at or above THRESHOLD_PERCENT for EVALUATION_PERIODS five-minute periods, in
time to raise the maximum. It is the alarm AWS Config's cloudwatch-alarm-resource-check looks for on RDS
clusters (the PCI DSS pack deploys that rule for AWS::RDS::DBCluster and METRIC).

The cluster is named by convention (`<prefix>-training-store`), so no cross-stack reference is needed.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.naming import Naming

NAMESPACE = "AWS/RDS"
METRIC = "ACUUtilization"
THRESHOLD_PERCENT = 90
PERIOD_SECONDS = 300
EVALUATION_PERIODS = 3


class DataStoreCapacityAlarm(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, cluster_identifier: str,
                 topic_arn: str):
        super().__init__(scope, construct_id)
        self.alarm_name = naming.alarm("training-store", "capacity")
        self.alarm = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self, "capacity", alarm_name=self.alarm_name,
            alarm_description=(f"Training data store {cluster_identifier} uses {THRESHOLD_PERCENT}% or more of its "
                               "maximum capacity: raise platform.training.data_store.max_capacity"),
            namespace=NAMESPACE, metric_name=METRIC, dimensions={"DBClusterIdentifier": cluster_identifier},
            statistic="Average", period=PERIOD_SECONDS, evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=EVALUATION_PERIODS, threshold=THRESHOLD_PERCENT,
            comparison_operator="GreaterThanOrEqualToThreshold", treat_missing_data="notBreaching",
            alarm_actions=[topic_arn], ok_actions=[topic_arn])
