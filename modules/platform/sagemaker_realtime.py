"""`serving: sagemaker` — an instance-backed real-time endpoint.

Model in the VPC's private subnets with network isolation; endpoint config encrypted with the
inference key and capturing a sample of requests and responses (encrypted) into the inference
bucket; a variant autoscaled on invocations per instance, with optional scheduled actions; every
update released blue/green with alarm rollback (release.py).
"""
from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.platform.autoscaling import SAGEMAKER_INSTANCES, TargetTracking
from modules.platform.context import PlatformContext, ServingDependencies
from modules.platform.release import deployment_config, rollback_alarm_names
from modules.platform.sagemaker_base import VARIANT, SageMakerModelBase, data_capture_uri
from modules.platform.settings import ModelSettings
from modules.suppress import suppress


class SageMakerRealtime(SageMakerModelBase):
    @classmethod
    def serve(cls, scope: Construct, construct_id: str, model: ModelSettings,
              deps: ServingDependencies) -> "SageMakerRealtime":
        group = deps.security_group("sagemaker")
        built = cls(scope, construct_id, deps.ctx, model, subnet_ids=deps.network.private_subnet_ids,
                    security_group_id=deps.security_group_id("sagemaker"))
        # Suppressed once a model's vpc_config names the group: the attachment the reason states.
        suppress(group, "CKV2_AWS_5",
                 "Attached to the SageMaker models through aws_sagemaker_model.vpc_config, a connection "
                 "checkov's graph does not follow; the tests assert the attachment", "2027-11-30")
        return built

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 subnet_ids: list[str], security_group_id: str):
        vpc = aws.sagemaker_model.SagemakerModelVpcConfig(subnets=subnet_ids, security_group_ids=[security_group_id])
        monitor = model.sagemaker_settings.monitor
        rollback_alarms = rollback_alarm_names(
            ctx.naming, model.name, model.serving,
            drift=monitor.enabled and monitor.rollback_on_drift and bool(monitor.drift_features))
        super().__init__(scope, construct_id, ctx, model, vpc_config=vpc, data_capture=True,
                         rollback_alarms=tuple(rollback_alarms))
        self.rollback_alarms = rollback_alarms
        s = model.sagemaker_settings
        c = aws.sagemaker_endpoint_configuration
        self.endpoint_config = c.SagemakerEndpointConfiguration(
            self, "endpoint-config", name_prefix=self.config_name_prefix, kms_key_arn=ctx.keys.inference,
            production_variants=[c.SagemakerEndpointConfigurationProductionVariants(
                variant_name=VARIANT, model_name=self.model.name, instance_type=s.instance_type,
                initial_instance_count=s.initial_instance_count, initial_variant_weight=1)],
            data_capture_config=c.SagemakerEndpointConfigurationDataCaptureConfig(
                enable_capture=True, initial_sampling_percentage=s.data_capture_percent,
                destination_s3_uri=data_capture_uri(ctx, model), kms_key_id=ctx.keys.inference,
                capture_options=[c.SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions(capture_mode="Input"),
                                 c.SagemakerEndpointConfigurationDataCaptureConfigCaptureOptions(capture_mode="Output")],
                capture_content_type_header=c.SagemakerEndpointConfigurationDataCaptureConfigCaptureContentTypeHeader(
                    json_content_types=["application/json"])),
            tags={"Model": model.name},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        self.endpoint(self.endpoint_config, deployment_config(s.deployment, self.rollback_alarms))
        self.scaling = TargetTracking(
            self, "autoscaling", dimension=SAGEMAKER_INSTANCES, resource_id=self.resource_id,
            policy_name=f"{self.endpoint_name}-invocations", scaling=s.autoscaling,
            target_value=s.autoscaling.target_invocations_per_instance, depends_on=[self.endpoint_resource],
            scheduled=s.autoscaling.scheduled_actions)
