"""CKV_AEGIS_1, 2, 3: SageMaker endpoint encryption, data capture, model provenance."""
from __future__ import annotations

import pytest

from policies.checks.sagemaker_data_capture import check as data_capture
from policies.checks.sagemaker_domain_private import check as domain_check
from policies.checks.sagemaker_endpoint_config_key import check as endpoint_key
from policies.checks.sagemaker_model_provenance import check as provenance
from policies.checks.training_template_spot_checkpoint import check as template_check
from tests.policies.checks.helpers import FAILED, INFERENCE_KEY, MODEL_KEY, PASSED, TRAINING_KEY, UNKNOWN, mutate, scan

EC = "aws_sagemaker_endpoint_configuration"
CAPTURE_URI = "s3://aegis-dev-inference-111122223333-eu-west-1/data-capture/fraud"
ENDPOINT_CONFIG = {
    "name": "aegis-dev-fraud",
    "kms_key_arn": INFERENCE_KEY,
    "production_variants": [{"variant_name": "primary", "model_name": "${aws_sagemaker_model.fraud.name}",
                             "instance_type": "ml.g5.xlarge", "initial_instance_count": 2}],
    "data_capture_config": {
        "enable_capture": True, "initial_sampling_percentage": 20, "destination_s3_uri": CAPTURE_URI,
        "kms_key_id": INFERENCE_KEY,
        "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
    },
}
SERVERLESS_CONFIG = mutate(mutate(ENDPOINT_CONFIG, "production_variants.0",
                                  {"variant_name": "primary", "model_name": "m",
                                   "serverless_config": {"max_concurrency": 5, "memory_size_in_mb": 2048}}),
                           "data_capture_config", delete=True)


class TestEndpointConfigInferenceKey:
    def test_inference_key_passes(self):
        assert scan(endpoint_key, EC, ENDPOINT_CONFIG) == PASSED

    @pytest.mark.parametrize("key", [
        "arn:aws:kms:eu-west-1:111122223333:alias/aegis-dev-inference",
        "alias/aegis-prod-inference",
        "${aws_kms_key.kms-inference_key_271AAE88.arn}",
        "${data.aws_kms_key.kms-inference-dr.arn}",
    ])
    def test_other_spellings_of_the_inference_key_pass(self, key):
        assert scan(endpoint_key, EC, mutate(ENDPOINT_CONFIG, "kms_key_arn", key)) == PASSED

    @pytest.mark.parametrize("key", [
        None,                                                      # no key at all
        TRAINING_KEY,                                              # another class
        "alias/aegis-dev-audit",
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",  # cannot be classed
        "${var.kms_key}",                                          # unresolved reference: not judged
        "${data.aws_kms_key.some-key.arn}",
    ])
    def test_missing_wrong_or_unjudgeable_key_fails(self, key):
        conf = mutate(ENDPOINT_CONFIG, "kms_key_arn", delete=True) if key is None else \
            mutate(ENDPOINT_CONFIG, "kms_key_arn", key)
        assert scan(endpoint_key, EC, conf) == FAILED

    def test_async_output_must_use_the_inference_key_too(self):
        conf = mutate(ENDPOINT_CONFIG, "async_inference_config",
                      {"output_config": {"s3_output_path": "s3://x/y", "kms_key_id": TRAINING_KEY}})
        assert scan(endpoint_key, EC, conf) == FAILED
        conf = mutate(conf, "async_inference_config.output_config.kms_key_id", INFERENCE_KEY)
        assert scan(endpoint_key, EC, conf) == PASSED


