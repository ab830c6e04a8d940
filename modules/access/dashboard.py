"""One CloudWatch dashboard per environment with the key metrics of every pillar: alarm states,
security events, per-model serving health (platform), bucket growth (data), GuardDuty finding
routing (access) and Config/Backup activity (governance)."""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.access.model_alarms import SAGEMAKER_VARIANT
from modules.access.security_alarms import metric_namespace, security_events

WIDTH = 24  # dashboard grid width
DAY = 86400


def _metrics_widget(title: str, metrics: list, region: str, *, stat: str = "Sum", period: int = 300,
                    width: int = 12) -> dict:
    return {"type": "metric", "width": width, "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": period,
                           "view": "timeSeries", "metrics": metrics}}


def _model_widgets(naming, model, region: str, lb_suffix: str | None) -> list[dict]:
    name = naming.model_resource(model.name)
    title = f"Model {model.name} ({model.serving})"
    if model.serving in ("sagemaker", "sagemaker-serverless"):
        dims = ["EndpointName", name, "VariantName", SAGEMAKER_VARIANT]
        return [_metrics_widget(title, [
            ["AWS/SageMaker", "Invocations", *dims],
            ["AWS/SageMaker", "Invocation5XXErrors", *dims],
            ["AWS/SageMaker", "Invocation4XXErrors", *dims],
            ["AWS/SageMaker", "ModelLatency", *dims, {"stat": "p99", "yAxis": "right"}],
        ], region)]
    if model.serving == "lambda":
        dims = ["FunctionName", name]
        return [_metrics_widget(title, [
            ["AWS/Lambda", "Invocations", *dims],
            ["AWS/Lambda", "Errors", *dims],
            ["AWS/Lambda", "Throttles", *dims],
            ["AWS/Lambda", "Duration", *dims, {"stat": "p99", "yAxis": "right"}],
        ], region)]
    dims = ["LoadBalancer", lb_suffix]
    return [_metrics_widget(title, [
        ["AWS/ApplicationELB", "RequestCount", *dims],
        ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", *dims],
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", *dims],
        ["AWS/ApplicationELB", "TargetResponseTime", *dims, {"stat": "p99", "yAxis": "right"}],
    ], region)]


def dashboard_body(stack, *, alarm_arns: list[str], lb_suffixes: dict[str, str], guardduty_rule: str) -> str:
    config, naming = stack.config, stack.naming
    region = config.region
    widgets: list[dict] = [
        {"type": "text", "width": WIDTH, "height": 2, "properties": {
            "markdown": f"# Aegis {config.name} ({config.tier})\nAlarms notify `{naming.alert_topic()}`."}},
        {"type": "alarm", "width": WIDTH, "height": 6, "properties": {
            "title": "Alarm states", "alarms": sorted(alarm_arns)[:100]}},
        _metrics_widget("Security events (CloudTrail)", [
            [metric_namespace(naming), "".join(w.capitalize() for w in e.key.split("-"))]
            for e in security_events(naming)], region, width=WIDTH),
    ]
    for model in config.platform.models:
        widgets += _model_widgets(naming, model, region, lb_suffixes.get(model.name))
    widgets += [
        _metrics_widget("Data: bucket size", [
            ["AWS/S3", "BucketSizeBytes", "BucketName", naming.bucket(p), "StorageType", "StandardStorage"]
            for p in ("datasets", "model-artifacts", "inference", "audit")], region, stat="Average", period=DAY),
        _metrics_widget("Access: GuardDuty findings routed", [
            ["AWS/Events", "MatchedEvents", "RuleName", guardduty_rule],
            ["AWS/Events", "FailedInvocations", "RuleName", guardduty_rule]], region),
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
    def __init__(self, scope: Construct, construct_id: str, *, stack, **body_args):
        super().__init__(scope, construct_id)
        self.name = stack.naming.resource("overview")
        self.dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", dashboard_name=self.name, dashboard_body=dashboard_body(stack, **body_args))
