"""How SageMaker Model Monitor judges what a real-time endpoint captured (`sagemaker.monitor`).

A data-quality monitoring schedule runs the built-in analyzer over the endpoint's captured requests
at the schedule's interval, compares them with the baseline statistics and constraints the pipeline's
baseline step wrote, and publishes one drift metric per feature (Developer Guide, "Data quality",
"CloudWatch Metrics"). Without a baseline the job still profiles the captured data (the API makes
DataQualityBaselineConfig optional) but finds no violations: dev may run that way, prod may not.
"""
from __future__ import annotations

import re
from typing import Annotated, Iterator

from pydantic import Field

from modules.regions import ANALYZER_ACCOUNTS
from modules.schema_base import Problem, Strict

# Schedules SageMaker accepts for real-time endpoints: hourly, daily at an hour, or every N hours from
# an hour (Developer Guide, "Schedule monitoring jobs": cron expressions).
_SCHEDULE = re.compile(r"^cron\(0 (\*|[01]?[0-9]|2[0-3])(/([1-9]|1[0-9]|2[0-4]))? \? \* \* \*\)$")
# Relative to the model's artifact folder `models/<model>/` of the model-artifacts bucket.
BaselinePrefix = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62}){0,5}/$")]
# A column of the baseline: CloudWatch names its metric `feature_baseline_drift_<feature>` (255 characters at most).
FeatureName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,200}$")]
MAX_DRIFT_FEATURES = 9  # a metric alarm evaluates at most 10 metrics: these plus the MAX expression


def schedule_interval_hours(expression: str) -> int:
    """Hours between two runs of a valid schedule expression (1 for hourly, 24 for daily)."""
    hour = expression.split(" ")[1]
    if hour == "*":
        return 1
    return int(hour.split("/")[1]) if "/" in hour else 24


class ModelMonitorSettings(Strict):
    enabled: bool = True  # prod: always
    schedule: str = "cron(0 * ? * * *)"  # hourly
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z][a-z0-9-]*\.[0-9]*[a-z0-9]+$")] = "ml.m5.xlarge"
    volume_size_gb: int = Field(default=20, ge=1, le=512)
    # A run must end before the next starts: at most an hour for an hourly schedule.
    max_runtime_seconds: int = Field(default=1800, ge=60, le=3600)
    # `statistics.json` and `constraints.json` under `models/_baselines/<model>/<baseline_prefix>` of the
    # model-artifacts bucket: the pipeline's baseline step writes them to `<execution id>/` there.
    baseline_prefix: BaselinePrefix | None = None
    # Features whose drift the model's drift alarm watches (CloudWatch has no wildcard over metric names).
    drift_features: list[FeatureName] = Field(default_factory=list, max_length=MAX_DRIFT_FEATURES)
    drift_threshold: float = Field(default=0.1, gt=0, le=1)  # distance from the baseline distribution
    # Also roll a release back when the drift alarm fires (README "Model Monitor": off by default).
    rollback_on_drift: bool = False
    # Model quality against ground-truth labels under this inference-bucket prefix: refused until the
    # provider offers the resource (see monitor_problems()).
    ground_truth_prefix: BaselinePrefix | None = None

    @property
    def interval_hours(self) -> int:
        return schedule_interval_hours(self.schedule)

    @property
    def baselined(self) -> bool:
        return self.enabled and self.baseline_prefix is not None

    def monitor_problems(self, env, *, baking_seconds: int) -> Iterator[Problem]:
        if self.enabled and env.region not in ANALYZER_ACCOUNTS:
            yield "enabled", f"this project knows no Model Monitor analyzer image in {env.region}"
        if not _SCHEDULE.match(self.schedule):
            yield "schedule", ("SageMaker runs endpoint monitors hourly 'cron(0 * ? * * *)', daily 'cron(0 H ? * * *)' "
                               "or every N hours 'cron(0 H/N ? * * *)'")
        if len(set(self.drift_features)) != len(self.drift_features):
            yield "drift_features", "features must not repeat"
        if self.ground_truth_prefix is not None:
            yield "ground_truth_prefix", (
                "model-quality monitoring needs aws_sagemaker_model_quality_job_definition, which the AWS "
                "provider (hashicorp/aws 6.x) does not offer; remove the key (README \"Model Monitor\")")
        if self.drift_features and self.baseline_prefix is None:
            yield "drift_features", "drift is measured against a baseline: set baseline_prefix"
        if self.rollback_on_drift:
            if not self.drift_features:
                yield "rollback_on_drift", "needs drift_features: there is no drift alarm to roll back on"
            elif _SCHEDULE.match(self.schedule) and baking_seconds < self.interval_hours * 3600:
                yield "rollback_on_drift", (
                    f"the monitor runs every {self.interval_hours} h but deployment.baking_seconds is {baking_seconds}: "
                    "no run judges the new fleet before the old one is gone")
        if env.tier != "prod":
            return
        if not self.enabled:
            yield "enabled", "prod monitors every capturing endpoint"
        elif self.baseline_prefix is None:
            yield "baseline_prefix", "prod compares captured data with a baseline (the pipeline's baseline step)"
        elif not self.drift_features:
            yield "drift_features", "prod alarms on drift: name at least one feature of the baseline"
