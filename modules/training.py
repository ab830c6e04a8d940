"""The training lane's names and IAM rules, shared by the platform pillar (which creates the training
execution role, the Studio domain and its roles) and the access pillar (whose personas pass the
training role and start jobs).

- The training execution role `<prefix>-sagemaker-training` reads the datasets and writes its output
  and Spot checkpoints under `models/_training/` and `models/_checkpoints/` of the model-artifacts
  bucket only (never a published version's folder), with the
  training key (datasets, job volumes) and the model key (the model-artifacts bucket's key, which its
  bucket policy requires). Its name does not end in `-exec`: model execution roles are never passed
  to training jobs.
- Studio execution roles `<prefix>-studio-<persona>`, one per human persona that works in Studio.
- The pipeline role `<prefix>-sagemaker-pipeline`: SageMaker Pipelines runs each model's pipeline
  (modules/platform/model_pipelines.py) as it; it starts the jobs as the pipeline-jobs role, reads the
  evaluation report and registers versions PendingManualApproval, nothing else.
- The pipeline-jobs role `<prefix>-sagemaker-pipeline-jobs`, which only the pipeline role passes:
  the pipelines' steps run as it and alone write what promotion and Model Monitor trust (training
  output and evaluation reports under `models/_pipelines/<model>/`, baselines under
  `models/_baselines/<model>/`). Jobs that people start run as the training role, which writes only
  `models/_training/` and `models/_checkpoints/`, where nothing downstream reads.
- `JOB_GUARDS`: the deny-unless rules for training, processing and tuning jobs that the policy of
  every role allowed to start them carries (the permission boundary holds the VPC and key rules).
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from modules.boundary import LOCAL_STORAGE_INSTANCE_PATTERNS
from modules.iam_doc import Statement, statement
from modules.naming import Naming
from modules.platform.settings import REGISTRY_KINDS

if TYPE_CHECKING:
    from modules.config import EnvConfig

TRAINING_ROLE = "sagemaker-training"
# Human personas that get a Studio user profile and execution role (in this order).
STUDIO_PERSONAS = ("data-scientist", "ml-engineer")
# Where training writes in the model-artifacts bucket. Model names are DNS names (no "_"), so these
# prefixes never collide with a published version's `models/<model>/<version>/`.
MODELS_PREFIX = "models/"
TRAINING_OUTPUT_PREFIX = f"{MODELS_PREFIX}_training/"
CHECKPOINT_PREFIX = f"{MODELS_PREFIX}_checkpoints/"
# The pipelines' code and evaluation reports, and the data-quality baselines they compute: the
# baseline of a registered version is `models/_baselines/<model>/<pipeline execution id>/`
# (statistics.json, constraints.json), recorded in the version's DriftCheckBaselines, and is what a
# monitoring schedule of that version names as its baseline location.
PIPELINE_PREFIX = f"{MODELS_PREFIX}_pipelines/"
BASELINE_PREFIX = f"{MODELS_PREFIX}_baselines/"
# What jobs running as the training role write (SageMaker uploads them unconditionally, and rewrites
# checkpoints as a job runs), so these stay outside the published versions' write-once rule.
TRAINING_JOB_PREFIXES = (TRAINING_OUTPUT_PREFIX, CHECKPOINT_PREFIX)
# What the pipelines' jobs write, as the pipeline-jobs role only (write-once for everyone else).
PIPELINE_JOB_PREFIXES = (PIPELINE_PREFIX, BASELINE_PREFIX)
# The folders of a pipeline's `models/_pipelines/<model>/` that only its jobs create objects in (its
# code, the other folder, is placed by the ml-engineer).
PIPELINE_JOB_FOLDERS = ("training/", "evaluation/", "checkpoints/")
PIPELINE_ROLE = "sagemaker-pipeline"
PIPELINE_JOBS_ROLE = "sagemaker-pipeline-jobs"
PENDING_APPROVAL = "PendingManualApproval"
# SageMaker Pipelines names the jobs it starts `pipelines-<execution id>-<step name>-<suffix>`.
PIPELINE_JOB_PREFIX = "pipelines-"

DATA_STORE = "training-store"  # the training data store's cluster: `<prefix>-training-store`
# Jobs running as the training role connect to the data store as this database user (`training_job`).
JOB_DB_PERSONA = "training-job"
JOB_ACTIONS = ("sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateProcessingJob",
               "sagemaker:CreateTrainingJob")
# Jobs that must be network-isolated. Processing jobs run as the training role connect to the
# training data store where the environment has one (modules/platform/training_role.py), which an
# isolated container cannot: there, people's processing jobs are left unisolated (and write only
# models/_training/ and _checkpoints/); the pipelines' never are.
ISOLATED_JOB_ACTIONS = ("sagemaker:CreateHyperParameterTuningJob", "sagemaker:CreateTrainingJob")
# Log groups SageMaker writes job logs to (AWS-fixed names); the platform creates them encrypted.
JOB_LOG_GROUPS = ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs")


def template_parameter_name(naming: Naming) -> str:
    """The SSM parameter holding the environment's training job template (modules/platform/training_template.py)."""
    return f"/{naming.project}/{naming.env}/training/job-template"


