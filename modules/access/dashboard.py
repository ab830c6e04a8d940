"""One CloudWatch dashboard per environment with the key metrics of every pillar: alarm states,
security events, per-model serving health (platform), bucket growth (data), GuardDuty finding
routing (access) and Config/Backup activity (governance)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.access.model_alarms import ModelMetrics
from modules.access.security_alarms import metric_namespace, security_events
from modules.monitoring import DATA_METRICS_NAMESPACE, drift_metric
from modules.naming import Naming
from modules.serving import KINDS
from modules.training import JOB_LOG_GROUPS

WIDTH = 24  # dashboard grid width
DAY = 86400


def _metrics_widget(title: str, metrics: list, region: str, *, stat: str = "Sum", period: int = 300,
                    width: int = 12) -> dict:
    return {"type": "metric", "width": width, "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": period,
                           "view": "timeSeries", "metrics": metrics}}


@dataclass(frozen=True)
class DashboardProps:
    """- `env_name`, `tier`: the dashboard's heading;
    - `alarm_arns`: the alarms whose states it shows (sorted, at most 100: CloudWatch's limit);
    - `models`: each served model's metrics, in config order, one widget each;
    - `guardduty_rule`: the EventBridge rule that routes GuardDuty findings;
    - `training`: the environment has a training lane (its job logs); `data_store`: the training data
      store's cluster identifier, if it has one."""

    naming: Naming
    env_name: str
    tier: str
    alarm_arns: tuple[str, ...]
    models: tuple[ModelMetrics, ...]
    guardduty_rule: str
    training: bool = False
    data_store: str | None = None


def _training_widgets(props: DashboardProps, region: str) -> list[dict]:
    """Training jobs that failed or logged errors (Logs Insights), and the data store's capacity and load."""
    widgets: list[dict] = []
    if props.training:
        sources = " | ".join(f"SOURCE '{g}'" for g in JOB_LOG_GROUPS)
        widgets.append({"type": "log", "width": 12, "height": 6, "properties": {
            "title": "Training: job errors", "region": region, "view": "table",
            "query": (f"{sources} | fields @timestamp, @logStream, @message "
                      "| filter @message like /(?i)(error|exception|traceback)/ | sort @timestamp desc | limit 50")}})
    if props.data_store:
        dims = ["DBClusterIdentifier", props.data_store]
        widgets.append(_metrics_widget("Training: data store", [
            ["AWS/RDS", "ServerlessDatabaseCapacity", *dims], ["AWS/RDS", "DatabaseConnections", *dims],
            ["AWS/RDS", "CPUUtilization", *dims, {"yAxis": "right"}]], region, stat="Average"))
    return widgets


def _model_widgets(model: ModelMetrics, region: str) -> list[dict]:
    """The serving health of one model: traffic and errors, and p99 latency on the right axis; and the drift
    of its captured data from the baseline where Model Monitor alarms on it."""
    metrics = KINDS[model.kind].metrics
    dims = [part for dimension in model.dimensions.items() for part in dimension]
    *counts, latency = metrics.health
    widgets = [_metrics_widget(f"Model {model.name} ({model.kind})", [
        *([metrics.namespace, metric, *dims] for metric in counts),
        [metrics.namespace, latency, *dims, {"stat": "p99", "yAxis": "right"}],
    ], region)]
    if model.drift is not None:  # what the drift alarm watches, one datapoint per monitoring run
        drift_dims = [part for dimension in model.drift.dimensions.items() for part in dimension]
        widgets.append(_metrics_widget(f"Model {model.name}: drift from the baseline (Model Monitor)", [
            [DATA_METRICS_NAMESPACE, drift_metric(feature), *drift_dims] for feature in model.drift.features],
            region, stat="Maximum", period=model.drift.period_seconds))
    return widgets


def dashboard_body(props: DashboardProps) -> str:
    naming = props.naming
    region = naming.region
    widgets: list[dict] = [
        {"type": "text", "width": WIDTH, "height": 2, "properties": {
            "markdown": f"# Aegis {props.env_name} ({props.tier})\nAlarms notify `{naming.alert_topic()}`."}},
        {"type": "alarm", "width": WIDTH, "height": 6, "properties": {
            "title": "Alarm states", "alarms": sorted(props.alarm_arns)[:100]}},
        _metrics_widget("Security events (CloudTrail)", [
            [metric_namespace(naming), "".join(w.capitalize() for w in e.key.split("-"))]
            for e in security_events(naming)], region, width=WIDTH),
    ]
    for model in props.models:
        widgets += _model_widgets(model, region)
    widgets += _training_widgets(props, region)
    widgets += [
        _metrics_widget("Data: bucket size", [
            ["AWS/S3", "BucketSizeBytes", "BucketName", naming.bucket(p), "StorageType", "StandardStorage"]
            for p in ("datasets", "model-artifacts", "inference", "audit")], region, stat="Average", period=DAY),
        _metrics_widget("Access: GuardDuty findings routed", [
            ["AWS/Events", "MatchedEvents", "RuleName", props.guardduty_rule],
            ["AWS/Events", "FailedInvocations", "RuleName", props.guardduty_rule]], region),
        _metrics_widget("Governance: Config and Backup", [
            ["AWS/Config", "ConfigurationItemsRecorded"],
            ["AWS/Backup", "NumberOfBackupJobsCompleted"],
            ["AWS/Backup", "NumberOfBackupJobsFailed"]], region, period=3600),
    ]
    # Lay widgets out row by row so the body (and the synthesized JSON) is fully determined.
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > WIDTH:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return json.dumps({"widgets": widgets}, sort_keys=True)


class Dashboard(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: DashboardProps):
        super().__init__(scope, construct_id)
        self.name = props.naming.resource("overview")
        self.dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", dashboard_name=self.name, dashboard_body=dashboard_body(props))
