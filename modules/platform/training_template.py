"""The environment's training job template: the parts of a `CreateTrainingJob` request that make a
job acceptable here, as a JSON document in SSM Parameter Store (`/<project>/<env>/training/job-template`),
for notebooks, pipelines and the CLI to merge their algorithm, data and instances into:

- the training role, the VPC (private subnets, the training security group), network isolation and
  inter-container traffic encryption, the training key on the job's volumes and the model key on its
  output (the model-artifacts bucket requires it) under `models/_training/`: what the boundary and the
  persona policies require, so a job built from the template is never denied; a second parameter
  (`…/job-template-local-storage`) leaves the volume key out for instance types with local NVMe storage
  (g4dn, g5, p4d, the `*d` families …), on which SageMaker refuses a VolumeKmsKeyId and the boundary
  does not require one (modules/boundary.py);
- managed Spot training (`platform.training.spot`), the seed's cost point: `MaxWaitTimeInSeconds`
  bounds the wait for capacity, and the checkpoint location under `models/_checkpoints/` lets an
  interrupted job resume instead of starting over.

The parameter holds no secret (IDs, ARNs, S3 locations), so it is a String parameter.
"""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.lookups import data_key_arn
from modules.platform.context import PlatformContext
from modules.platform.training_settings import SpotSettings
from modules.suppress import suppress
from modules.training import (
    CHECKPOINT_PREFIX,
    TRAINING_OUTPUT_PREFIX,
    local_storage_template_parameter_name,
    template_parameter_name,
    training_role_arn,
)


def job_template(ctx: PlatformContext, *, subnet_ids: list[str], security_group_id: str, training_key: str | None,
                 spot: SpotSettings) -> dict:
    """`training_key` None: the template for local-storage instance types (no VolumeKmsKeyId)."""
    artifacts = ctx.bucket("model-artifacts")
    stopping: dict = {"MaxRuntimeInSeconds": spot.max_run_seconds}
    template: dict = {
        "RoleArn": training_role_arn(ctx.naming),
        "VpcConfig": {"Subnets": list(subnet_ids), "SecurityGroupIds": [security_group_id]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "ResourceConfig": {"VolumeKmsKeyId": training_key} if training_key else {},
        "OutputDataConfig": {"S3OutputPath": f"s3://{artifacts}/{TRAINING_OUTPUT_PREFIX}", "KmsKeyId": ctx.keys.model},
        "EnableManagedSpotTraining": spot.enabled,
        "StoppingCondition": stopping,
    }
    if spot.enabled:
        stopping["MaxWaitTimeInSeconds"] = spot.max_wait_seconds
        template["CheckpointConfig"] = {"S3Uri": f"s3://{artifacts}/{CHECKPOINT_PREFIX}"}
    return template


class TrainingTemplate(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, *, subnet_ids: list[str],
                 security_group, spot: SpotSettings):
        super().__init__(scope, construct_id)
        # Read once (jsii round trips); the pipelines build their jobs from the same template.
        self.training_key = data_key_arn(self, "training")
        security_group_id = security_group.id
        self.job = job_template(ctx, subnet_ids=subnet_ids, security_group_id=security_group_id,
                                training_key=self.training_key, spot=spot)
        variants = ((template_parameter_name(ctx.naming), "parameter", self.training_key,
                     "CreateTrainingJob settings every training job of the environment starts from"),
                    (local_storage_template_parameter_name(ctx.naming), "local-storage-parameter", None,
                     "CreateTrainingJob settings for jobs on instance types with local NVMe storage (no volume key)"))
        for name, construct_id, training_key, description in variants:
            template = self.job if training_key else job_template(
                ctx, subnet_ids=subnet_ids, security_group_id=security_group_id, training_key=None, spot=spot)
            parameter = aws.ssm_parameter.SsmParameter(
                self, construct_id, name=name, type="String", tier="Standard", description=description,
                value=json.dumps(template, sort_keys=True))
            suppress(parameter, "CKV2_AWS_34",
                     "Holds no secret: subnet and security group IDs, role and key ARNs and S3 locations of the "
                     "training job template, which every training persona reads", "2027-11-30")
            if training_key:
                self.parameter = parameter
        suppress(security_group, "CKV2_AWS_5",
                 "Attached to the training jobs launched from the job template (VpcConfig.SecurityGroupIds), "
                 "which are not Terraform resources", "2027-11-30")