class TestDataCapture:
    def test_encrypted_capture_of_input_and_output_passes(self):
        assert scan(data_capture, EC, ENDPOINT_CONFIG) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("data_capture_config", None),
        ("data_capture_config.enable_capture", False),
        ("data_capture_config.initial_sampling_percentage", 0),
        ("data_capture_config.initial_sampling_percentage", "${var.sampling}"),
        ("data_capture_config.capture_options", [{"capture_mode": "Input"}]),
        ("data_capture_config.kms_key_id", None),
        ("data_capture_config.kms_key_id", TRAINING_KEY),
        ("data_capture_config.destination_s3_uri", "s3://aegis-dev-datasets-111122223333-eu-west-1/capture"),
        ("data_capture_config.destination_s3_uri", "s3://some-other-bucket/capture"),
    ])
    def test_missing_disabled_or_misplaced_capture_fails(self, path, value):
        conf = mutate(ENDPOINT_CONFIG, path, delete=True) if value is None else mutate(ENDPOINT_CONFIG, path, value)
        assert scan(data_capture, EC, conf) == FAILED

    def test_serverless_only_endpoint_is_not_applicable(self):
        # AWS does not support data capture for Serverless Inference: not judged, never passed.
        assert scan(data_capture, EC, SERVERLESS_CONFIG) == UNKNOWN

    def test_mixed_serverless_and_instance_variants_are_judged(self):
        conf = mutate(SERVERLESS_CONFIG, "production_variants",
                      SERVERLESS_CONFIG["production_variants"] + ENDPOINT_CONFIG["production_variants"])
        assert scan(data_capture, EC, conf) == FAILED


MODEL = {
    "name": "aegis-dev-fraud",
    "execution_role_arn": "${aws_iam_role.fraud-execution.arn}",
    "primary_container": {
        "image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/aegis-dev-fraud:1.4.2",
        "model_data_url": "s3://aegis-dev-model-artifacts-111122223333-eu-west-1/fraud/model.tar.gz",
    },
    "vpc_config": {"subnets": ["${aws_subnet.a.id}"], "security_group_ids": ["${aws_security_group.m.id}"]},
    "enable_network_isolation": True,
}


class TestModelProvenance:
    def test_model_from_project_bucket_and_private_ecr_passes(self):
        assert scan(provenance, "aws_sagemaker_model", MODEL) == PASSED

    def test_image_of_a_repository_in_the_stack_passes(self):
        conf = mutate(MODEL, "primary_container.image", "${aws_ecr_repository.fraud.repository_url}:1.4.2")
        assert scan(provenance, "aws_sagemaker_model", conf) == PASSED

    def test_uncompressed_model_data_source_in_project_bucket_passes(self):
        conf = mutate(MODEL, "primary_container", {
            "image": MODEL["primary_container"]["image"],
            "model_data_source": {"s3_data_source": {
                "s3_uri": "s3://aegis-dev-model-artifacts-111122223333-eu-west-1/llm/", "s3_data_type": "S3Prefix",
                "compression_type": "None"}}})
        assert scan(provenance, "aws_sagemaker_model", conf) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("primary_container.image", "docker.io/someone/model:latest"),
        ("primary_container.image", "${var.image}"),
        ("primary_container.model_data_url", "s3://random-public-models/fraud.tar.gz"),
        ("primary_container.model_data_url", "s3://aegis-dev-datasets-111122223333-eu-west-1/fraud.tar.gz"),
        ("primary_container.model_data_url", "https://example.com/model.tar.gz"),
        ("primary_container.model_package_name", "arn:aws:sagemaker:eu-west-1:111122223333:model-package/x/1"),
        ("primary_container.image_config", {"repository_access_mode": "Vpc"}),
        ("primary_container", None),
    ])
    def test_foreign_or_unverifiable_sources_fail(self, path, value):
        conf = mutate(MODEL, path, delete=True) if value is None else mutate(MODEL, path, value)
        assert scan(provenance, "aws_sagemaker_model", conf) == FAILED

    def test_every_container_of_a_pipeline_is_judged(self):
        conf = mutate(MODEL, "primary_container", delete=True)
        conf["container"] = [MODEL["primary_container"], {"image": "public.ecr.aws/x/y:1"}]
        assert scan(provenance, "aws_sagemaker_model", conf) == FAILED


# --- CKV_AEGIS_43: Studio domain ---------------------------------------------------------------------

DOMAIN = {"domain_name": "aegis-dev-studio", "auth_mode": "IAM", "app_network_access_type": "VpcOnly",
          "kms_key_id": TRAINING_KEY, "vpc_id": "${aws_vpc.v.id}", "subnet_ids": ["${aws_subnet.a.id}"],
          "default_user_settings": {"execution_role": "${aws_iam_role.r.arn}"}}


