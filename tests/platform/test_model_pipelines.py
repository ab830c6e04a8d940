"""The MLOps pipelines of `<env>-platform`: one per SageMaker-served model, each job step built from the
training job template (VPC, isolation, keys), run as the bounded pipeline role, judged on the
synthesized stacks and with the IAM evaluator (the pipeline's own requests must be allowed, or it
could not run; approval must not)."""
from __future__ import annotations

import json

from modules.boundary import boundary_arn, boundary_document
from modules.platform.settings import REGISTRY_KINDS
from modules.training import PIPELINE_ROLE, TRAINING_ROLE, package_group, pipeline_name
from policies.app_checks.pipeline_steps import steps
from policies.iam_eval import Request, is_allowed


def pipelines(view) -> dict[str, dict]:
    return {p["pipeline_name"]: p for p in view.res("aws_sagemaker_pipeline").values()}


def test_one_pipeline_per_sagemaker_model_run_as_the_bounded_pipeline_role(view):
    n = view.naming
    expected = {pipeline_name(n, m.name) for m in view.models() if m.serving in REGISTRY_KINDS}
    assert set(pipelines(view)) == expected and expected
    logical, role = view.one("aws_iam_role", name=n.role(PIPELINE_ROLE))
    assert role["permissions_boundary"] == boundary_arn(n)
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    for pipeline in pipelines(view).values():
        assert pipeline["role_arn"] == n.role_arn(PIPELINE_ROLE)
        assert any(d.startswith("aws_iam_role_policy.") for d in pipeline["depends_on"])
        assert pipeline["parallelism_configuration"]["max_parallel_execution_steps"] == \
            view.config.platform.training.pipeline.max_parallel_steps


def test_every_job_step_runs_as_the_training_role_in_the_private_subnets_with_the_right_keys(view):
    n = view.naming
    subnets = view.private_subnet_refs()
    for name, pipeline in pipelines(view).items():
        definition = json.loads(pipeline["pipeline_definition"])
        assert definition["Version"] == "2020-12-01"
        jobs = [s for s in steps(definition) if s["Type"] in ("Training", "Processing")]
        assert [s["Name"] for s in jobs] == ["Train", "Evaluate", "Baseline"], name
        for step in jobs:
            a = step["Arguments"]
            assert a["RoleArn"] == n.role_arn(TRAINING_ROLE)
            network = a if step["Type"] == "Training" else a["NetworkConfig"]
            assert sorted(network["VpcConfig"]["Subnets"]) == subnets
            assert network["EnableNetworkIsolation"] is True and network["EnableInterContainerTrafficEncryption"] is True
            volume = a["ResourceConfig"] if step["Type"] == "Training" else a["ProcessingResources"]["ClusterConfig"]
            assert volume["VolumeKmsKeyId"] == view.key_ref("training")
            output = a["OutputDataConfig"] if step["Type"] == "Training" else a["ProcessingOutputConfig"]
            assert output["KmsKeyId"] == view.key_ref("model")
        train = jobs[0]["Arguments"]
        assert train["EnableManagedSpotTraining"] is view.config.platform.training.spot.enabled
        if train["EnableManagedSpotTraining"]:
            assert "_checkpoints/" in json.dumps(train["CheckpointConfig"])


def test_the_baseline_uses_the_regions_analyzer_and_the_version_is_registered_pending(view):
    (lookup_id, lookup), = view.data("aws_sagemaker_prebuilt_ecr_image").items()
    assert lookup["repository_name"] == "sagemaker-model-monitor-analyzer"
    for name, pipeline in pipelines(view).items():
        definition = json.loads(pipeline["pipeline_definition"])
        by_name = {s["Name"]: s for s in steps(definition)}
        baseline = by_name["Baseline"]["Arguments"]
        assert baseline["AppSpecification"]["ImageUri"] == \
            "${data.aws_sagemaker_prebuilt_ecr_image." + lookup_id + ".registry_path}"
        register = by_name["Register"]
        assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
        model = name.removeprefix(view.naming.prefix + "-")
        assert register["Arguments"]["ModelPackageGroupName"] == package_group(view.naming, model)
        assert register["DependsOn"] == ["Baseline"]


