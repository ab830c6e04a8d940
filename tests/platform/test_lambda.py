"""The `lambda` serving path: the reference function in the VPC with tracing, an encrypted
environment, reserved concurrency, a KMS dead-letter queue, the `live` alias with autoscaled
provisioned concurrency, code signing where configured, and the S3 event trigger."""
from __future__ import annotations

import json

import pytest

from modules.naming import LAMBDA_ALIAS
from modules.platform import lambda_package
from tests.platform.conftest import PlatformView, as_list, ref, ref_parts, statements, synthesize_platform


def _function(view):
    (model,) = view.models("lambda")
    logical, function = view.one_of_model("aws_lambda_function", model.name)
    return model, logical, function


def test_function_settings(view):
    model, _, fn = _function(view)
    s = model.function
    assert fn["function_name"] == view.naming.model_resource(model.name)
    assert view.naming.function_arn(model.name).endswith(":function:" + fn["function_name"])
    assert fn["handler"] == lambda_package.HANDLER and fn["runtime"].startswith("python3.")
    assert fn["reserved_concurrent_executions"] == s.reserved_concurrency
    assert (fn["memory_size"], fn["timeout"]) == (s.memory_size_mb, s.timeout_seconds)
    assert fn["tracing_config"] == {"mode": "Active"}
    assert fn["kms_key_arn"] == view.key_ref("inference")
    assert fn["publish"] is True
    vpc = fn["vpc_config"]
    assert sorted(vpc["subnet_ids"]) == view.private_subnet_refs()
    (sg,) = vpc["security_group_ids"]
    assert view.rules_of(ref_parts(sg)[1], "ingress") == []


def test_environment_names_the_right_buckets_prefixes_and_key(view):
    model, _, fn = _function(view)
    env = fn["environment"]["variables"]
    assert env["MODEL_BUCKET"] == view.naming.bucket("model-artifacts")
    assert env["MODEL_KEY"] == f"models/{model.name}/{model.version}/model.json"
    assert env["INFERENCE_BUCKET"] == view.naming.bucket("inference")
    assert (env["INPUT_PREFIX"], env["OUTPUT_PREFIX"]) == (model.input_prefix(), model.output_prefix())
    assert env["OUTPUT_KMS_KEY_ARN"] == view.key_ref("inference")
    assert env["MAX_INPUT_BYTES"] == str(model.function.max_input_bytes)
    assert not any(word in name for name in env for word in ("SECRET", "PASSWORD", "TOKEN"))


def test_dead_letter_queue_is_encrypted_and_tls_only(view):
    model, _, fn = _function(view)
    queue = view.get(fn["dead_letter_config"]["target_arn"])
    assert queue["kms_master_key_id"] == view.key_ref("inference")
    queue_logical = ref_parts(fn["dead_letter_config"]["target_arn"])[1]
    (policy,) = [p for p in view.res("aws_sqs_queue_policy").values()
                 if p["queue_url"] == ref("aws_sqs_queue", queue_logical, "url")]
    (deny,) = statements(json.loads(policy["policy"]))
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    _, invoke = view.one_of_model("aws_lambda_function_event_invoke_config", model.name)
    assert invoke["qualifier"].endswith(".name}") and invoke["maximum_retry_attempts"] == 2


def test_log_group_and_json_logging(view):
    model, _, fn = _function(view)
    group = view.get(fn["logging_config"]["log_group"])
    assert group["name"] == f"/aws/lambda/{fn['function_name']}"
    assert group["kms_key_id"] == view.key_ref("audit")
    assert fn["logging_config"]["log_format"] == "JSON"


def test_live_alias_with_autoscaled_provisioned_concurrency(view):
    model, logical, fn = _function(view)
    alias_logical, alias = view.one_of_model("aws_lambda_alias", model.name)
    assert alias["name"] == LAMBDA_ALIAS == "live"
    assert alias["function_version"] == ref("aws_lambda_function", logical, "version")
    assert "routing_config" not in alias  # no release under way: the newest version takes all traffic
    pc = model.function.provisioned_concurrency
    _, target = view.one_of_model("aws_appautoscaling_target", model.name)
    assert target["resource_id"] == f"function:{fn['function_name']}:{LAMBDA_ALIAS}"
    assert target["scalable_dimension"] == "lambda:function:ProvisionedConcurrency"
    assert (target["min_capacity"], target["max_capacity"]) == (pc.min_capacity, pc.max_capacity)
    assert target["max_capacity"] < fn["reserved_concurrent_executions"]
    _, policy = view.one_of_model("aws_appautoscaling_policy", model.name)
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["predefined_metric_specification"]["predefined_metric_type"] == \
        "LambdaProvisionedConcurrencyUtilization"
    assert tracking["scale_in_cooldown"] > tracking["scale_out_cooldown"]


def test_code_signing_enforced_where_configured(view):
    model, _, fn = _function(view)
    if not model.function.code_signing:
        assert view.env == "dev"
        assert "code_signing_config_arn" not in fn
        assert fn["filename"].startswith("assets/") and fn["filename"].endswith(lambda_package.ZIP_NAME)
        assert fn["source_code_hash"] == '${filebase64sha256("' + fn["filename"] + '")}'
        return
    config = view.get(fn["code_signing_config_arn"])
    assert config["policies"] == {"untrusted_artifact_on_deployment": "Enforce"}
    (profile_arn,) = config["allowed_publishers"]["signing_profile_version_arns"]
    profile = view.get(profile_arn)
    assert profile["platform_id"] == "AWSLambda-SHA384-ECDSA"
    job_logical = fn["s3_key"].split(".")[1]
    job = view.res("aws_signer_signing_job")[job_logical]
    assert fn["s3_bucket"] == "${aws_signer_signing_job." + job_logical + ".signed_object[0].s3[0].bucket}"
    upload = view.get(job["source"]["s3"]["key"])
    assert upload["bucket"] == view.naming.bucket("code")
    assert job["destination"]["s3"]["bucket"] == upload["bucket"]
    assert upload["key"] == f"models/{model.name}/code/{lambda_package.zip_sha256()}.zip"
    assert upload["source"].startswith("assets/") and upload["kms_key_id"] == view.key_ref("model")
    assert "filename" not in fn


