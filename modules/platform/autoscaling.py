"""Application Auto Scaling: a scalable target and a target-tracking policy (plus scheduled actions).

Used for SageMaker variants (instances or provisioned concurrency) and Lambda aliases (provisioned
concurrency). Cooldowns come from config, where scale-in is checked to be slower than scale-out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from constructs import Construct

from modules import aws
from modules.platform.settings import ScheduledScaling, _Scaling


@dataclass(frozen=True)
class Dimension:
    service_namespace: str
    scalable_dimension: str
    metric: str


SAGEMAKER_INSTANCES = Dimension("sagemaker", "sagemaker:variant:DesiredInstanceCount",
                                "SageMakerVariantInvocationsPerInstance")
SAGEMAKER_PROVISIONED = Dimension("sagemaker", "sagemaker:variant:DesiredProvisionedConcurrency",
                                  "SageMakerVariantProvisionedConcurrencyUtilization")
LAMBDA_PROVISIONED = Dimension("lambda", "lambda:function:ProvisionedConcurrency",
                               "LambdaProvisionedConcurrencyUtilization")


class TargetTracking(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, dimension: Dimension, resource_id: str,
                 policy_name: str, scaling: _Scaling, target_value: float, depends_on: list,
                 scheduled: Sequence[ScheduledScaling] = ()):
        super().__init__(scope, construct_id)
        self.target = aws.appautoscaling_target.AppautoscalingTarget(
            self, "target", service_namespace=dimension.service_namespace, resource_id=resource_id,
            scalable_dimension=dimension.scalable_dimension, min_capacity=scaling.min_capacity,
            max_capacity=scaling.max_capacity, depends_on=depends_on)
        # The target's attributes, as Terraform expressions on its address (one jsii round trip instead of
        # three reads); referencing them orders the policy and the schedules after the target.
        address = self.target.fqn
        target = {key: f"${{{address}.{key}}}" for key in ("service_namespace", "resource_id", "scalable_dimension")}
        p = aws.appautoscaling_policy
        self.policy = p.AppautoscalingPolicy(
            self, "policy", name=policy_name, policy_type="TargetTrackingScaling", **target,
            target_tracking_scaling_policy_configuration=p.AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                target_value=target_value,
                predefined_metric_specification=p.AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                    predefined_metric_type=dimension.metric),
                scale_in_cooldown=scaling.scale_in_cooldown_seconds,
                scale_out_cooldown=scaling.scale_out_cooldown_seconds,
                disable_scale_in=False))
        s = aws.appautoscaling_scheduled_action
        for action in scheduled:
            s.AppautoscalingScheduledAction(
                self, f"schedule-{action.name}", name=f"{policy_name}-{action.name}", **target,
                schedule=action.schedule,
                timezone=action.timezone,
                scalable_target_action=s.AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(action.min_capacity), max_capacity=str(action.max_capacity)))
