"""Model Monitor's names and IAM rules, shared by the platform pillar (the monitoring role, job
definitions and schedules), the data pillar (the key policies name the role) and the access pillar
(the drift alarms watch the schedule's metrics by name).

One monitoring role per environment, `<prefix>-model-monitor`, runs every data-quality job: it reads
the capture and the baseline of the monitored models only, writes their results under `monitoring/`
of the inference bucket, and publishes the analyzer's metrics to its own namespace. Its name does not
end in `-exec`: it is no model's execution role and serves nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from modules.iam_doc import Statement, statement
from modules.naming import Naming
from modules.regions import ANALYZER_ACCOUNTS
from modules.training import BASELINE_PREFIX

if TYPE_CHECKING:
    from modules.config import EnvConfig
    from modules.platform.settings import ModelSettings

MONITOR_ROLE = "model-monitor"
MONITORING_PREFIX = "monitoring"  # of the inference bucket: `monitoring/<model>/`
MONITORING_TYPE = "DataQuality"
# Where the built-in analyzer publishes per-feature metrics of a real-time endpoint's schedule, with the
# dimensions `Endpoint` and `MonitoringSchedule` (Developer Guide, "CloudWatch Metrics" of Model Monitor).
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_METRIC_PREFIX = "feature_baseline_drift_"
DRIFT_ALARM_KEY = "drift"  # `Naming.alarm("model", <model>, "drift")`
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"  # monitoring executions are processing jobs


def monitored(model: "ModelSettings") -> bool:
    """A real-time endpoint whose captured data a schedule judges (serverless endpoints capture nothing)."""
    return model.serving == "sagemaker" and model.sagemaker_settings.monitor.enabled


def monitored_models(config: "EnvConfig") -> list["ModelSettings"]:
    return [m for m in config.platform.models if monitored(m)]


def analyzer_image(region: str) -> str | None:
    account = ANALYZER_ACCOUNTS.get(region)
    return f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer" if account else None


def schedule_name(naming: Naming, model: str) -> str:
    """`<prefix>-<model>-data-quality`, at most 63 characters (SageMaker schedule names)."""
    return naming.shortened(naming.resource(model, "data-quality"), 63)


def baseline_prefix(model: "ModelSettings") -> str | None:
    """The baseline's folder in the model-artifacts bucket, or None when the model has none."""
    relative = model.sagemaker_settings.monitor.baseline_prefix
    return f"{BASELINE_PREFIX}{model.name}/{relative}" if relative is not None else None


def monitoring_output_prefix(model: str) -> str:
    return f"{MONITORING_PREFIX}/{model}"


def drift_metric(feature: str) -> str:
    return f"{DRIFT_METRIC_PREFIX}{feature}"


@dataclass(frozen=True)
class DriftWatch:
    """What a model's drift alarm watches: the features' drift metrics of its schedule on its endpoint,
    one datapoint per monitoring run (`period_seconds`: the schedule's interval)."""

    endpoint: str
    schedule: str
    features: tuple[str, ...]
    threshold: float
    period_seconds: int

    @property
    def dimensions(self) -> dict[str, str]:
        return {"Endpoint": self.endpoint, "MonitoringSchedule": self.schedule}


def drift_watch(naming: Naming, model: "ModelSettings") -> DriftWatch | None:
    """The drift a monitored model alarms on; None without a monitor or drift features."""
    if not monitored(model) or not model.sagemaker_settings.monitor.drift_features:
        return None
    monitor = model.sagemaker_settings.monitor
    return DriftWatch(endpoint=naming.model_resource(model.name), schedule=schedule_name(naming, model.name),
                      features=tuple(monitor.drift_features), threshold=monitor.drift_threshold,
                      period_seconds=monitor.interval_hours * 3600)


def monitor_statements(naming: Naming, models: list["ModelSettings"], capture_prefix: str) -> list[Statement]:
    """What a data-quality job of `models` may do as the monitoring role (`capture_prefix`: the folder of
    the inference bucket data capture writes under, per model)."""
    r, a = naming.region, naming.account_id
    inference, artifacts = naming.bucket_arn("inference"), naming.bucket_arn("model-artifacts")
    names = [m.name for m in models]
    baselines = [p for p in (baseline_prefix(m) for m in models) if p is not None]
    log_group = f"arn:aws:logs:{r}:{a}:log-group:{PROCESSING_LOG_GROUP}"

    def key(key_class: str, actions: list[str]) -> Statement:
        return statement(f"Use{key_class.capitalize()}Key", "Allow", actions, f"arn:aws:kms:{r}:{a}:key/*",
                         condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": [naming.kms_alias(key_class)]},
                                    "StringEquals": {"kms:ViaService": [f"s3.{r}.amazonaws.com",
                                                                        f"sagemaker.{r}.amazonaws.com"]}})

    statements = [
        statement("ListCaptureAndResults", "Allow", "s3:ListBucket", inference,
                  condition={"StringLike": {"s3:prefix": sorted(
                      [f"{capture_prefix}/{n}/*" for n in names] + [f"{monitoring_output_prefix(n)}/*" for n in names])}}),
        statement("ReadCapture", "Allow", "s3:GetObject", sorted(f"{inference}/{capture_prefix}/{n}/*" for n in names)),
        statement("WriteResults", "Allow", ["s3:AbortMultipartUpload", "s3:PutObject"],
                  sorted(f"{inference}/{monitoring_output_prefix(n)}/*" for n in names)),
        # The job volume and the results: the inference key (the class of what was captured).
        key("inference", ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]),
        statement("WriteJobLogs", "Allow", ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                  [log_group, f"{log_group}:log-stream:*"]),
        statement("PublishMonitorMetrics", "Allow", "cloudwatch:PutMetricData", "*",
                  condition={"StringEquals": {"cloudwatch:namespace": DATA_METRICS_NAMESPACE}}),
        # No resource-level permissions for the ec2:Describe* calls; the job's interfaces are in this account.
        statement("JobNetworkNoResourceLevel", "Allow",
                  ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                   "ec2:DescribeSubnets", "ec2:DescribeVpcs"], "*"),
        statement("ManageJobNetworkInterfaces", "Allow",
                  ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                   "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                  f"arn:aws:ec2:{r}:{a}:*"),
    ]
    if baselines:
        statements[3:3] = [
            statement("ReadBaselines", "Allow", "s3:GetObject", sorted(f"{artifacts}/{p}*" for p in baselines)),
            # The model-artifacts bucket takes only the model key.
            key("model", ["kms:Decrypt", "kms:DescribeKey"]),
        ]
    return statements