def local_storage_template_parameter_name(naming: Naming) -> str:
    """The same template for jobs on instance types with local NVMe storage, which take no volume key."""
    return f"{template_parameter_name(naming)}-local-storage"


def read_job_template(naming: Naming) -> Statement:
    """Read the environment's training job templates (String parameters: no key needed)."""
    parameters = f"arn:aws:ssm:{naming.region}:{naming.account_id}:parameter"
    return statement("ReadTrainingJobTemplate", "Allow", "ssm:GetParameter",
                     [f"{parameters}{name(naming)}"
                      for name in (template_parameter_name, local_storage_template_parameter_name)])


def db_user(persona: str) -> str:
    """The training data store's database user of a persona (IAM authentication: created once with
    `CREATE USER data_scientist; GRANT rds_iam TO data_scientist;`)."""
    return persona.replace("-", "_")


def connect_to_data_store(naming: Naming, persona: str) -> Statement:
    """An IAM authentication token for the persona's own database user of the training data store."""
    return statement("ConnectToTrainingDataStore", "Allow", "rds-db:connect",
                     f"arn:aws:rds-db:{naming.region}:{naming.account_id}:dbuser:*/{db_user(persona)}")


def studio_role(persona: str) -> str:
    return f"studio-{persona}"


def training_role_arn(naming: Naming) -> str:
    return naming.role_arn(TRAINING_ROLE)


def pipeline_jobs_role_arn(naming: Naming) -> str:
    return naming.role_arn(PIPELINE_JOBS_ROLE)


def job_guards(*, isolate_processing: bool = True) -> list[Statement]:
    """Deny-unless rules AWS enforces on every job request. `BoolIfExists … false` matches an absent
    key too, so a request that leaves the setting out (the API's default, off) is denied
    (`sagemaker:NetworkIsolation` is a condition key of CreateProcessingJob as it is of training and tuning
    jobs). `isolate_processing` False only where processing jobs reach the training data store."""
    isolated = [*ISOLATED_JOB_ACTIONS, *(["sagemaker:CreateProcessingJob"] if isolate_processing else [])]
    return [
        statement("DenyJobsWithoutTrafficEncryption", "Deny", list(JOB_ACTIONS), "*",
                  condition={"BoolIfExists": {"sagemaker:InterContainerTrafficEncryption": "false"}}),
        statement("DenyJobsWithoutNetworkIsolation", "Deny", sorted(isolated), "*",
                  condition={"BoolIfExists": {"sagemaker:NetworkIsolation": "false"}}),
    ]


def pass_training_role(naming: Naming) -> Statement:
    """iam:PassRole of the training execution role, to SageMaker only."""
    return statement("PassTrainingRole", "Allow", "iam:PassRole", training_role_arn(naming),
                     condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})


def pass_pipeline_jobs_role(naming: Naming) -> Statement:
    """iam:PassRole of the pipeline-jobs role, to SageMaker only (the pipeline role alone holds it)."""
    return statement("PassPipelineJobsRole", "Allow", "iam:PassRole", pipeline_jobs_role_arn(naming),
                     condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})


def training_execution_statements(naming: Naming, keys_pattern: str) -> list[Statement]:
    """What a training or processing job people start may do as the training role (`keys_pattern`:
    this account's keys; the key conditions pick the class by alias): read models/, write its own
    output and checkpoints."""
    return job_execution_statements(naming, keys_pattern, reads=(MODELS_PREFIX,), writes=TRAINING_JOB_PREFIXES)


