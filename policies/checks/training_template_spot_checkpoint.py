"""CKV_AEGIS_44: the training job template starts isolated jobs, and checkpoints where it uses Spot.

The environment's job template (an SSM parameter named `…/training/job-template`, JSON of
`CreateTrainingJob` fields) is what every notebook and pipeline starts from. With managed Spot
training, SageMaker may stop the job whenever the capacity is reclaimed: without a checkpoint
location (`CheckpointConfig.S3Uri`) it starts over from nothing each time, and without
`MaxWaitTimeInSeconds` (at least `MaxRuntimeInSeconds`, as SageMaker requires) the request is
refused. The template must also carry what the boundary and the persona policies require of every
job: VPC subnets and security groups, network isolation, inter-container traffic encryption, a
volume key and an output key. The local-storage variant (`…/training/job-template-local-storage`,
for instance types with local NVMe storage, on which SageMaker refuses a volume key) must name none,
so its jobs are not refused. Parameters of other names are not judged; a template that is not
JSON fails. Not environment-dependent.
"""
import json

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, value

TEMPLATE_SUFFIX = "/training/job-template"
LOCAL_STORAGE_SUFFIX = "/training/job-template-local-storage"


class TrainingTemplateSpotCheckpoint(AegisCheck):
    def __init__(self) -> None:
        super().__init__("CKV_AEGIS_44", "Training job template starts isolated jobs and checkpoints Spot training",
                         ["aws_ssm_parameter"], [CheckCategories.GENERAL_SECURITY, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        name = value(conf, "name")
        if not isinstance(name, str) or not name.endswith((TEMPLATE_SUFFIX, LOCAL_STORAGE_SUFFIX)):
            return self.not_applicable()
        self.evaluated_keys = ["value"]
        try:
            template = json.loads(value(conf, "value"))
        except (TypeError, ValueError):
            return self.fail("the training job template is not JSON: its jobs cannot be judged")
        if not isinstance(template, dict):
            return self.fail("the training job template is not a JSON object")
        for problem in _problems(template, local_storage=name.endswith(LOCAL_STORAGE_SUFFIX)):
            return self.fail(problem)
        return CheckResult.PASSED


def _problems(template: dict, *, local_storage: bool):
    vpc = template.get("VpcConfig") or {}
    if not vpc.get("Subnets") or not vpc.get("SecurityGroupIds"):
        yield "the template has no VpcConfig with subnets and security groups: its jobs are denied or run outside the VPC"
    for flag in ("EnableNetworkIsolation", "EnableInterContainerTrafficEncryption"):
        if template.get(flag) is not True:
            yield f"the template does not set {flag}: true"
    volume_key = (template.get("ResourceConfig") or {}).get("VolumeKmsKeyId")
    if local_storage and volume_key:
        yield "the local-storage template names a VolumeKmsKeyId, which SageMaker refuses on those instance types"
    if not local_storage and not volume_key:
        yield "the template names no ResourceConfig.VolumeKmsKeyId"
    if not (template.get("OutputDataConfig") or {}).get("KmsKeyId"):
        yield "the template names no OutputDataConfig.KmsKeyId"
    if template.get("EnableManagedSpotTraining") is True:
        checkpoint = (template.get("CheckpointConfig") or {}).get("S3Uri")
        if not isinstance(checkpoint, str) or not checkpoint.startswith("s3://"):
            yield "managed Spot training without CheckpointConfig.S3Uri: an interrupted job starts over"
        stopping = template.get("StoppingCondition") or {}
        wait, run = stopping.get("MaxWaitTimeInSeconds"), stopping.get("MaxRuntimeInSeconds")
        if not isinstance(wait, int) or not isinstance(run, int) or wait < run:
            yield ("managed Spot training needs StoppingCondition.MaxWaitTimeInSeconds at least MaxRuntimeInSeconds "
                   f"(got {wait!r} and {run!r})")


check = TrainingTemplateSpotCheckpoint()
