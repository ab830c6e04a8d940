"""How a new model version reaches traffic: a real-time endpoint's deployment guardrails
(`sagemaker.deployment`), a Lambda model's weighted `live` alias (`lambda.canary`) and a GPU
fleet's instance refresh (`ec2.refresh`).


SageMaker deployment guardrails: a blue/green update that shifts traffic to the new fleet in a
canary step or in linear steps, waits between steps, bakes on full traffic before the old fleet
is terminated, and rolls back by itself when one of the model's latency or error alarms fires
(SageMaker Developer Guide, "Deployment guardrails"; API TrafficRoutingConfig, BlueGreenUpdatePolicy).
The defaults are the safe release: a 10 % canary, ten minutes of waiting and ten of baking.
Prod must shift gradually; dev may take all traffic at once (still blue/green, still rolled back).
"""
from __future__ import annotations

import math
from typing import Iterator, Literal

from pydantic import Field

from modules.schema_base import Problem, Strict

GRADUAL = ("CANARY", "LINEAR")
# Instance families deployment guardrails exclude: SageMaker falls back to all-at-once without
# baking on them (Developer Guide, "Deployment guardrails: Exclusions").
_GUARDRAIL_EXCLUDED_FAMILIES = ("ml.inf1.",)


class ReleaseSettings(Strict):
    traffic: Literal["CANARY", "LINEAR", "ALL_AT_ONCE"] = "CANARY"  # how traffic moves to the new fleet
    # CAPACITY_PERCENT: of the variant's instances; INSTANCE_COUNT: instances (API CapacitySize).
    step_unit: Literal["CAPACITY_PERCENT", "INSTANCE_COUNT"] = "CAPACITY_PERCENT"
    step_size: int = Field(default=10, ge=1, le=100)  # the canary, or each linear step
    wait_interval_seconds: int = Field(default=600, ge=0, le=3600)  # between traffic steps
    baking_seconds: int = Field(default=600, ge=0, le=3600)  # on full traffic, before the old fleet goes
    maximum_execution_timeout_seconds: int = Field(default=3600, ge=600, le=28800)  # time limit of the whole update

    @property
    def gradual(self) -> bool:
        return self.traffic in GRADUAL

    def waits(self, max_instances: int) -> int:
        """How many wait intervals the shift can take at most (the variant at its largest)."""
        if self.traffic == "CANARY":
            return 1
        if self.traffic == "ALL_AT_ONCE":
            return 0
        whole = 100 if self.step_unit == "CAPACITY_PERCENT" else max_instances
        return max(math.ceil(whole / self.step_size) - 1, 1)

    def variant_problems(self, env, *, instance_type: str, min_instances: int,
                     max_instances: int) -> Iterator[Problem]:
        """Rules AWS or the environment's tier impose; `min_instances`/`max_instances` bound the variant."""
        if env.tier == "prod" and not self.gradual:
            yield "traffic", "prod shifts traffic gradually: CANARY or LINEAR (ALL_AT_ONCE is for dev)"
        if self.gradual:
            yield from self._step_problems(min_instances)
            alarms = env.access.model_alarms
            window = alarms.period_seconds * alarms.evaluation_periods
            if env.tier == "prod" and self.wait_interval_seconds < window:
                yield "wait_interval_seconds", (
                    f"must be at least the rollback alarms' evaluation window ({window} s: access.model_alarms "
                    "period_seconds × evaluation_periods), or the canary is promoted before an alarm could fire")
            if instance_type.startswith(_GUARDRAIL_EXCLUDED_FAMILIES):
                yield "traffic", (f"SageMaker has no deployment guardrails for {instance_type} (Inferentia 1): "
                                  "it would shift all traffic at once; choose another instance family")
        total = self.baking_seconds + self.waits(max_instances) * self.wait_interval_seconds
        if self.maximum_execution_timeout_seconds <= total:
            yield "maximum_execution_timeout_seconds", (
                f"must exceed the deployment's waiting time ({total} s: baking_seconds plus every wait interval)")

    def _step_problems(self, min_instances: int) -> Iterator[Problem]:
        # API TrafficRoutingConfig: a canary is at most 50 % of the variant, a linear step 10-50 %.
        low = 10 if self.traffic == "LINEAR" else 0
        if self.step_unit == "CAPACITY_PERCENT":
            if not low <= self.step_size <= 50:
                yield "step_size", f"a {self.traffic.lower()} step is {max(low, 1)}-50 percent of the variant"
        elif not low * min_instances <= 100 * self.step_size <= 50 * min_instances:
            yield "step_size", (f"a {self.traffic.lower()} step of {self.step_size} instances is not "
                                f"{low}-50 % of the variant's {min_instances} instances (autoscaling min_capacity)")


class FunctionCanary(Strict):
    """A weighted `live` alias while a new function version is tried (README "Releasing a Lambda model"):
    the alias stays on `stable_version` and sends `weight` of the invocations to the version this
    apply publishes (Lambda Developer Guide, "Create a routing configuration for a Lambda alias").
    Removing the section promotes the new version; rolling back keeps `stable_version` and sets
    `weight: 0` until the change is reverted."""

    stable_version: str = Field(pattern=r"^[1-9][0-9]{0,9}$")  # a published version: never $LATEST
    weight: float = Field(ge=0, lt=1)  # share of invocations for the new version (0: rolled back)


class FleetRefresh(Strict):
    """How a GPU fleet (`ec2.refresh`) replaces its instances when its launch template changes: an
    instance refresh that replaces `checkpoint_percentages` of the group in steps, waits
    `checkpoint_delay_seconds` at each checkpoint, fails when one of the model's rollback alarms
    fires and then rolls the group back to the previous launch template version (EC2 Auto Scaling
    User Guide, "Instance refresh": checkpoints, alarms, "Undo changes with a rollback"; API
    RefreshPreferences). The defaults are the safe release: a 20 % first step, ten minutes at each
    checkpoint, at least 90 % of the group healthy throughout."""

    min_healthy_percentage: int = Field(default=90, ge=0, le=100)  # of desired capacity, kept in service
    max_healthy_percentage: int = Field(default=110, ge=100, le=200)  # launch before terminate above 100
    # Ascending, unique, the last 100 (API RefreshPreferences.CheckpointPercentages).
    checkpoint_percentages: list[int] = Field(default=[20, 50, 100], min_length=1, max_length=100)
    checkpoint_delay_seconds: int = Field(default=600, ge=0, le=172800)  # wait at each checkpoint

    def problems(self, env) -> Iterator[Problem]:
        steps = self.checkpoint_percentages
        if any(not 1 <= p <= 100 for p in steps) or steps != sorted(set(steps)):
            yield "checkpoint_percentages", "must be unique percentages (1-100) in ascending order"
        elif steps[-1] != 100:
            yield "checkpoint_percentages", "the last checkpoint must be 100, or the refresh leaves old instances"
        if self.max_healthy_percentage - self.min_healthy_percentage > 100:
            yield "max_healthy_percentage", "AWS allows at most 100 points between min and max healthy percentage"
        if env.tier != "prod":
            return
        if len(steps) < 2:
            yield "checkpoint_percentages", "prod refreshes in steps: at least one checkpoint below 100"
        alarms = env.access.model_alarms
        window = alarms.period_seconds * alarms.evaluation_periods
        if self.checkpoint_delay_seconds < window:
            yield "checkpoint_delay_seconds", (
                f"must be at least the rollback alarms' evaluation window ({window} s: access.model_alarms "
                "period_seconds × evaluation_periods), or the refresh goes on before an alarm could fire")
