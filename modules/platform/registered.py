"""What a model serves when its configuration names a registered version (`model_package_version`):
the version's model package, deployed by ARN, verified when the platform stack is planned.

The package was registered by `model publish --register` (image by digest, artifact in the model's
own folder `models/<model>/`) or by the model's pipeline (artifact in the pipeline's training folder
`models/_pipelines/<model>/training/`, where only the pipeline-jobs role creates objects), and stays PendingManualApproval
until the model-approver approves it. Terraform reads it through the Cloud Control API
(`AWS::SageMaker::ModelPackage`, identified by its ARN) and lifecycle postconditions stop the plan,
before anything is created, unless it is Approved, runs an image by digest from the model's own
repository and serves an artifact from one of those two folders of the model-artifacts bucket (both
write-once for everyone who could change an approved version's artifact: modules/data/write_once.py);
the model's execution role reads both (sagemaker_base.py), as SageMaker fetches the artifact with it.
A version that does not exist fails the read itself.
"""
from __future__ import annotations

from cdktf import Postcondition, TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.platform.context import PlatformContext
from modules.platform.published import PUBLISHING
from modules.platform.settings import ModelSettings
from modules.training import package_group, pipeline_training_folder

APPROVED = "Approved"
PROPERTIES = "jsondecode(self.properties)"


def package_arn(ctx: PlatformContext, model: ModelSettings) -> str:
    n = ctx.naming
    return (f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/"
            f"{package_group(n, model.name)}/{model.model_package_version}")


def artifact_prefixes(model: ModelSettings) -> tuple[str, str]:
    """Where a deployable version's artifact may be (keys of the model-artifacts bucket): the model's
    published folder, or its pipeline's training output (not its code, checkpoints or evaluation)."""
    return model.artifact_prefix(), pipeline_training_folder(model.name)


def artifact_folders(bucket: str, model: ModelSettings) -> tuple[str, ...]:
    return tuple(f"s3://{bucket}/{prefix}" for prefix in artifact_prefixes(model))


def served_from(folders: tuple[str, ...]) -> str:
    """The HCL test that a container's ModelDataUrl starts with one of `folders`."""
    return "(" + " || ".join(f'startswith(c.ModelDataUrl, "{f}")' for f in folders) + ")"


class RegisteredModel(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings):
        super().__init__(scope, construct_id)
        n = ctx.naming
        self.arn = package_arn(ctx, model)
        what = f"{n.env} model {model.name} package version {model.model_package_version}"
        repository = f"{n.registry}/{n.model_repository(model.name)}@sha256:"
        folders = artifact_folders(ctx.bucket("model-artifacts"), model)
        containers = f"{PROPERTIES}.InferenceSpecification.Containers"
        aws.data_aws_cloudcontrolapi_resource.DataAwsCloudcontrolapiResource(
            self, "package", type_name="AWS::SageMaker::ModelPackage", identifier=self.arn,
            lifecycle=TerraformResourceLifecycle(postcondition=[
                Postcondition(
                    condition=f'${{{PROPERTIES}.ModelApprovalStatus == "{APPROVED}"}}',
                    error_message=f"{what} ({self.arn}) is not Approved: the model-approver approves it in the "
                                  f"registry before it is deployed ({PUBLISHING})."),
                Postcondition(
                    condition=f'${{alltrue([for c in {containers} : startswith(c.Image, "{repository}")])}}',
                    error_message=f"{what} runs an image that is not in {n.model_repository(model.name)} by digest: "
                                  "register versions with model publish --register --image <repository>@sha256:…"),
                Postcondition(
                    condition=f'${{alltrue([for c in {containers} : {served_from(folders)}])}}',
                    error_message=f"{what} serves an artifact outside {' and '.join(folders)}: register versions "
                                  "with model publish --register or the model's pipeline"),
            ]))
