"""Serving from the registry: a model that names `model_package_version` deploys that package by ARN,
and the plan refuses it unless it is Approved (and runs its own repository's image by digest and its
own folder's artifact); AEGIS_SERVING_INPUTS_VERIFIED holds the stack to it."""
from __future__ import annotations

import copy
import json
import re

import pytest

from modules.boundary import boundary_document
from modules.config import load_env
from modules.errors import ConfigError
from policies.app_checks import REGISTRY, all_checks
from policies.app_checks.view import AppView
from policies.iam_eval import Request, is_allowed
from tests.platform.conftest import PlatformView, synthesize_platform

VERSION = 7


@pytest.fixture(scope="module")
def registered(tmp_path_factory) -> PlatformView:
    """staging's platform stack with fraud-scorer (real-time) and churn-predictor (serverless) deployed
    from registered versions (synthesized once)."""


    config = load_env("staging")
    models = [m.model_copy(update={"model_package_version": VERSION}) if m.serving.startswith("sagemaker") else m
              for m in config.platform.models]
    config = config.model_copy(update={"platform": config.platform.model_copy(update={"models": models})})
    return synthesize_platform(config, tmp_path_factory.mktemp("registered") / "out")


def _arn(view: PlatformView, model: str) -> str:
    n = view.naming
    return f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.resource(model)}/{VERSION}"


@pytest.mark.parametrize("model", ["fraud-scorer", "churn-predictor"])
def test_the_model_deploys_the_package_by_arn_and_nothing_else(registered, model):
    (_, conf), = registered.of_model("aws_sagemaker_model", model).items()
    container = conf["primary_container"]
    assert container["model_package_name"] == _arn(registered, model)
    assert "image" not in container and "model_data_url" not in container
    # no published image or artifact lookups for it: the package pins both
    assert registered.of_model("aws_iam_role", model)  # its execution role stays
    marker = f"/model-{model}/"
    assert not [k for k, v in registered.data("aws_s3_object").items() if marker in v["//"]["metadata"]["path"]]
    assert not [k for k, v in registered.data("aws_ecr_image").items() if marker in v["//"]["metadata"]["path"]]


@pytest.mark.parametrize("model", ["fraud-scorer", "churn-predictor"])
def test_the_plan_refuses_a_package_that_is_not_approved(registered, model):
    (read,) = [v for v in registered.data("aws_cloudcontrolapi_resource").values()
               if v["identifier"] == _arn(registered, model)]
    assert read["type_name"] == "AWS::SageMaker::ModelPackage"
    conditions = [c["condition"] for c in read["lifecycle"]["postcondition"]]
    assert '${jsondecode(self.properties).ModelApprovalStatus == "Approved"}' in conditions
    n = registered.naming
    assert any(f'"{n.registry}/{n.model_repository(model)}@sha256:"' in c for c in conditions)
    assert any(f'"s3://{n.bucket("model-artifacts")}/models/{model}/"' in c for c in conditions)


ARTIFACT_CONDITION = re.compile(
    r'\$\{alltrue\(\[for c in jsondecode\(self\.properties\)\.InferenceSpecification\.Containers : '
    r'\((startswith\(c\.ModelDataUrl, "[^"]+"\)(?: \|\| startswith\(c\.ModelDataUrl, "[^"]+"\))*)\)\]\)\}')


def _accepts(condition: str, url: str) -> bool:
    """Terraform's verdict on the artifact postcondition for a package with one container at `url`:
    the condition must be exactly an any-of-startswith test (anything else fails here, unjudged)."""
    match = ARTIFACT_CONDITION.fullmatch(condition)
    assert match, condition
    return any(url.startswith(prefix) for prefix in re.findall(r'"([^"]+)"', match.group(1)))


def test_a_pipeline_registered_version_passes_the_artifact_postcondition_and_a_training_one_does_not(registered):
    """Review B1: the pipeline registers ModelDataUrl = its Train step's S3ModelArtifacts, which is
    `<S3OutputPath><job name>/output/model.tar.gz`; S3OutputPath is the pipeline's own folder."""
    n, model = registered.naming, "fraud-scorer"
    (read,) = [v for v in registered.data("aws_cloudcontrolapi_resource").values()
               if v["identifier"] == _arn(registered, model)]
    (condition,) = [c["condition"] for c in read["lifecycle"]["postcondition"] if "ModelDataUrl" in c["condition"]]
    (pipeline,) = [p for p in registered.res("aws_sagemaker_pipeline").values()
                   if p["pipeline_name"] == n.resource(model)]
    (train,) = [s for s in json.loads(pipeline["pipeline_definition"])["Steps"] if s["Name"] == "Train"]
    bucket = f"s3://{n.bucket('model-artifacts')}"
    from_pipeline = f"{train['Arguments']['OutputDataConfig']['S3OutputPath']}pipelines-a1b2c3-Train-x9/output/model.tar.gz"
    assert _accepts(condition, from_pipeline)
    assert _accepts(condition, f"{bucket}/models/{model}/1.4.0/model.tar.gz")  # model publish --register
    for elsewhere in (f"{bucket}/models/_training/{model}/job-1/output/model.tar.gz",
                      f"{bucket}/models/_pipelines/{model}/evaluation/run-1/model.tar.gz",
                      f"{bucket}/models/_pipelines/{model}/checkpoints/run-1/model.tar.gz",
                      f"{bucket}/models/_pipelines/{model}/code/model.tar.gz",
                      f"{bucket}/models/_checkpoints/{model}/model.tar.gz",
                      f"{bucket}/models/_pipelines/churn-predictor/training/job/output/model.tar.gz",
                      f"{bucket}/models/_baselines/{model}/run-1/model.tar.gz",
                      f"s3://elsewhere/models/{model}/1.4.0/model.tar.gz"):
        assert not _accepts(condition, elsewhere), elsewhere


