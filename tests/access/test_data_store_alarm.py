"""The training data store's capacity alarm: on the cluster prod deploys, notifying the alert topic, and the
alarm the PCI pack's cloudwatch-alarm-resource-check looks for."""
from __future__ import annotations

from modules.access.data_store_alarm import METRIC, THRESHOLD_PERCENT
from modules.config import load_env
from modules.governance.conformance.catalog import framework


def test_prod_alarms_on_the_capacity_of_the_cluster_it_deploys(synthesized):
    (cluster,) = synthesized.resources("prod-platform", "aws_rds_cluster").values()
    alarms = [a for a in synthesized.resources("prod-access", "aws_cloudwatch_metric_alarm").values()
              if a.get("metric_name") == METRIC]
    assert len(alarms) == 1
    (alarm,) = alarms
    assert alarm["namespace"] == "AWS/RDS"
    assert alarm["dimensions"] == {"DBClusterIdentifier": cluster["cluster_identifier"]}
    assert (alarm["threshold"], alarm["comparison_operator"], alarm["statistic"]) == \
        (THRESHOLD_PERCENT, "GreaterThanOrEqualToThreshold", "Average")
    (topic,) = synthesized.resources("prod-access", "aws_sns_topic")
    assert alarm["alarm_actions"] == alarm["ok_actions"] == [synthesized.ref("aws_sns_topic", topic, "arn")]


def test_environments_without_a_data_store_have_no_such_alarm(synthesized):
    for env in ("dev", "staging"):
        assert not load_env(env).platform.training.data_store.enabled
        assert not [a for a in synthesized.resources(f"{env}-access", "aws_cloudwatch_metric_alarm").values()
                    if a.get("metric_name") == METRIC]


def test_the_pci_rule_asks_for_this_alarm_on_rds_clusters():
    (use,) = [u for u in framework("pci-dss").rules if u.rule.identifier == "CLOUDWATCH_ALARM_RESOURCE_CHECK"]
    assert dict(use.parameters) == {"resourceType": "AWS::RDS::DBCluster", "metricName": METRIC}
