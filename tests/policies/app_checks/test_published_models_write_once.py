"""AEGIS_PUBLISHED_MODELS_WRITE_ONCE both ways, on the synthesized model-artifacts bucket policies and
on the shapes that would let a published version be replaced (or would stop publishing and training)."""
from __future__ import annotations

import copy
import json

import pytest

from tests.policies.app_checks.helpers import failures, run

CHECK = "AEGIS_PUBLISHED_MODELS_WRITE_ONCE"
OVERWRITE, DELETE = "DenyOverwritingPublishedModels", "DenyDeletingPublishedModels"


@pytest.fixture(scope="module")
def prod_app(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}


def test_the_default_app_passes_for_the_primary_bucket_and_its_replica(prod_app):
    results = run(CHECK, prod_app, "prod")
    assert failures(results) == []
    assert sorted(r.message.split(":")[0] for r in results) == [
        "aegis-prod-model-artifacts-777788889999-eu-central-1", "aegis-prod-model-artifacts-777788889999-eu-west-1"]


def _edited(stacks: dict, edit) -> dict:
    """Apply `edit(statements)` to the primary model-artifacts bucket policy of prod-data."""
    stacks = copy.deepcopy(stacks)
    for name, policy in stacks["prod-data"]["resource"]["aws_s3_bucket_policy"].items():
        if name.startswith("bucket-model-artifacts_"):
            document = json.loads(policy["policy"])
            document["Statement"] = edit(document["Statement"])
            policy["policy"] = json.dumps(document)
    return stacks


def _by_sid(sid: str, change):
    """Replace the statement `sid` by `change(copy)`, or drop it when that returns None."""
    def edit(statements):
        changed = [change(copy.deepcopy(s)) if s.get("Sid") == sid else s for s in statements]
        return [s for s in changed if s is not None]
    return edit


def _message(stacks) -> str:
    (failed,) = [r for r in run(CHECK, stacks, "prod") if not r.passed]
    return failed.message


def test_without_the_overwrite_deny_a_second_put_replaces_a_version(prod_app):
    message = _message(_edited(prod_app, _by_sid(OVERWRITE, lambda s: None)))
    assert "does not deny an unconditional PutObject or CompleteMultipartUpload" in message


def test_without_the_delete_deny_a_delete_marker_frees_the_key(prod_app):
    message = _message(_edited(prod_app, _by_sid(DELETE, lambda s: None)))
    assert "does not deny a DeleteObject" in message


def test_a_deny_that_ignores_the_creation_operation_breaks_multipart_uploads(prod_app):
    """The AWS example's trap: without the s3:ObjectCreationOperation guard the parts are denied too."""
    def no_guard(s):
        s["Condition"] = {"Null": {"s3:if-none-match": "true"}}
        return s
    message = _message(_edited(prod_app, _by_sid(OVERWRITE, no_guard)))
    assert "denies the parts of a multipart upload" in message


def test_a_guard_that_needs_the_creation_operation_key_fails_open(prod_app):
    """`Bool` (not `BoolIfExists`) skips a request that carries no s3:ObjectCreationOperation."""
    def strict(s):
        s["Condition"] = {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}}
        return s
    message = _message(_edited(prod_app, _by_sid(OVERWRITE, strict)))
    assert "does not deny a PutObject that carries no s3:ObjectCreationOperation" in message


def test_a_deny_over_the_whole_bucket_stops_training(prod_app):
    def whole_bucket(s):
        s["Resource"] = [r.split("/models/")[0] + "/*" for r in s.pop("NotResource")][:1]
        return s
    message = _message(_edited(prod_app, _by_sid(OVERWRITE, whole_bucket)))
    assert "denies training output" in message and "denies Spot checkpoints" in message


def test_a_bucket_without_a_policy_fails(prod_app):
    stacks = copy.deepcopy(prod_app)
    policies = stacks["prod-data"]["resource"]["aws_s3_bucket_policy"]
    for name in [n for n in policies if n.startswith("bucket-model-artifacts_")]:
        del policies[name]
    (failed,) = [r for r in run(CHECK, stacks, "prod") if not r.passed]
    assert failed.address.startswith("aws_s3_bucket.") and "has no bucket policy" in failed.message


def test_a_policy_that_is_not_literal_json_is_not_judged(prod_app):
    stacks = copy.deepcopy(prod_app)
    for name, policy in stacks["prod-data"]["resource"]["aws_s3_bucket_policy"].items():
        if name.startswith("bucket-model-artifacts_"):
            policy["policy"] = "${data.aws_iam_policy_document.x.json}"
    assert "not a literal JSON document" in _message(stacks)


