"""The MLOps pipelines of `<env>-platform`: one per SageMaker-served model, each job step built from the
training job template (VPC, isolation, keys), run as the bounded pipeline role, judged on the
synthesized stacks and with the IAM evaluator (the pipeline's own requests must be allowed, or it
could not run; approval must not)."""
from __future__ import annotations

import json

from modules.boundary import boundary_arn, boundary_document
from modules.platform.settings import REGISTRY_KINDS
from modules.training import PIPELINE_JOBS_ROLE, PIPELINE_ROLE, TRAINING_ROLE, package_group, pipeline_name
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


def test_every_job_step_runs_as_the_pipeline_jobs_role_in_the_private_subnets_with_the_right_keys(view):
    n = view.naming
    subnets = view.private_subnet_refs()
    for name, pipeline in pipelines(view).items():
        definition = json.loads(pipeline["pipeline_definition"])
        assert definition["Version"] == "2020-12-01"
        jobs = [s for s in steps(definition) if s["Type"] in ("Training", "Processing")]
        assert [s["Name"] for s in jobs] == ["Train", "Evaluate", "Baseline"], name
        for step in jobs:
            a = step["Arguments"]
            assert a["RoleArn"] == n.role_arn(PIPELINE_JOBS_ROLE)
            network = a if step["Type"] == "Training" else a["NetworkConfig"]
            assert sorted(network["VpcConfig"]["Subnets"]) == subnets
            assert network["EnableNetworkIsolation"] is True and network["EnableInterContainerTrafficEncryption"] is True
            volume = a["ResourceConfig"] if step["Type"] == "Training" else a["ProcessingResources"]["ClusterConfig"]
            assert volume["VolumeKmsKeyId"] == view.key_ref("training")
            output = a["OutputDataConfig"] if step["Type"] == "Training" else a["ProcessingOutputConfig"]
            assert output["KmsKeyId"] == view.key_ref("model")
        train = jobs[0]["Arguments"]
        assert train["EnableManagedSpotTraining"] is view.config.platform.training.spot.enabled
        model = name.removeprefix(n.prefix + "-")
        own = f"s3://{n.bucket('model-artifacts')}/models/_pipelines/{model}/"
        # What the Register step records as ModelDataUrl is under the pipeline's folder, which the
        # registry serving path accepts (modules/platform/registered.py), not models/_training/.
        assert train["OutputDataConfig"]["S3OutputPath"] == f"{own}training/"
        if train["EnableManagedSpotTraining"]:
            assert train["CheckpointConfig"]["S3Uri"]["Std:Join"]["Values"][0] == f"{own}checkpoints/"


def test_the_baseline_uses_model_monitors_analyzer_and_the_version_is_registered_pending(view):
    """Review B2: the provider's aws_sagemaker_prebuilt_ecr_image defaults image_tag to "1"; the Baseline
    step runs the very image the Model Monitor job definitions run (untagged, modules/monitoring.py)."""
    from modules.monitoring import analyzer_image

    assert not view.data("aws_sagemaker_prebuilt_ecr_image")
    monitors = {d["data_quality_app_specification"]["image_uri"]
                for d in view.res("aws_sagemaker_data_quality_job_definition").values()}
    assert monitors <= {analyzer_image(view.naming.region)}
    for name, pipeline in pipelines(view).items():
        definition = json.loads(pipeline["pipeline_definition"])
        by_name = {s["Name"]: s for s in steps(definition)}
        baseline = by_name["Baseline"]["Arguments"]
        assert baseline["AppSpecification"]["ImageUri"] == analyzer_image(view.naming.region)
        assert baseline["AppSpecification"]["ImageUri"] in monitors or not monitors
        register = by_name["Register"]
        assert register["Arguments"]["ModelApprovalStatus"] == "PendingManualApproval"
        model = name.removeprefix(view.naming.prefix + "-")
        assert register["Arguments"]["ModelPackageGroupName"] == package_group(view.naming, model)
        assert register["DependsOn"] == ["Baseline"]


def test_prods_baseline_step_and_monitors_run_one_analyzer_image(prod):
    monitors = {d["data_quality_app_specification"]["image_uri"]
                for d in prod.res("aws_sagemaker_data_quality_job_definition").values()}
    images = {{s["Name"]: s for s in steps(json.loads(p["pipeline_definition"]))}["Baseline"]["Arguments"][
        "AppSpecification"]["ImageUri"] for p in pipelines(prod).values()}
    assert len(monitors) == 1 and images == monitors


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
    passed = {**base, "iam:PassedToService": "sagemaker.amazonaws.com"}
    assert may("iam:PassRole", n.role_arn(PIPELINE_JOBS_ROLE), passed)
    assert not may("iam:PassRole", n.role_arn(TRAINING_ROLE), passed)
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


