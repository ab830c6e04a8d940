"""Model Monitor on the data real-time endpoints capture: per monitored model a data-quality job
definition and its monitoring schedule, all run as the environment's monitoring role.

Each job runs the built-in analyzer in the VPC's private subnets behind the SageMaker workloads'
security group, network-isolated (SageMaker moves the capture in and the results out; the analyzer
hands its metrics to SageMaker through the container contract), with inter-container traffic
encrypted and the inference key on its volume and its results, which go to `monitoring/<model>/` of
the inference bucket.

Apply order: the schedule names the endpoint, so it waits for it. The baseline is verified when the
stack is planned: `data.aws_s3_object` must find `statistics.json` and `constraints.json`, so a plan
before the pipeline's baseline step wrote them stops with S3's not-found error instead of a schedule
whose every run fails. Without a configured baseline (dev) the jobs profile the capture only.
"""
from __future__ import annotations

import hashlib
import json

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.monitoring import (
    MONITOR_ROLE,
    MONITORING_TYPE,
    PROCESSING_LOG_GROUP,
    analyzer_image,
    baseline_prefix,
    monitor_statements,
    monitoring_output_prefix,
    schedule_name,
)
from modules.platform.context import PlatformContext
from modules.platform.log_group import encrypted_log_group
from modules.platform.sagemaker_base import DATA_CAPTURE_PREFIX
from modules.platform.service_roles import ServiceRole
from modules.platform.settings import ModelSettings

JOB_DEFINITION_NAME_MAX = 63
BASELINE_FILES = ("statistics", "constraints")


def job_definition_name(ctx: PlatformContext, model: ModelSettings, job: dict) -> str:
    """`<prefix>-<model>-dq-<hash>`: job definitions cannot be updated, so a changed one is a new
    definition, created before the old one goes (the hash of what it is made of keeps names apart)."""
    digest = hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:8]
    base = ctx.naming.resource(model.name, "dq")
    return f"{ctx.naming.shortened(base, JOB_DEFINITION_NAME_MAX - len(digest) - 1)}-{digest}"


