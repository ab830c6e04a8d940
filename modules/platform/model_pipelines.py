"""The MLOps pipeline of each model family (a model and its package group): a SageMaker Pipeline that
trains, evaluates, computes a data-quality baseline and registers the version PendingManualApproval
(modules/platform/pipeline_definition.py), run as a dedicated, bounded pipeline role.

The pipeline role starts the steps' jobs as the pipeline-jobs role (which it alone passes, to
SageMaker only), so whatever a job's container does, it cannot start jobs or register versions
itself, and what the steps write (training output, evaluation reports, baselines) no job that people
start can replace: the model-artifacts bucket lets only the pipeline-jobs role write there
unconditionally (modules/data/write_once.py). The boundary's job rules (VPC, this account's keys) and
the role's own guards (traffic encryption, isolation) hold for every job a pipeline starts; the
definition satisfies them, or the pipeline could not run.

The Baseline step runs the same analyzer image as the Model Monitor job definitions
(modules/monitoring.py `analyzer_image`), so a baseline and the schedule that judges against it come
from one analyzer.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.monitoring import analyzer_image
from modules.platform.context import PlatformContext
from modules.platform.pipeline_definition import PipelineInputs, pipeline_definition
from modules.platform.service_roles import ServiceRole
from modules.platform.training_settings import PipelineSettings
from modules.training import (
    PIPELINE_JOBS_ROLE,
    PIPELINE_ROLE,
    pipeline_jobs_statements,
    pipeline_name,
    pipeline_statements,
)


class ModelPipelines(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, *, models: list[str],
                 settings: PipelineSettings, job: dict, training_key: str):
        """`job`: the environment's training job template with `training_key` (plain strings and tokens
        read once by the caller)."""
        super().__init__(scope, construct_id)
        n = ctx.naming
        keys = f"arn:aws:kms:{n.region}:{n.account_id}:key/*"
        self.role = ServiceRole(
            self, "role", naming=n, purpose=PIPELINE_ROLE, service="sagemaker.amazonaws.com",
            description="SageMaker Pipelines: starts the steps' jobs as the pipeline-jobs role, registers pending versions",
            statements=pipeline_statements(n, keys))
        self.jobs_role = ServiceRole(
            self, "jobs-role", naming=n, purpose=PIPELINE_JOBS_ROLE, service="sagemaker.amazonaws.com",
            description="SageMaker Pipelines' jobs: datasets in, models/_pipelines/ and models/_baselines/ out",
            statements=pipeline_jobs_statements(n, keys))
        analyzer = analyzer_image(n.region)
        assert analyzer is not None, f"no Model Monitor analyzer in {n.region} (the schema refuses the region)"
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
                tags={"Model": model}, depends_on=[self.role.policy, self.jobs_role.policy])
            for model in models}
