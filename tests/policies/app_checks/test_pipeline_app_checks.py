"""AEGIS_PIPELINE_JOBS_GUARDED, AEGIS_PIPELINE_REGISTERS_PENDING and AEGIS_APPROVAL_EVENTS_ROUTED: fixtures
both ways, built from the generator's own definition and rule with one setting broken."""
from __future__ import annotations

import json

import pytest

from modules.access.approval_events import approvals_pattern
from modules.naming import Naming
from modules.platform.context import Keys, PlatformContext
from modules.platform.pipeline_definition import PipelineInputs, pipeline_definition
from modules.platform.training_settings import PipelineSettings, SpotSettings
from modules.platform.training_template import job_template
from modules.training import PIPELINE_ROLE, package_group, pipeline_name
from policies.app_checks.pipeline_steps import steps
from tests.policies.app_checks.helpers import app, config, failures, resources, run, with_models

JOBS, PENDING, ROUTED = "AEGIS_PIPELINE_JOBS_GUARDED", "AEGIS_PIPELINE_REGISTERS_PENDING", "AEGIS_APPROVAL_EVENTS_ROUTED"
N = Naming.of(config("dev"))
MODEL = "fraud-scorer"
CONFIGS = {"dev": with_models("dev", (MODEL, "sagemaker"))}
TRAINING_KEY, MODEL_KEY = "${data.aws_kms_key.kms-training.arn}", "${data.aws_kms_key.kms-model.arn}"
KEY_LOOKUPS = {"aws_kms_key": {"kms-training": {"key_id": N.kms_alias_arn("training")},
                               "kms-model": {"key_id": N.kms_alias_arn("model")},
                               "kms-inference": {"key_id": N.kms_alias_arn("inference")}}}


DEFAULTS = PipelineSettings()


def rendered(settings: PipelineSettings = DEFAULTS) -> str:
    ctx = PlatformContext(N, Keys(model=MODEL_KEY, inference="${data.aws_kms_key.kms-inference.arn}",
                                  audit="${data.aws_kms_key.kms-audit.arn}"), 30, False, {})
    job = job_template(ctx, subnet_ids=["${aws_subnet.a.id}", "${aws_subnet.b.id}"],
                       security_group_id="${aws_security_group.training.id}", training_key=TRAINING_KEY,
                       spot=SpotSettings())
    return pipeline_definition(PipelineInputs(N, MODEL, settings, job, TRAINING_KEY, "analyzer:latest"))


def definition(settings: PipelineSettings = DEFAULTS) -> dict:
    return json.loads(rendered(settings))


def step(parsed: dict, name: str) -> dict:
    return next(s for s in steps(parsed) if s["Name"] == name)


def platform(parsed: dict | str, role: str | None = None) -> dict:
    text = parsed if isinstance(parsed, str) else json.dumps(parsed)
    pipeline = {"pipeline_name": pipeline_name(N, MODEL), "role_arn": role or N.role_arn(PIPELINE_ROLE),
                "pipeline_definition": text}
    return {**resources(aws_sagemaker_pipeline={"p": pipeline}), "data": KEY_LOOKUPS}


def judged(check: str, parsed: dict | str, role: str | None = None) -> list[str]:
    return failures(run(check, app("dev", platform=platform(parsed, role)), "dev", configs=CONFIGS))


def test_the_generated_definition_passes_both_pipeline_checks():
    assert judged(JOBS, definition()) == []
    assert judged(PENDING, definition()) == []


def test_the_definition_is_deterministic_and_steps_run_in_order():
    text = rendered()
    assert text == rendered() and text == json.dumps(json.loads(text), sort_keys=True)
    assert [s["Name"] for s in steps(definition())] == ["Train", "Evaluate", "CheckEvaluation", "Baseline",
                                                        "Register", "BelowQualityBar"]
    register = step(definition(), "Register")["Arguments"]
    assert register["ModelPackageGroupName"] == package_group(N, MODEL)
    assert register["DriftCheckBaselines"]["ModelDataQuality"]["Constraints"]["S3Uri"]["Std:Join"]["Values"][0] == \
        f"s3://{N.bucket('model-artifacts')}/models/_baselines/{MODEL}/"