def test_a_deny_that_exempts_training_alone_stops_the_pipelines(prod_app):
    """The earlier shape: only training output and checkpoints were exempt, so a pipeline's evaluation
    and baseline steps (SageMaker uploads them unconditionally) were denied and nothing was registered."""
    def training_alone(s):
        s["NotResource"] = [r for r in s["NotResource"] if "/models/_training/" in r or "/models/_checkpoints/" in r]
        return s
    message = _message(_edited(prod_app, _by_sid(OVERWRITE, training_alone)))
    assert "denies a pipeline's evaluation report" in message and "denies a pipeline's data-quality baseline" in message
    assert "denies training output" not in message


PIPELINE_OVERWRITE, PIPELINE_DELETE = "DenyOverwritingPipelineOutputs", "DenyDeletingPipelineOutputs"
PIPELINE_CREATE = "DenyCreatingPipelineJobOutputs"


def test_the_pipeline_outputs_are_write_once_for_everyone_but_the_pipeline_jobs_role(prod_app):
    """The previous shape (review W1): the four job prefixes exempt for everybody, so a data scientist's
    job (as the training role), the ml-engineer or the deployer could replace a baseline, the evaluation
    code or a registered version's artifact."""
    def dropped(statements):
        return [s for s in statements if s.get("Sid") not in (PIPELINE_OVERWRITE, PIPELINE_DELETE, PIPELINE_CREATE)]
    message = _message(_edited(prod_app, dropped))
    for who in ("aegis-prod-sagemaker-training", "aegis-prod-ml-engineer", "aegis-deployer"):
        assert f"does not deny {who} an unconditional PutObject of pipeline output " \
               "(models/_baselines/model-a/run-1/constraints.json)" in message
        assert f"does not deny {who} a DeleteObject of pipeline output" in message
    assert "models/_pipelines/model-a/code/evaluate.py" in message
    assert "models/_pipelines/model-a/training/" in message


def test_a_pipeline_output_deny_without_the_role_exemption_stops_the_pipelines(prod_app):
    def everyone(s):
        del s["Condition"]["ArnNotEquals"]
        return s
    message = _message(_edited(prod_app, _by_sid(PIPELINE_OVERWRITE, everyone)))
    assert "denies a pipeline's training output" in message and "denies a pipeline's data-quality baseline" in message
    assert "ml-engineer's conditional upload" not in message  # still conditional: allowed


def test_a_pipeline_output_deny_that_ignores_the_condition_header_stops_conditional_uploads(prod_app):
    def unconditional(s):
        del s["Condition"]["Null"]
        return s
    message = _message(_edited(prod_app, _by_sid(PIPELINE_OVERWRITE, unconditional)))
    assert "denies the ml-engineer's conditional upload of a baseline" in message


def test_without_delete_object_version_a_lapsed_retention_frees_the_key(prod_app):
    """Review m4: once the Object Lock retention lapses, deleting the current version frees the key."""
    def delete_only(s):
        s["Action"] = "s3:DeleteObject"
        return s
    message = _message(_edited(prod_app, _by_sid(DELETE, delete_only)))
    assert "does not deny a DeleteObjectVersion" in message


def test_without_the_create_deny_a_hand_made_artifact_looks_pipeline_made(prod_app):
    """Review W-a: write-once stops replacing a key, not adding one; a conditional PUT of a new
    `training/<made-up>/output/model.tar.gz` would then pass the registry's provenance check."""
    message = _message(_edited(prod_app, _by_sid(PIPELINE_CREATE, lambda s: None)))
    for who in ("aegis-prod-sagemaker-training", "aegis-prod-ml-engineer", "aegis-deployer"):
        for folder in ("training/pipelines-1-Train", "evaluation/run-1", "checkpoints/run-1"):
            assert f"does not deny {who} a new (conditional) object where only pipeline jobs write " \
                   f"(models/_pipelines/model-a/{folder}/" in message


def test_a_create_deny_without_the_role_exemption_stops_the_pipelines(prod_app):
    def everyone(s):
        del s["Condition"]
        return s
    message = _message(_edited(prod_app, _by_sid(PIPELINE_CREATE, everyone)))
    assert "denies a pipeline's training output" in message and "denies a pipeline's evaluation report" in message
    assert "denies a pipeline's Spot checkpoints" in message


def test_a_create_deny_over_the_whole_pipeline_folder_stops_placing_the_evaluation_code(prod_app):
    def whole_folder(s):
        s["Resource"] = sorted({r.split("/*/")[0] + "/*" for r in s["Resource"]})
        return s
    message = _message(_edited(prod_app, _by_sid(PIPELINE_CREATE, whole_folder)))
    assert "denies the ml-engineer's conditional upload of evaluation code" in message
