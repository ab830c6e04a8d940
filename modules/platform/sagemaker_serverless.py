"""`serving: sagemaker-serverless` — a serverless endpoint.

AWS does not support VPC config, network isolation or data capture for serverless endpoints, so
those are absent here; the endpoint config still carries the inference key. Provisioned
concurrency, when configured, is autoscaled on its utilization.
"""
from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.platform.autoscaling import SAGEMAKER_PROVISIONED, TargetTracking
from modules.platform.context import PlatformContext, ServingDependencies
from modules.platform.sagemaker_base import VARIANT, SageMakerModelBase
from modules.platform.settings import ModelSettings
from modules.suppress import suppress


class SageMakerServerless(SageMakerModelBase):
    @classmethod
    def serve(cls, scope: Construct, construct_id: str, model: ModelSettings,
              deps: ServingDependencies) -> "SageMakerServerless":
        return cls(scope, construct_id, deps.ctx, model)

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings):
        super().__init__(scope, construct_id, ctx, model, vpc_config=None, data_capture=False)
        if not self.network_isolated:
            suppress(self.model, "CKV_AWS_370",
                     "SageMaker Serverless Inference does not support network isolation or VPC config (AWS feature "
                     "exclusion); the container runs in AWS-managed isolation and reads only its own artifact "
                     "prefix", "2027-11-30")
        s = model.serverless_settings
        pc = s.provisioned_concurrency
        c = aws.sagemaker_endpoint_configuration
        self.endpoint_config = c.SagemakerEndpointConfiguration(
            self, "endpoint-config", name_prefix=self.config_name_prefix, kms_key_arn=ctx.keys.inference,
            production_variants=[c.SagemakerEndpointConfigurationProductionVariants(
                variant_name=VARIANT, model_name=self.model.name,
                serverless_config=c.SagemakerEndpointConfigurationProductionVariantsServerlessConfig(
                    memory_size_in_mb=s.memory_size_mb, max_concurrency=s.max_concurrency,
                    provisioned_concurrency=pc.min_capacity if pc else None))],
            tags={"Model": model.name},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True))
        self.endpoint(self.endpoint_config)
        self.scaling = None
        if pc is not None:
            self.scaling = TargetTracking(
                self, "autoscaling", dimension=SAGEMAKER_PROVISIONED, resource_id=self.resource_id,
                policy_name=f"{self.endpoint_name}-provisioned-concurrency", scaling=pc,
                target_value=pc.target_utilization, depends_on=[self.endpoint_resource])