def test_the_pipeline_jobs_role_writes_only_the_pipelines_prefixes_and_only_the_pipeline_role_passes_it(prod):
    from modules.access.persona_policies import persona_policy

    n = prod.naming
    logical, role = prod.one("aws_iam_role", name=n.role(PIPELINE_JOBS_ROLE))
    assert role["permissions_boundary"] == boundary_arn(n)
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == n.account_id
    policy, boundary = prod.role_policy(logical), json.loads(boundary_document(n))
    base = {"aws:RequestedRegion": n.region, "aws:PrincipalAccount": n.account_id,
            "aws:PrincipalArn": n.role_arn(PIPELINE_JOBS_ROLE)}
    artifacts = n.bucket_arn("model-artifacts")

    def may(action: str, resource: str) -> bool:
        return is_allowed([policy], Request(action, resource, base), boundary=boundary)

    for key in ("models/_pipelines/fraud-scorer/training/pipelines-1-Train/output/model.tar.gz",
                "models/_pipelines/fraud-scorer/evaluation/run-1/evaluation.json",
                "models/_baselines/fraud-scorer/run-1/constraints.json"):
        assert may("s3:PutObject", f"{artifacts}/{key}"), key
    assert may("s3:GetObject", f"{artifacts}/models/_pipelines/fraud-scorer/code/evaluate.py")
    assert may("s3:GetObject", f"{n.bucket_arn('datasets')}/fraud-scorer/train/part-0.csv")
    for key in ("models/fraud-scorer/1.0.0/model.tar.gz", "models/_training/job/output/model.tar.gz",
                "models/_checkpoints/job/checkpoint.pt"):
        assert not may("s3:PutObject", f"{artifacts}/{key}"), key
    assert not may("s3:PutObject", f"{n.bucket_arn('datasets')}/fraud-scorer/train/part-0.csv")
    # The training role no longer writes there; no persona may pass the pipeline-jobs role.
    logical, _ = prod.one("aws_iam_role", name=n.role(TRAINING_ROLE))
    training = prod.role_policy(logical)
    assert not is_allowed([training], Request("s3:PutObject", f"{artifacts}/models/_baselines/fraud-scorer/x",
                                              {**base, "aws:PrincipalArn": n.role_arn(TRAINING_ROLE)}),
                          boundary=boundary)
    for persona in ("data-scientist", "ml-engineer"):
        doc = json.loads(persona_policy(persona, prod.config, mfa_guard_statement=False))
        assert not is_allowed([doc], Request("iam:PassRole", n.role_arn(PIPELINE_JOBS_ROLE), {
            **base, "aws:PrincipalArn": n.role_arn(persona), "aws:MultiFactorAuthPresent": "true",
            "iam:PassedToService": "sagemaker.amazonaws.com"}), boundary=boundary), persona


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


def test_a_region_without_a_known_analyzer_refuses_pipelines(tmp_path):
    import pytest

    from modules.config import load_env
    from modules.errors import ConfigError
    from tests.governance.conftest import environments_with

    with pytest.raises(ConfigError, match=r"\[platform\.training\.pipeline\.enabled\]: this project knows no Model "
                                          r"Monitor analyzer image in eu-south-1 \(the pipelines' Baseline step"):
        load_env("dev", environments_with(tmp_path, "dev", {"region": "eu-south-1"}))


def test_evaluate_fetches_only_its_script_and_runs_it(view):
    """Review W-a: an S3Prefix input of the whole code/ folder would put any module added there on
    sys.path[0] of evaluate.py; the script's own key matches only itself."""
    n = view.naming
    models = {pipeline_name(n, m.name): m.name for m in view.models()}
    for name, pipeline in pipelines(view).items():
        (evaluate,) = [s for s in steps(json.loads(pipeline["pipeline_definition"])) if s["Name"] == "Evaluate"]
        (code,) = [i["S3Input"] for i in evaluate["Arguments"]["ProcessingInputs"] if i["InputName"] == "code"]
        assert code["S3Uri"] == \
            f"s3://{n.bucket('model-artifacts')}/models/_pipelines/{models[name]}/code/evaluate.py", name
        assert code["S3DataType"] == "S3Prefix"
        entrypoint = evaluate["Arguments"]["AppSpecification"]["ContainerEntrypoint"]
        assert entrypoint == ["python3", f"{code['LocalPath']}/evaluate.py"]