class ModelMonitoring(Construct):
    """`models`: the monitored ones (modules/monitoring.py `monitored`); `endpoints`: each model's
    endpoint resource, which its schedule waits for; `own_log_group`: create the processing jobs'
    log group (the training lane creates it when there is one)."""

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, *, models: list[ModelSettings],
                 endpoints: dict[str, object], subnet_ids: list[str], security_group_id: str,
                 own_log_group: bool):
        super().__init__(scope, construct_id)
        n = ctx.naming
        image = analyzer_image(n.region)
        assert image is not None, f"no Model Monitor analyzer in {n.region} (the schema refuses the region)"
        self.role = ServiceRole(
            self, "role", naming=n, purpose=MONITOR_ROLE, service="sagemaker.amazonaws.com",
            description="SageMaker Model Monitor: reads captured data and baselines, writes monitoring results",
            statements=monitor_statements(n, models, DATA_CAPTURE_PREFIX))
        role_arn = n.role_arn(MONITOR_ROLE)  # built, not read: one jsii round trip fewer per model
        self.log_group = encrypted_log_group(
            self, "log-group", name=PROCESSING_LOG_GROUP, kms_key_arn=ctx.keys.audit,
            retention_days=ctx.log_retention_days, protected=ctx.deletion_protection) if own_log_group else None
        self.job_definitions: dict[str, object] = {}
        self.schedules: dict[str, object] = {}
        for model in models:
            self._monitor(ctx, model, image, role_arn, endpoints[model.name], subnet_ids, security_group_id)

    def _monitor(self, ctx: PlatformContext, model: ModelSettings, image: str, role_arn: str, endpoint,
                 subnet_ids: list[str], security_group_id: str) -> None:
        n, settings = ctx.naming, model.sagemaker_settings.monitor
        j = aws.sagemaker_data_quality_job_definition
        artifacts, inference = ctx.bucket("model-artifacts"), ctx.bucket("inference")
        prefix = baseline_prefix(model)
        baseline = None
        if prefix is not None:
            uris = {f: f"s3://{artifacts}/{prefix}{f}.json" for f in BASELINE_FILES}
            for f in BASELINE_FILES:  # fails the plan while the baseline step has not written it
                aws.data_aws_s3_object.DataAwsS3Object(self, f"{model.name}-baseline-{f}", bucket=artifacts,
                                                       key=f"{prefix}{f}.json")
            baseline = j.SagemakerDataQualityJobDefinitionDataQualityBaselineConfig(
                statistics_resource=j.SagemakerDataQualityJobDefinitionDataQualityBaselineConfigStatisticsResource(
                    s3_uri=uris["statistics"]),
                constraints_resource=j.SagemakerDataQualityJobDefinitionDataQualityBaselineConfigConstraintsResource(
                    s3_uri=uris["constraints"]))
        endpoint_name = n.model_resource(model.name)
        output_uri = f"s3://{inference}/{monitoring_output_prefix(model.name)}"
        made_of = {"model": model.name, "image": image, "baseline": prefix, "instance": settings.instance_type,
                   "volume": settings.volume_size_gb, "runtime": settings.max_runtime_seconds, "output": output_uri}
        name = job_definition_name(ctx, model, made_of)
        self.job_definitions[model.name] = j.SagemakerDataQualityJobDefinition(
            self, f"{model.name}-data-quality", name=name, role_arn=role_arn,
            data_quality_app_specification=j.SagemakerDataQualityJobDefinitionDataQualityAppSpecification(
                image_uri=image),
            data_quality_baseline_config=baseline,
            data_quality_job_input=j.SagemakerDataQualityJobDefinitionDataQualityJobInput(
                endpoint_input=j.SagemakerDataQualityJobDefinitionDataQualityJobInputEndpointInput(
                    endpoint_name=endpoint_name)),
            data_quality_job_output_config=j.SagemakerDataQualityJobDefinitionDataQualityJobOutputConfig(
                kms_key_id=ctx.keys.inference,
                monitoring_outputs=j.SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputs(
                    s3_output=j.SagemakerDataQualityJobDefinitionDataQualityJobOutputConfigMonitoringOutputsS3Output(
                        s3_uri=output_uri))),
            job_resources=j.SagemakerDataQualityJobDefinitionJobResources(
                cluster_config=j.SagemakerDataQualityJobDefinitionJobResourcesClusterConfig(
                    instance_count=1, instance_type=settings.instance_type,
                    volume_size_in_gb=settings.volume_size_gb, volume_kms_key_id=ctx.keys.inference)),
            network_config=j.SagemakerDataQualityJobDefinitionNetworkConfig(
                enable_network_isolation=True, enable_inter_container_traffic_encryption=True,
                vpc_config=j.SagemakerDataQualityJobDefinitionNetworkConfigVpcConfig(
                    subnets=subnet_ids, security_group_ids=[security_group_id])),
            stopping_condition=j.SagemakerDataQualityJobDefinitionStoppingCondition(
                max_runtime_in_seconds=settings.max_runtime_seconds),
            tags={"Model": model.name},
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
            depends_on=[self.role.policy, *([self.log_group] if self.log_group is not None else [])])
        s = aws.sagemaker_monitoring_schedule
        self.schedules[model.name] = s.SagemakerMonitoringSchedule(
            self, f"{model.name}-schedule", name=schedule_name(n, model.name),
            monitoring_schedule_config=s.SagemakerMonitoringScheduleMonitoringScheduleConfig(
                monitoring_job_definition_name=name, monitoring_type=MONITORING_TYPE,
                schedule_config=s.SagemakerMonitoringScheduleMonitoringScheduleConfigScheduleConfig(
                    schedule_expression=settings.schedule)),
            tags={"Model": model.name}, depends_on=[endpoint, self.job_definitions[model.name]])