@pytest.mark.parametrize("name, path, value, expected", [
    ("Train", ("VpcConfig",), None, "no VPC config"),
    ("Train", ("EnableNetworkIsolation",), False, "network isolation is not enabled"),
    ("Train", ("EnableInterContainerTrafficEncryption",), False, "traffic encryption is not enabled"),
    ("Train", ("ResourceConfig", "VolumeKmsKeyId"), None, "no volume key"),
    ("Train", ("OutputDataConfig", "KmsKeyId"), "${data.aws_kms_key.kms-inference.arn}",
     "the output key is the inference key, not the model key"),
    ("Train", ("CheckpointConfig",), None, "managed Spot training without a checkpoint location"),
    ("Evaluate", ("NetworkConfig", "EnableNetworkIsolation"), False, "network isolation is not enabled"),
    ("Baseline", ("NetworkConfig", "VpcConfig"), None, "no VPC config"),
    ("Baseline", ("ProcessingResources", "ClusterConfig", "VolumeKmsKeyId"), MODEL_KEY,
     "the volume key is the model key, not the training key"),
    ("Baseline", ("ProcessingOutputConfig", "KmsKeyId"), None, "no output key"),
])
def test_a_job_step_without_a_guard_fails(name, path, value, expected):
    parsed = definition()
    target = step(parsed, name)["Arguments"]
    for key in path[:-1]:
        target = target[key]
    if value is None:
        target.pop(path[-1])
    else:
        target[path[-1]] = value
    (failure,) = judged(JOBS, parsed)
    assert f"step {name!r}" in failure and expected in failure


ARTIFACTS = f"s3://{N.bucket('model-artifacts')}/"