def test_function_code_is_replaceable_because_its_bucket_has_no_object_lock(view, synthesized):
    """Terraform replaces the code object on every change; S3 refuses to delete a locked version."""
    data = synthesized.stack(view.naming.stack("data"))["resource"]
    buckets = {c["bucket"]: n for n, c in data["aws_s3_bucket"].items()}
    locked = {c["bucket"] for c in data.get("aws_s3_bucket_object_lock_configuration", {}).values()}
    for upload in view.res("aws_s3_object").values():
        name = buckets[upload["bucket"]]
        assert not data["aws_s3_bucket"][name].get("object_lock_enabled"), upload["bucket"]
        assert "${aws_s3_bucket." + name + ".id}" not in locked
    for job in view.res("aws_signer_signing_job").values():
        assert not data["aws_s3_bucket"][buckets[job["destination"]["s3"]["bucket"]]].get("object_lock_enabled")


def test_prod_requires_code_signing(prod):
    for fn in prod.res("aws_lambda_function").values():
        assert "code_signing_config_arn" in fn


def test_s3_trigger_on_input_prefix_invokes_the_alias(view):
    model, logical, fn = _function(view)
    alias_logical, _ = view.one_of_model("aws_lambda_alias", model.name)
    (notification,) = view.res("aws_s3_bucket_notification").values()
    assert notification["bucket"] == view.naming.bucket("inference")
    (trigger,) = notification["lambda_function"]
    assert trigger["lambda_function_arn"] == ref("aws_lambda_alias", alias_logical, "arn")
    assert trigger["events"] == ["s3:ObjectCreated:*"]
    assert trigger["filter_prefix"] == model.input_prefix()
    assert not model.output_prefix().startswith(model.input_prefix())  # results never re-trigger
    _, permission = view.one_of_model("aws_lambda_permission", model.name)
    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == view.naming.bucket_arn("inference")
    assert permission["source_account"] == view.config.account_id
    assert permission["qualifier"] == ref("aws_lambda_alias", alias_logical, "name")


def test_function_url_only_with_iam_auth(view):
    model, _, _ = _function(view)
    urls = view.res("aws_lambda_function_url")
    assert len(urls) == (1 if model.function.function_url else 0)
    assert view.env != "dev" or urls  # dev exercises the synchronous path
    for url in urls.values():
        assert url["authorization_type"] == "AWS_IAM"
        assert url["qualifier"].startswith("${aws_lambda_alias.")


def test_execution_role_reads_inputs_and_writes_outputs_only(view):
    model, _, fn = _function(view)
    role_logical = ref_parts(fn["role"])[1]
    inference = view.naming.bucket_arn("inference")
    by_sid = {s["Sid"]: s for s in statements(view.role_policy(role_logical))}
    assert as_list(by_sid["ReadInputs"]["Resource"]) == [f"{inference}/{model.input_prefix()}*"]
    assert as_list(by_sid["WriteOutputs"]["Resource"]) == [f"{inference}/{model.output_prefix()}*"]
    assert as_list(by_sid["WriteOutputs"]["Action"]) == ["s3:PutObject"]
    assert as_list(by_sid["ReadOwnModel"]["Resource"]) == [
        f"{view.naming.bucket_arn('model-artifacts')}/models/{model.name}/*"]
    for sid, stmt in by_sid.items():
        if "*" in as_list(stmt["Resource"]):
            assert sid in ("Tracing", "DescribeNetwork"), sid


@pytest.fixture(scope="module")
def releasing(tmp_path_factory) -> PlatformView:
    """staging's platform stack while doc-classifier's new version is a 10 % canary over version 7."""

    from modules.config import load_env
    from modules.platform.release_settings import FunctionCanary

    config = load_env("staging")
    canary = FunctionCanary(stable_version="7", weight=0.1)
    models = [m.model_copy(update={"function": m.lambda_settings.model_copy(update={"canary": canary})})
              if m.serving == "lambda" else m for m in config.platform.models]
    config = config.model_copy(update={"platform": config.platform.model_copy(update={"models": models})})
    return synthesize_platform(config, tmp_path_factory.mktemp("releasing") / "out")


def test_canary_keeps_the_alias_on_the_stable_version_and_weights_the_new_one(releasing):
    model, logical, _ = _function(releasing)
    _, alias = releasing.one_of_model("aws_lambda_alias", model.name)
    assert alias["function_version"] == "7"
    # The version this apply publishes gets the canary's share (Terraform evaluates the key as a template).
    assert alias["routing_config"] == {
        "additional_version_weights": {ref("aws_lambda_function", logical, "version"): 0.1}}
    # Everything that invokes the model still goes through the alias.
    _, permission = releasing.one_of_model("aws_lambda_permission", model.name)
    assert permission["qualifier"].startswith("${aws_lambda_alias.")