def pipeline_jobs_statements(naming: Naming, keys_pattern: str) -> list[Statement]:
    """What a pipeline's steps may do as the pipeline-jobs role: read the pipelines' folders (training
    output, evaluation code) and write them and the baselines."""
    return job_execution_statements(naming, keys_pattern, reads=(PIPELINE_PREFIX,), writes=PIPELINE_JOB_PREFIXES)


def job_execution_statements(naming: Naming, keys_pattern: str, *, reads: tuple[str, ...],
                             writes: tuple[str, ...]) -> list[Statement]:
    """A job execution role: datasets in; `reads` and `writes` are key prefixes of the model-artifacts bucket."""
    r, a, p = naming.region, naming.account_id, naming.prefix
    datasets, artifacts = naming.bucket_arn("datasets"), naming.bucket_arn("model-artifacts")
    log_groups = [f"arn:aws:logs:{r}:{a}:log-group:{g}" for g in JOB_LOG_GROUPS]

    def keys(key_class: str) -> dict:
        return {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [naming.kms_alias(key_class)]},
                "StringEquals": {"kms:ViaService": [f"s3.{r}.amazonaws.com", f"sagemaker.{r}.amazonaws.com"]}}

    return [
        statement("ListDatasets", "Allow", "s3:ListBucket", datasets),
        statement("ReadDatasets", "Allow", "s3:GetObject", f"{datasets}/*"),
        statement("ListModelsPrefix", "Allow", "s3:ListBucket", artifacts,
                  condition={"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in reads]}}),
        statement("ReadModelsPrefix", "Allow", "s3:GetObject", [f"{artifacts}/{prefix}*" for prefix in reads]),
        # Jobs' own output only: published versions (`models/<model>/<version>/`) come from
        # `model publish`, never from a job's code.
        statement("WriteTrainingOutput", "Allow", ["s3:AbortMultipartUpload", "s3:PutObject"],
                  [f"{artifacts}/{prefix}*" for prefix in writes]),
        statement("UseTrainingKey", "Allow", ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
                                              "kms:GenerateDataKey"], keys_pattern, condition=keys("training")),
        statement("UseModelKey", "Allow", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                  keys_pattern, condition=keys("model")),
        statement("PullEnvironmentImages", "Allow",
                  ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                  f"arn:aws:ecr:{r}:{a}:repository/{p}-*"),
        # No resource-level permissions: ecr:GetAuthorizationToken and the ec2:Describe* calls.
        statement("JobNetworkNoResourceLevel", "Allow",
                  ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                   "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ecr:GetAuthorizationToken"], "*"),
        statement("ManageJobNetworkInterfaces", "Allow",
                  ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                   "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
                  f"arn:aws:ec2:{r}:{a}:*"),
        statement("WriteJobLogs", "Allow", ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                  [f"{g}:log-stream:*" for g in log_groups] + log_groups),
        statement("PublishJobMetrics", "Allow", "cloudwatch:PutMetricData", "*",
                  condition={"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}),
    ]


def studio_personas(config: "EnvConfig") -> list[str]:
    """The enabled personas that get a Studio user profile (none without training or Studio)."""
    training = config.platform.training
    if not (training.enabled and training.studio.enabled):
        return []
    enabled = config.access.enabled_personas()
    return [p for p in STUDIO_PERSONAS if p in enabled]


def training_roles(config: "EnvConfig") -> list[str]:
    """Purposes (`<prefix>-<purpose>`) of the roles the training lane creates in this environment."""
    if not config.platform.training.enabled:
        return []
    pipelines = [PIPELINE_ROLE, PIPELINE_JOBS_ROLE] if pipeline_models(config) else []
    return [TRAINING_ROLE, *(studio_role(p) for p in studio_personas(config)), *pipelines]


def has_local_storage(instance_type: str) -> bool:
    """Instance types with local NVMe storage take no volume key (modules/boundary.py); IAM's `*` is fnmatch's."""
    return any(fnmatchcase(instance_type, pattern) for pattern in LOCAL_STORAGE_INSTANCE_PATTERNS)


def pipeline_models(config: "EnvConfig") -> list[str]:
    """Models with a pipeline: a model family is one model and the versions of its package group, and
    only models whose serving kind deploys a registered version (by its ARN) get one: a SageMaker model."""
    training = config.platform.training
    if not (training.enabled and training.pipeline.enabled):
        return []
    return [m.name for m in config.platform.models if m.serving in REGISTRY_KINDS]


def pipeline_name(naming: Naming, model: str) -> str:
    """A model's pipeline: `<prefix>-<model>`, like its package group."""
    return naming.model_resource(model)


def pipeline_folder(model: str) -> str:
    """The key prefix of a model's pipeline in the model-artifacts bucket: its evaluation code
    (`code/`), training output (`training/`), Spot checkpoints and evaluation reports."""
    return f"{PIPELINE_PREFIX}{model}/"


def pipeline_training_folder(model: str) -> str:
    """Where a model's pipeline trains: the only pipeline folder a registered version's artifact comes from."""
    return f"{pipeline_folder(model)}training/"


def baseline_uri(naming: Naming, model: str) -> str:
    """Where a model's pipeline writes its data-quality baselines, one folder per execution."""
    return f"s3://{naming.bucket('model-artifacts')}/{BASELINE_PREFIX}{model}/"


def pipeline_statements(naming: Naming, keys_pattern: str) -> list[Statement]:
    """What SageMaker Pipelines may do as the pipeline role: start and watch the steps' jobs (as the
    pipeline-jobs role, which it passes), read the evaluation reports under the model key (the condition
    step reads them), and register versions pending approval (the boundary and each group's policy
    leave Approved to the model-approver)."""
    r, a, p = naming.region, naming.account_id, naming.prefix
    sm = f"arn:aws:sagemaker:{r}:{a}"
    artifacts = naming.bucket_arn("model-artifacts")
    jobs = [f"{sm}:{kind}/{PIPELINE_JOB_PREFIX}*" for kind in ("processing-job", "training-job")]
    return [
        statement("RunPipelineJobs", "Allow", [
            "sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
            "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopProcessingJob",
            "sagemaker:StopTrainingJob"], jobs),
        pass_pipeline_jobs_role(naming),
        statement("ReadEvaluationReports", "Allow", "s3:GetObject", f"{artifacts}/{PIPELINE_PREFIX}*"),
        statement("DecryptEvaluationReports", "Allow", ["kms:Decrypt", "kms:DescribeKey"], keys_pattern,
                  condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": [naming.kms_alias("model")]},
                             "StringEquals": {"kms:ViaService": f"s3.{r}.amazonaws.com"}}),
        statement("ReadPackageGroups", "Allow", "sagemaker:DescribeModelPackageGroup",
                  f"{sm}:model-package-group/{p}-*"),
        statement("RegisterPendingVersions", "Allow", "sagemaker:CreateModelPackage", f"{sm}:model-package/{p}-*/*",
                  condition={"StringEquals": {"sagemaker:ModelApprovalStatus": PENDING_APPROVAL}}),
        statement("TagAndDescribeVersions", "Allow", ["sagemaker:AddTags", "sagemaker:DescribeModelPackage"],
                  f"{sm}:model-package/{p}-*/*"),
        *job_guards(),
    ]


def package_group(naming: Naming, model: str) -> str:
    """A model's model package group (its registry): `<prefix>-<model>`."""
    return naming.model_resource(model)


def package_group_arn(naming: Naming, model: str) -> str:
    return f"arn:aws:sagemaker:{naming.region}:{naming.account_id}:model-package-group/{package_group(naming, model)}"


def package_versions_arn(naming: Naming, model: str) -> str:
    """Every version of a model's group (versioned packages are `model-package/<group>/<version>`)."""
    return f"arn:aws:sagemaker:{naming.region}:{naming.account_id}:model-package/{package_group(naming, model)}/*"


def studio_statements(naming: Naming, persona: str, domain_id: str, *, data_store: bool = False) -> list[Statement]:
    """What a persona's Studio apps may do as its Studio execution role: run its own private apps and
    spaces in the environment's domain (never another persona's, never a shared space, which would run
    as the domain's default space role), read datasets, start guarded jobs as the training role; the data
    scientist writes experiments, the ML engineer reads model artifacts and registers versions (never
    approves: the boundary leaves that to the model-approver, and nobody deploys from Studio: the
    boundary leaves deployment to the ml-engineer persona role itself)."""
    r, a, p = naming.region, naming.account_id, naming.prefix
    sm = f"arn:aws:sagemaker:{r}:{a}"
    datasets, artifacts = naming.bucket_arn("datasets"), naming.bucket_arn("model-artifacts")
    via = [f"s3.{r}.amazonaws.com", f"sagemaker.{r}.amazonaws.com"]

    def key_use(sid: str, *classes: str) -> Statement:
        return statement(sid, "Allow", ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
                         f"arn:aws:kms:{r}:{a}:key/*",
                         condition={"ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted(
                             naming.kms_alias(c) for c in classes)}, "StringEquals": {"kms:ViaService": via}})

    jobs = [f"{sm}:{kind}/{p}-*" for kind in ("hyper-parameter-tuning-job", "processing-job", "training-job")]
    own_private = {"ArnEquals": {"sagemaker:OwnerUserProfileArn": f"{sm}:user-profile/{domain_id}/{persona}"},
                   "StringEquals": {"sagemaker:SpaceSharingType": "Private"}}
    statements = [
        # Apps and spaces are domain-wide resources: only the persona's own private ones (SageMaker sets
        # both keys on these calls; a request without them, such as a shared space's, is not allowed).
        statement("OwnPrivateStudioApps", "Allow", ["sagemaker:CreateApp", "sagemaker:DeleteApp"],
                  f"{sm}:app/{domain_id}/*", condition=own_private),
        statement("OwnPrivateStudioSpaces", "Allow", ["sagemaker:CreateSpace", "sagemaker:DeleteSpace",
                                                      "sagemaker:UpdateSpace"],
                  f"{sm}:space/{domain_id}/*", condition=own_private),
        # Studio tags what it creates (SageMaker developer guide, "Provide permissions for tagging").
        statement("DescribeAndTagStudioAppsAndSpaces", "Allow", ["sagemaker:AddTags", "sagemaker:DescribeApp",
                                                                 "sagemaker:DescribeSpace"],
                  [f"{sm}:app/{domain_id}/*", f"{sm}:space/{domain_id}/*"]),
        statement("DescribeStudio", "Allow", ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile"],
                  [f"{sm}:domain/{domain_id}", f"{sm}:user-profile/{domain_id}/*"]),
        # No resource-level permissions: the sagemaker:List* calls and sagemaker:Search.
        statement("ListNoResourceLevel", "Allow", [
            "sagemaker:ListApps", "sagemaker:ListHyperParameterTuningJobs", "sagemaker:ListModelPackageGroups",
            "sagemaker:ListProcessingJobs", "sagemaker:ListSpaces", "sagemaker:ListTrainingJobs",
            "sagemaker:ListUserProfiles", "sagemaker:Search"], "*"),
        statement("ListDatasets", "Allow", ["s3:GetBucketLocation", "s3:ListBucket"], datasets),
        statement("ReadDatasets", "Allow", "s3:GetObject", f"{datasets}/*"),
        statement("RunJobs", "Allow", [
            "sagemaker:AddTags", *JOB_ACTIONS, "sagemaker:DescribeHyperParameterTuningJob",
            "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob",
            "sagemaker:StopHyperParameterTuningJob", "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob"],
            jobs),
        pass_training_role(naming),
        read_job_template(naming),
        *([connect_to_data_store(naming, persona)] if data_store else []),
    ]
    if persona == "ml-engineer":
        groups, versions = f"{sm}:model-package-group/{p}-*", f"{sm}:model-package/{p}-*/*"
        statements += [
            statement("ReadModelArtifacts", "Allow", ["s3:GetObject", "s3:ListBucket"], [artifacts, f"{artifacts}/*"]),
            key_use("UseTrainingAndModelKeys", "training", "model"),
            statement("RegisterModelVersions", "Allow", [
                "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage",
                "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"], [groups, versions]),
        ]
    else:
        statements += [
            statement("WriteExperiments", "Allow", ["s3:DeleteObject", "s3:PutObject"],
                      f"{datasets}/experiments/*"),
            key_use("UseTrainingKey", "training"),
        ]
    return [*statements, *job_guards(isolate_processing=not data_store)]
