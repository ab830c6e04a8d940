"""The MLOps pipeline of each model family (a model and its package group): a SageMaker Pipeline that
trains, evaluates, computes a data-quality baseline and registers the version PendingManualApproval
(modules/platform/pipeline_definition.py), run as a dedicated, bounded pipeline role.

The pipeline role starts the steps' jobs as the training role (which it passes, to SageMaker only),
so whatever a job's container does, it cannot start jobs or register versions itself. The boundary's
job rules (VPC, this account's keys) and the role's own guards (traffic encryption, isolation) hold for
every job a pipeline starts; the definition satisfies them, or the pipeline could not run.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.platform.context import PlatformContext
from modules.platform.pipeline_definition import PipelineInputs, pipeline_definition
from modules.platform.service_roles import ServiceRole
from modules.platform.training_settings import PipelineSettings
from modules.training import PIPELINE_ROLE, pipeline_name, pipeline_statements

# The Model Monitor analyzer's repository in the region's SageMaker registry (provider data source
# aws_sagemaker_prebuilt_ecr_image: resolved from a table in the provider, no API call).
ANALYZER_REPOSITORY = "sagemaker-model-monitor-analyzer"


class ModelPipelines(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, *, models: list[str],
                 settings: PipelineSettings, job: dict, training_key: str):
        """`job`: the environment's training job template with `training_key` (plain strings and tokens
        read once by the caller)."""
        super().__init__(scope, construct_id)
        n = ctx.naming
        self.role = ServiceRole(
            self, "role", naming=n, purpose=PIPELINE_ROLE, service="sagemaker.amazonaws.com",
            description="SageMaker Pipelines: starts the steps' jobs as the training role, registers pending versions",
            statements=pipeline_statements(n, f"arn:aws:kms:{n.region}:{n.account_id}:key/*"))
        analyzer = aws.data_aws_sagemaker_prebuilt_ecr_image.DataAwsSagemakerPrebuiltEcrImage(
            self, "analyzer-image", repository_name=ANALYZER_REPOSITORY).registry_path
        # Built from the naming convention (no token read per model); the policy must exist before a
        # pipeline is created with the role.
        role_arn = n.role_arn(PIPELINE_ROLE)
        self.pipelines = {
            model: aws.sagemaker_pipeline.SagemakerPipeline(
                self, f"pipeline-{model}", pipeline_name=pipeline_name(n, model),
                pipeline_display_name=pipeline_name(n, model),
                pipeline_description=f"Train, evaluate, baseline and register {model} pending manual approval",
                role_arn=role_arn,
                pipeline_definition=pipeline_definition(PipelineInputs(n, model, settings, job, training_key, analyzer)),
                parallelism_configuration={"max_parallel_execution_steps": settings.max_parallel_steps},
                tags={"Model": model}, depends_on=[self.role.policy])
            for model in models}
