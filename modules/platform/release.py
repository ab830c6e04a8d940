"""The deployment guardrails of a real-time endpoint (`aws_sagemaker_endpoint.deployment_config`).

Every update of the endpoint config is a blue/green update: traffic moves to the new fleet as the
model's `sagemaker.deployment` says (release_settings.py), the old fleet stays for the baking
period, and SageMaker rolls back by itself when one of the model's rollback alarms fires. Those
alarms are the per-model latency and error alarms the access pillar creates under their
conventional names (`ServingKind.metrics.rollback`), so no cross-stack reference is needed; the
guardrails are read when the endpoint is updated, by which time the access stack has created them.
Serverless endpoints get none: deployment guardrails apply to real-time and asynchronous
endpoints only (SageMaker Developer Guide, "Deployment guardrails").
"""
from __future__ import annotations

from modules import aws
from modules.monitoring import DRIFT_ALARM_KEY
from modules.naming import Naming
from modules.platform.release_settings import ReleaseSettings
from modules.serving import KINDS


def rollback_alarm_names(naming: Naming, model: str, kind: str, *, drift: bool = False) -> list[str]:
    """The alarms whose firing rolls a release of `model` back, by name. `drift`: also Model Monitor's drift
    alarm (`sagemaker.monitor.rollback_on_drift`; off by default: data drift is about the requests, which a
    new model version does not change, and an hourly run rarely judges a baking fleet)."""
    keys = [*KINDS[kind].metrics.rollback, *([DRIFT_ALARM_KEY] if drift else [])]
    return [naming.alarm("model", model, key) for key in keys]


def deployment_config(settings: ReleaseSettings, alarm_names: list[str]):
    e = aws.sagemaker_endpoint
    step = {"type": settings.step_unit, "value": settings.step_size}
    routing = e.SagemakerEndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfiguration(
        type=settings.traffic, wait_interval_in_seconds=settings.wait_interval_seconds,
        canary_size=e.SagemakerEndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationCanarySize(
            **step) if settings.traffic == "CANARY" else None,
        linear_step_size=e.SagemakerEndpointDeploymentConfigBlueGreenUpdatePolicyTrafficRoutingConfigurationLinearStepSize(
            **step) if settings.traffic == "LINEAR" else None)
    return e.SagemakerEndpointDeploymentConfig(
        blue_green_update_policy=e.SagemakerEndpointDeploymentConfigBlueGreenUpdatePolicy(
            traffic_routing_configuration=routing, termination_wait_in_seconds=settings.baking_seconds,
            maximum_execution_timeout_in_seconds=settings.maximum_execution_timeout_seconds),
        auto_rollback_configuration=e.SagemakerEndpointDeploymentConfigAutoRollbackConfiguration(
            alarms=[e.SagemakerEndpointDeploymentConfigAutoRollbackConfigurationAlarms(alarm_name=name)
                    for name in alarm_names]))