@pytest.mark.parametrize("model", ["fraud-scorer", "churn-predictor"])
def test_the_execution_role_reads_every_folder_the_registry_check_accepts_and_no_other(registered, model):
    """Review B1': SageMaker fetches the package's ModelDataUrl with the model's execution role (at
    CreateModel and on the endpoint's instances), so whatever passes the plan must be readable."""
    n = registered.naming
    (read,) = [v for v in registered.data("aws_cloudcontrolapi_resource").values()
               if v["identifier"] == _arn(registered, model)]
    (condition,) = [c["condition"] for c in read["lifecycle"]["postcondition"] if "ModelDataUrl" in c["condition"]]
    accepted = re.findall(r'startswith\(c\.ModelDataUrl, "([^"]+)"\)', condition)
    assert len(accepted) == 2, condition
    role = [k for k, v in registered.of_model("aws_iam_role", model).items() if v["name"].endswith("-exec")]
    (logical,) = role
    policy, boundary = registered.role_policy(logical), json.loads(boundary_document(n))
    bucket = f"s3://{n.bucket('model-artifacts')}/"
    context = {"aws:RequestedRegion": n.region, "aws:PrincipalAccount": n.account_id}

    def may(action: str, resource: str, extra: dict | None = None) -> bool:
        return is_allowed([policy], Request(action, resource, {**context, **(extra or {})}), boundary=boundary)

    for folder in accepted:
        key = folder.removeprefix(bucket)
        assert folder.startswith(bucket) and key != folder, folder
        assert may("s3:GetObject", f"{n.bucket_arn('model-artifacts')}/{key}job-1/output/model.tar.gz"), folder
        assert may("s3:ListBucket", n.bucket_arn("model-artifacts"), {"s3:prefix": f"{key}job-1/"}), folder
    for key in (f"models/_pipelines/{model}/evaluation/run-1/evaluation.json",
                f"models/_pipelines/{model}/code/evaluate.py", "models/other-model/1.0.0/model.tar.gz"):
        assert not may("s3:GetObject", f"{n.bucket_arn('model-artifacts')}/{key}"), key


def _verdicts(stack: dict, config) -> list:
    all_checks()
    view = AppView.build({"staging-platform": stack}, {"staging": config})
    return [r for r in REGISTRY["AEGIS_SERVING_INPUTS_VERIFIED"].func(view) if r.address.startswith("aws_sagemaker_model")]


def test_the_serving_inputs_check_passes_it_and_fails_it_unverified(registered):
    assert all(r.passed for r in _verdicts(registered.stack, registered.config))
    broken = copy.deepcopy(registered.stack)
    for read in broken["data"]["aws_cloudcontrolapi_resource"].values():
        read["lifecycle"]["postcondition"] = [c for c in read["lifecycle"]["postcondition"]
                                              if "ModelApprovalStatus" not in c["condition"]]
    failed = [r for r in _verdicts(broken, registered.config) if not r.passed]
    assert len(failed) == 2 and all("not verified Approved" in r.message for r in failed)
    group = copy.deepcopy(registered.stack)
    for conf in group["resource"]["aws_sagemaker_model"].values():
        if "model_package_name" in conf["primary_container"]:
            conf["primary_container"]["model_package_name"] = conf["primary_container"]["model_package_name"].rsplit(
                "/", 1)[0].replace("model-package/", "model-package-group/")
    failed = [r for r in _verdicts(group, registered.config) if not r.passed]
    assert len(failed) == 2 and all("not one registered version" in r.message for r in failed)


def _load_with(tmp_path, model_patch: dict, env: str = "prod"):
    from tests.governance.conftest import environments_with

    config = load_env(env)
    models = [json.loads(m.model_dump_json(by_alias=True, exclude_none=True)) for m in config.platform.models]
    models[0] = {k: v for k, v in {**models[0], **model_patch}.items() if v is not None}
    return load_env(env, environments_with(tmp_path, env, {"platform": {"models": models}}))


def test_prod_takes_a_registered_version_instead_of_digest_and_checksum(tmp_path):
    config = _load_with(tmp_path, {"model_package_version": 3, "image_digest": None, "artifact_sha256": None})
    assert config.platform.models[0].model_package_version == 3


@pytest.mark.parametrize("patch, message", [
    ({"model_package_version": 3}, "the model package pins the image and artifact"),
    ({"model_package_version": 0}, "greater than or equal to 1"),
])
def test_a_registered_version_with_a_digest_or_out_of_range_is_refused(tmp_path, patch, message):
    with pytest.raises(ConfigError, match=message):
        _load_with(tmp_path, patch)


def test_a_lambda_model_cannot_name_a_package(tmp_path):
    from tests.governance.conftest import environments_with

    config = load_env("dev")
    models = [json.loads(m.model_dump_json(by_alias=True, exclude_none=True)) for m in config.platform.models]
    index = next(i for i, m in enumerate(models) if m["serving"] == "lambda")
    models[index]["model_package_version"] = 2
    with pytest.raises(ConfigError, match="does not deploy SageMaker model packages"):
        load_env("dev", environments_with(tmp_path, "dev", {"platform": {"models": models}}))
