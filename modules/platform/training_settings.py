"""Settings of the training lane (`platform.training:` in an environment file).

Every key has a secure default: a VPC-only Studio domain with idle shutdown, Spot training with
checkpoints for jobs launched from the provided template, a model package group per model, a
pipeline per SageMaker-served model, and no
data store (it costs even when idle, so environments opt in).
"""
from __future__ import annotations

from typing import Iterator

from pydantic import Field, model_validator

from modules.regions import ANALYZER_ACCOUNTS
from modules.schema_base import AccountId, Problem, Strict

# SageMaker's own bounds (botocore's model: IdleTimeoutInMinutes 60–525600) and the longest a
# training job may run (28 days, SageMaker's MaxRuntimeInSeconds limit).
MIN_IDLE_MINUTES, MAX_IDLE_MINUTES = 60, 525_600
MAX_TRAINING_SECONDS = 28 * 24 * 3600
MAX_PROCESSING_SECONDS = 777_600  # ProcessingStoppingCondition.MaxRuntimeInSeconds limit (9 days)


class StudioSettings(Strict):
    enabled: bool = True
    # JupyterLab and Code Editor apps shut down after this long without activity (cost control).
    idle_timeout_minutes: int = Field(default=60, ge=MIN_IDLE_MINUTES, le=MAX_IDLE_MINUTES)
    # Users may lengthen their own timeout up to this, never switch it off.
    max_idle_timeout_minutes: int = Field(default=240, ge=MIN_IDLE_MINUTES, le=MAX_IDLE_MINUTES)

    @model_validator(mode="after")
    def _ordered(self) -> "StudioSettings":
        if self.max_idle_timeout_minutes < self.idle_timeout_minutes:
            raise ValueError("max_idle_timeout_minutes must be at least idle_timeout_minutes")
        return self


class SpotSettings(Strict):
    """Managed Spot training for jobs launched from the environment's template: SageMaker waits up to
    `max_wait_seconds` (including the run) for Spot capacity and resumes from the checkpoint."""

    enabled: bool = True
    max_run_seconds: int = Field(default=24 * 3600, ge=60, le=MAX_TRAINING_SECONDS)
    max_wait_seconds: int = Field(default=48 * 3600, ge=60, le=MAX_TRAINING_SECONDS)

    @model_validator(mode="after")
    def _wait_covers_run(self) -> "SpotSettings":
        if self.enabled and self.max_wait_seconds < self.max_run_seconds:
            raise ValueError("max_wait_seconds must be at least max_run_seconds (SageMaker refuses a Spot job "
                             "whose wait is shorter than its run)")
        return self


class RegistrySettings(Strict):
    # An account (staging) whose approved packages are promoted into this environment's groups: it may
    # register versions here, always pending this environment's own approval.
    promotion_source_account_id: AccountId | None = None


class EvaluationSettings(Strict):
    """The pipeline's quality bar: the evaluation step writes `evaluation.json`, and a version is
    registered only when `metrics.<metric>.value` is at least `min_value`."""

    metric: str = Field(default="auc", pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
    min_value: float = 0.7


class PipelineSettings(Strict):
    """The SageMaker Pipeline of each SageMaker-served model (train, evaluate, baseline, register
    PendingManualApproval): its instances and how many steps run at once."""

    enabled: bool = True
    training_instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
    training_instance_count: int = Field(default=1, ge=1, le=100)
    processing_instance_type: str = Field(default="ml.m5.xlarge", pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
    volume_size_gb: int = Field(default=30, ge=1, le=16_384)
    processing_max_run_seconds: int = Field(default=3600, ge=60, le=MAX_PROCESSING_SECONDS)
    max_parallel_steps: int = Field(default=2, ge=1, le=256)
    evaluation: EvaluationSettings = EvaluationSettings()


class DataStoreSettings(Strict):
    """Aurora PostgreSQL Serverless v2 for features and experiment metadata (off unless enabled)."""

    enabled: bool = False
    min_capacity: float = Field(default=0.5, ge=0.5, le=256)  # Aurora capacity units
    max_capacity: float = Field(default=4.0, ge=1.0, le=256)
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    engine_version: str = Field(default="16.4", pattern=r"^[0-9]{2}\.[0-9]{1,2}$")

    @model_validator(mode="after")
    def _ordered(self) -> "DataStoreSettings":
        if self.max_capacity < self.min_capacity:
            raise ValueError("max_capacity must be at least min_capacity")
        return self


class TrainingSettings(Strict):
    enabled: bool = True
    studio: StudioSettings = StudioSettings()
    spot: SpotSettings = SpotSettings()
    registry: RegistrySettings = RegistrySettings()
    pipeline: PipelineSettings = PipelineSettings()
    data_store: DataStoreSettings = DataStoreSettings()

    def problems(self, env) -> Iterator[Problem]:
        if self.enabled and self.pipeline.enabled and env.region not in ANALYZER_ACCOUNTS:
            yield "pipeline.enabled", (f"this project knows no Model Monitor analyzer image in {env.region} "
                                       "(the pipelines' Baseline step runs it)")
        source = self.registry.promotion_source_account_id
        if source is not None and source == env.account_id:
            yield "registry.promotion_source_account_id", "names this environment's own account: promotion comes " \
                                                          "from another environment's account"
        if env.tier == "prod" and self.data_store.enabled and self.data_store.backup_retention_days < 7:
            yield "data_store.backup_retention_days", "prod keeps at least 7 days of automated backups"