@pytest.mark.parametrize("name, path, value, expected", [
    ("Train", ("RoleArn",), N.role_arn("sagemaker-training"), "not the pipeline-jobs role"),
    ("Baseline", ("RoleArn",), N.role_arn("ml-engineer"), "not the pipeline-jobs role"),
    ("Train", ("OutputDataConfig", "S3OutputPath"), f"{ARTIFACTS}models/_training/{MODEL}/",
     "writes its output to"),
    ("Train", ("CheckpointConfig", "S3Uri"), f"{ARTIFACTS}models/_checkpoints/{MODEL}/", "writes its checkpoints"),
    ("Evaluate", ("ProcessingOutputConfig", "Outputs", 0, "S3Output", "S3Uri"),
     {"Std:Join": {"On": "", "Values": [f"{ARTIFACTS}models/_pipelines/other-model/", "x", "/"]}},
     "writes its output 'evaluation'"),
    ("Baseline", ("ProcessingOutputConfig", "Outputs", 0, "S3Output", "S3Uri"),
     {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Where"}, "/"]}}, "writes its output 'monitoring_output'"),
    ("Baseline", ("ProcessingOutputConfig", "Outputs", 0, "S3Output", "S3Uri"), f"{ARTIFACTS}models/{MODEL}/",
     "writes its output 'monitoring_output'"),
])
def test_a_job_step_run_as_another_role_or_writing_elsewhere_fails(name, path, value, expected):
    parsed = definition()
    target = step(parsed, name)["Arguments"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (failure,) = judged(JOBS, parsed)
    assert f"step {name!r}" in failure and expected in failure


def test_every_job_writes_only_the_models_own_pipeline_prefixes():
    own = (f"{ARTIFACTS}models/_pipelines/{MODEL}/", f"{ARTIFACTS}models/_baselines/{MODEL}/")
    parsed = definition()
    train = step(parsed, "Train")["Arguments"]
    assert train["OutputDataConfig"]["S3OutputPath"] == f"{own[0]}training/"
    assert train["CheckpointConfig"]["S3Uri"]["Std:Join"]["Values"][0] == f"{own[0]}checkpoints/"
    assert step(parsed, "Baseline")["Arguments"]["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"][
        "Std:Join"]["Values"][0] == own[1]


def test_a_local_storage_instance_needs_no_volume_key():
    parsed = definition(PipelineSettings(training_instance_type="ml.g5.2xlarge"))
    assert "VolumeKmsKeyId" not in step(parsed, "Train")["Arguments"]["ResourceConfig"]
    assert judged(JOBS, parsed) == []


def test_an_unreadable_definition_a_foreign_role_or_a_missing_pipeline_fails():
    (failure,) = judged(JOBS, "{not json")
    assert "not JSON" in failure and "not judged" in failure
    (failure,) = judged(PENDING, "{not json")
    assert "not judged" in failure
    (failure,) = judged(JOBS, definition(), role="arn:aws:iam::999900001111:role/elsewhere")
    assert "not a role of this environment" in failure
    results = run(JOBS, app("dev"), "dev", configs=CONFIGS)
    assert [r.message for r in results if not r.passed] == [
        f"model {MODEL} has no pipeline {pipeline_name(N, MODEL)} (platform.training.pipeline is enabled)"]


@pytest.mark.parametrize("status, shown", [("Approved", "'Approved'"), (None, "left out"),
                                           ({"Get": "Parameters.ModelApprovalStatus"}, "{'Get'")])
def test_registering_anything_but_pending_fails(status, shown):
    parsed = definition()
    arguments = step(parsed, "Register")["Arguments"]
    if status is None:
        arguments.pop("ModelApprovalStatus")
    else:
        arguments["ModelApprovalStatus"] = status
    (failure,) = judged(PENDING, parsed)
    assert "step 'Register' registers with ModelApprovalStatus" in failure and shown in failure


# ---- approval events ----------------------------------------------------------------------------------

GROUPS = [N.resource("a"), N.resource("b")]
TOPIC = {"alerts": {"name": N.alert_topic()}}


def routed(pattern: str | None = None, target: dict | None = None, state: str = "ENABLED") -> list[str]:
    rule = {"r": {"name": N.resource("model-approvals"), "state": state,
                  "event_pattern": pattern if pattern is not None else approvals_pattern(GROUPS)}}
    to_topic = {"rule": "${aws_cloudwatch_event_rule.r.name}", "arn": "${aws_sns_topic.alerts.arn}",
                "dead_letter_config": {"arn": "${aws_sqs_queue.dlq.arn}"}}
    stacks = app("dev", data=resources(aws_sagemaker_model_package_group={
                     f"g{i}": {"model_package_group_name": g} for i, g in enumerate(GROUPS)}),
                 access=resources(aws_cloudwatch_event_rule=rule, aws_sns_topic=TOPIC,
                                  aws_cloudwatch_event_target={"t": target if target is not None else to_topic}))
    return failures(run(ROUTED, stacks, "dev"))


def test_the_generated_rule_and_target_pass():
    assert routed() == []


def test_a_rule_that_misses_a_group_the_status_or_is_disabled_fails():
    (failure,) = routed(approvals_pattern(GROUPS[:1]))
    assert f"leaves out group(s) {GROUPS[1]}" in failure
    pattern = json.loads(approvals_pattern(GROUPS))
    pattern["detail"]["ModelApprovalStatus"] = ["PendingManualApproval"]
    (failure,) = routed(json.dumps(pattern))
    assert "does not match ModelApprovalStatus Approved" in failure
    (failure,) = routed(state="DISABLED")
    assert "not enabled" in failure


def test_a_target_elsewhere_or_without_a_dead_letter_queue_fails():
    (failure,) = routed(target={"rule": "${aws_cloudwatch_event_rule.r.name}", "arn": "arn:aws:sns:eu-west-1:1:x"})
    assert "no target of the rule is the alert topic" in failure
    (failure,) = routed(target={"rule": "${aws_cloudwatch_event_rule.r.name}", "arn": "${aws_sns_topic.alerts.arn}"})
    assert "no dead-letter queue" in failure


def test_an_environment_with_groups_and_no_rule_fails():
    stacks = app("dev", data=resources(aws_sagemaker_model_package_group={"g": {"model_package_group_name": GROUPS[0]}}))
    (failure,) = failures(run(ROUTED, stacks, "dev"))
    assert "no EventBridge rule routes" in failure