def test_a_vpc_only_domain_with_the_training_key_passes():
    assert scan(domain_check, "aws_sagemaker_domain", DOMAIN) == PASSED


@pytest.mark.parametrize("changes", [
    {"app_network_access_type": "PublicInternetOnly"}, {"app_network_access_type": None},
    {"kms_key_id": None}, {"kms_key_id": MODEL_KEY}, {"kms_key_id": "alias/aws/sagemaker"}])
def test_internet_access_or_another_key_fails(changes):
    conf = {k: v for k, v in {**DOMAIN, **changes}.items() if v is not None}
    assert scan(domain_check, "aws_sagemaker_domain", conf) == FAILED


# --- CKV_AEGIS_44: training job template -------------------------------------------------------------

def _template(**changes) -> dict:
    import json

    template = {
        "RoleArn": "arn:aws:iam::111122223333:role/aegis-dev-sagemaker-training",
        "VpcConfig": {"Subnets": ["${aws_subnet.a.id}"], "SecurityGroupIds": ["${aws_security_group.t.id}"]},
        "EnableNetworkIsolation": True, "EnableInterContainerTrafficEncryption": True,
        "ResourceConfig": {"VolumeKmsKeyId": TRAINING_KEY},
        "OutputDataConfig": {"S3OutputPath": "s3://b/models/_training/", "KmsKeyId": MODEL_KEY},
        "EnableManagedSpotTraining": True,
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
        "CheckpointConfig": {"S3Uri": "s3://b/models/_checkpoints/"}}
    template.update(changes)
    return {"name": "/aegis/dev/training/job-template", "type": "String",
            "value": json.dumps({k: v for k, v in template.items() if v is not None})}


def test_the_generated_template_passes():
    import json

    from modules.config import load_env
    from modules.naming import Naming
    from modules.platform.context import Keys, PlatformContext
    from modules.platform.training_template import job_template

    config = load_env("dev")
    ctx = PlatformContext.of(config, Naming.of(config), Keys(model=MODEL_KEY, inference=INFERENCE_KEY, audit="a"))
    for spot in (config.platform.training.spot, config.platform.training.spot.model_copy(update={"enabled": False})):
        template = job_template(ctx, subnet_ids=["${aws_subnet.a.id}"], security_group_id="${aws_security_group.t.id}",
                                training_key=TRAINING_KEY, spot=spot)
        conf = {"name": "/aegis/dev/training/job-template", "type": "String", "value": json.dumps(template)}
        assert scan(template_check, "aws_ssm_parameter", conf) == PASSED


@pytest.mark.parametrize("changes", [
    {"CheckpointConfig": None}, {"StoppingCondition": {"MaxRuntimeInSeconds": 3600}},
    {"StoppingCondition": {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 3600}},
    {"EnableNetworkIsolation": False}, {"EnableInterContainerTrafficEncryption": None}, {"VpcConfig": None},
    {"ResourceConfig": {}}, {"OutputDataConfig": {"S3OutputPath": "s3://b/models/_training/"}}])
def test_spot_without_checkpoint_or_wait_or_an_unisolated_template_fails(changes):
    assert scan(template_check, "aws_ssm_parameter", _template(**changes)) == FAILED


def test_on_demand_needs_no_checkpoint_and_other_parameters_are_not_judged():
    assert scan(template_check, "aws_ssm_parameter",
                _template(EnableManagedSpotTraining=False, CheckpointConfig=None,
                          StoppingCondition={"MaxRuntimeInSeconds": 3600})) == PASSED
    assert scan(template_check, "aws_ssm_parameter", {"name": "/other", "type": "String", "value": "x"}) == UNKNOWN
    assert scan(template_check, "aws_ssm_parameter", {**_template(), "value": "not json"}) == FAILED


def test_the_local_storage_template_names_no_volume_key():
    local = "/aegis/dev/training/job-template-local-storage"
    assert scan(template_check, "aws_ssm_parameter", {**_template(ResourceConfig={}), "name": local}) == PASSED
    assert scan(template_check, "aws_ssm_parameter", {**_template(), "name": local}) == FAILED