def test_the_pipeline_roles_requests_are_allowed_and_approval_is_not(prod):
    n = prod.naming
    logical, _ = prod.one("aws_iam_role", name=n.role(PIPELINE_ROLE))
    policy = prod.role_policy(logical)
    boundary = json.loads(boundary_document(n))
    sm = f"arn:aws:sagemaker:{n.region}:{n.account_id}"
    key = f"arn:aws:kms:{n.region}:{n.account_id}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    base = {"aws:RequestedRegion": n.region, "aws:PrincipalAccount": n.account_id,
            "aws:PrincipalArn": n.role_arn(PIPELINE_ROLE)}
    job = {**base, "sagemaker:VpcSubnets": ["subnet-0"], "sagemaker:VpcSecurityGroupIds": ["sg-0"],
           "sagemaker:VolumeKmsKey": key, "sagemaker:OutputKmsKey": key,
           "sagemaker:InterContainerTrafficEncryption": True, "sagemaker:NetworkIsolation": True}

    def may(action: str, resource: str, context: dict) -> bool:
        return is_allowed([policy], Request(action, resource, context), boundary=boundary)

    assert may("sagemaker:CreateTrainingJob", f"{sm}:training-job/pipelines-abc-Train-x1", job)
    assert may("sagemaker:CreateProcessingJob", f"{sm}:processing-job/pipelines-abc-Baseline-x1", job)
    assert may("iam:PassRole", n.role_arn(TRAINING_ROLE), {**base, "iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not may("sagemaker:CreateTrainingJob", f"{sm}:training-job/pipelines-abc-Train-x1",
                   {**job, "sagemaker:NetworkIsolation": False})
    assert not may("sagemaker:CreateProcessingJob", f"{sm}:processing-job/pipelines-abc-Evaluate-x1",
                   {k: v for k, v in job.items() if k != "sagemaker:VpcSubnets"})
    version = f"{sm}:model-package/{package_group(n, 'fraud-scorer')}/3"
    assert may("sagemaker:CreateModelPackage", version, {**base, "sagemaker:ModelApprovalStatus": "PendingManualApproval"})
    assert not may("sagemaker:CreateModelPackage", version, {**base, "sagemaker:ModelApprovalStatus": "Approved"})
    assert not may("sagemaker:UpdateModelPackage", version, {**base, "sagemaker:ModelApprovalStatus": "Approved"})
    assert not may("iam:PassRole", n.role_arn("fraud-scorer-exec"),
                   {**base, "iam:PassedToService": "sagemaker.amazonaws.com"})
    assert not may("s3:PutObject", f"{n.bucket_arn('datasets')}/x", base)


def test_the_data_scientist_runs_the_pipelines_and_cannot_change_them(prod):
    from modules.access.persona_policies import persona_policy

    n = prod.naming
    pipeline = f"arn:aws:sagemaker:{n.region}:{n.account_id}:pipeline/{pipeline_name(n, 'fraud-scorer')}"
    context = {"aws:RequestedRegion": n.region, "aws:PrincipalAccount": n.account_id,
               "aws:MultiFactorAuthPresent": "true"}
    boundary = json.loads(boundary_document(n))

    def may(persona: str, action: str, resource: str = pipeline) -> bool:
        policy = json.loads(persona_policy(persona, prod.config, mfa_guard_statement=False))
        return is_allowed([policy], Request(action, resource, {**context, "aws:PrincipalArn": n.role_arn(persona)}),
                          boundary=boundary)

    assert may("data-scientist", "sagemaker:StartPipelineExecution")
    assert may("data-scientist", "sagemaker:DescribePipelineExecution", f"{pipeline}/execution/abc123")
    for action in ("sagemaker:UpdatePipeline", "sagemaker:DeletePipeline", "sagemaker:CreatePipeline"):
        assert not may("data-scientist", action)
    assert not may("app-invoker", "sagemaker:StartPipelineExecution")
