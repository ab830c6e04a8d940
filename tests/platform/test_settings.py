"""Platform config: bounds and cross-field rules. Each invalid config is one error naming the file,
the key path (and line), and the CLI exits 2. Default environments carry every serving kind."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from main import cli
from modules.config import load_env
from modules.errors import ConfigError
from modules.platform.settings import SECTION
from modules.yaml_source import _StrictLoader
from tests.conftest import FIXTURE_ENVIRONMENTS

ENVIRONMENTS = FIXTURE_ENVIRONMENTS


def env_dir(tmp_path: Path, env: str, mutate) -> Path:
    """A copy of environments/ where `mutate(platform_section)` changed one env's `platform:`."""
    directory = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS, directory)
    path = directory / f"{env}.yaml"
    doc = read_yaml(path)
    mutate(doc["platform"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return directory


def read_yaml(path: Path) -> dict:
    # The project's loader: YAML 1.1 booleans like NO (Norway) stay strings.
    return yaml.load(path.read_text(), Loader=_StrictLoader)


def model(platform: dict, serving: str) -> dict:
    (found,) = [m for m in platform["models"] if m["serving"] == serving]
    return found


def section(platform: dict, serving: str) -> dict:
    return model(platform, serving)[SECTION[serving]]


def index(platform: dict, serving: str) -> int:
    return [m["serving"] for m in platform["models"]].index(serving)


def expect_error(tmp_path, env, mutate, key: str, fragment: str) -> ConfigError:
    directory = env_dir(tmp_path, env, mutate)
    with pytest.raises(ConfigError) as caught:
        load_env(env, directory)
    error = caught.value
    assert error.file == f"environments/{env}.yaml"
    assert error.key_path == key, str(error)
    assert fragment in error.message, str(error)
    return error


# (case, env, mutation, expected key path (model index resolved later), message fragment)
def _set(path: list, value):
    def mutate(platform):
        target = platform
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return mutate


def _in_model(serving: str, path: list, value):
    def mutate(platform):
        target = model(platform, serving)
        for part in path[:-1]:
            target = target[part]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return mutate


_DELETE = object()

CASES = [
    ("prod-sagemaker-one-instance", "prod", _in_model("sagemaker", ["sagemaker", "initial_instance_count"], 1),
     "sagemaker", "sagemaker.initial_instance_count", "prod needs at least 2"),
    ("autoscaling-min-above-max", "dev", _in_model("sagemaker", ["sagemaker", "autoscaling", "min_capacity"], 3),
     "sagemaker", "sagemaker.autoscaling.min_capacity", "must not exceed max_capacity"),
    ("scale-in-not-slower", "staging",
     _in_model("sagemaker", ["sagemaker", "autoscaling", "scale_in_cooldown_seconds"], 60),
     "sagemaker", "sagemaker.autoscaling.scale_in_cooldown_seconds", "longer than scale_out_cooldown_seconds"),
    ("prod-autoscaling-min-one", "prod", _in_model("sagemaker", ["sagemaker", "autoscaling", "min_capacity"], 1),
     "sagemaker", "sagemaker.autoscaling.min_capacity", "prod needs at least 2"),
    ("initial-count-outside-autoscaling", "dev",
     _in_model("sagemaker", ["sagemaker", "initial_instance_count"], 3),
     "sagemaker", "sagemaker.initial_instance_count", "within autoscaling"),
    ("nvme-instance-type-refuses-kms", "dev", _in_model("sagemaker", ["sagemaker", "instance_type"], "ml.g5.xlarge"),
     "sagemaker", "sagemaker.instance_type", "local NVMe"),
    ("capture-percent-out-of-bounds", "dev",
     _in_model("sagemaker", ["sagemaker", "data_capture_percent"], 0),
     "sagemaker", "sagemaker.data_capture_percent", "greater than or equal to 1"),
    ("unknown-key-in-section", "dev", _in_model("sagemaker", ["sagemaker", "instance_count"], 2),
     "sagemaker", "sagemaker.instance_count", "unknown key"),
    ("bad-version", "dev", _in_model("lambda", ["version"], "latest"), "lambda", "version", "should match pattern"),
    ("prod-ec2-no-on-demand-base", "prod", _in_model("ec2", ["ec2", "on_demand_base_capacity"], 0),
     "ec2", "ec2.on_demand_base_capacity", "at least 1 on-demand"),
    ("ec2-min-above-max", "dev", _in_model("ec2", ["ec2", "min_size"], 5), "ec2", "ec2.min_size", "must not exceed"),
    ("alb-cert-other-region", "dev", _in_model(
        "ec2", ["ec2", "alb", "certificate_arn"],
        "arn:aws:acm:us-east-1:111122223333:certificate/2f9c4b1e-7d3a-4e8b-9c61-0a5d2e7f4b93"),
     "ec2", "ec2.alb.certificate_arn", "environment's region"),
    ("alb-cert-not-acm", "dev", _in_model("ec2", ["ec2", "alb", "certificate_arn"], "arn:aws:iam::1:server-certificate/x"),
     "ec2", "ec2.alb.certificate_arn", "should match pattern"),
    ("internal-alb-with-cidrs", "dev", _in_model("ec2", ["ec2", "alb", "allowed_cidrs"], ["203.0.113.0/24"]),
     "ec2", "ec2.alb.allowed_cidrs", "internal ALB admits the VPC only"),
    ("internet-facing-alb-without-egress", "staging", _in_model("ec2", ["ec2", "alb", "internal"], False),
     "ec2", "ec2.alb.internal", "enable network.egress"),
    ("cloudfront-cert-not-us-east-1", "prod", _in_model(
        "ec2", ["ec2", "cloudfront", "certificate_arn"],
        "arn:aws:acm:eu-west-1:777788889999:certificate/5e0b9f3a-2c7d-4a18-b6e4-d1f8a3c2907e"),
     "ec2", "ec2.cloudfront.certificate_arn", "us-east-1 only"),
    ("cloudfront-without-internet-gateway", "staging", _in_model("ec2", ["ec2", "cloudfront"], {
        "aliases": ["vision.example.com"], "origin_domain_name": "origin.example.com",
        "certificate_arn": "arn:aws:acm:us-east-1:444455556666:certificate/5e0b9f3a-2c7d-4a18-b6e4-d1f8a3c2907e"}),
     "ec2", "ec2.cloudfront", "need an internet gateway"),
    ("cloudfront-bad-country", "prod", _in_model("ec2", ["ec2", "cloudfront", "allowed_countries"], ["ie"]),
     "ec2", "ec2.cloudfront.allowed_countries[0]", "should match pattern"),
    ("lambda-provisioned-not-below-reserved", "dev",
     _in_model("lambda", ["lambda", "provisioned_concurrency", "max_capacity"], 10),
     "lambda", "lambda.provisioned_concurrency.max_capacity", "below reserved_concurrency"),
    ("prod-lambda-unsigned", "prod", _in_model("lambda", ["lambda", "code_signing"], False),
     "lambda", "lambda.code_signing", "enforce code signing"),
    ("prod-lambda-no-provisioned", "prod", _in_model("lambda", ["lambda", "provisioned_concurrency"], _DELETE),
     "lambda", "lambda.provisioned_concurrency", "prod needs provisioned concurrency"),
    ("output-under-input", "dev", _in_model("lambda", ["lambda", "output_prefix"], "batch/doc-classifier/input/out/"),
     "lambda", "lambda.output_prefix", "must not overlap"),
    ("lambda-timeout-out-of-bounds", "dev", _in_model("lambda", ["lambda", "timeout_seconds"], 901),
     "lambda", "lambda.timeout_seconds", "less than or equal to 900"),
    ("serverless-provisioned-above-max", "staging",
     _in_model("sagemaker-serverless", ["serverless", "provisioned_concurrency", "max_capacity"], 50),
     "sagemaker-serverless", "serverless.provisioned_concurrency.max_capacity", "must not exceed max_concurrency"),
    ("serverless-memory-not-allowed", "dev", _in_model("sagemaker-serverless", ["serverless", "memory_size_mb"], 1500),
     "sagemaker-serverless", "serverless.memory_size_mb", "Input should be"),
    ("prod-serverless-min-one", "prod",
     _in_model("sagemaker-serverless", ["serverless", "provisioned_concurrency", "min_capacity"], 1),
     "sagemaker-serverless", "serverless.provisioned_concurrency.min_capacity", "prod needs at least 2"),
    ("prod-image-not-pinned", "prod", _in_model("ec2", ["image_digest"], _DELETE),
     "ec2", "image_digest", "prod pins every image by digest"),
    ("prod-artifact-not-pinned", "prod", _in_model("lambda", ["artifact_sha256"], _DELETE),
     "lambda", "artifact_sha256", "prod pins every artifact by checksum"),
    ("image-digest-not-a-digest", "dev", _in_model("sagemaker", ["image_digest"], "1.4.0"),
     "sagemaker", "image_digest", "should match pattern"),
    ("artifact-checksum-not-hex", "dev", _in_model("sagemaker", ["artifact_sha256"], "sha256:" + "a" * 64),
     "sagemaker", "artifact_sha256", "should match pattern"),
    ("prod-releases-all-at-once", "prod", _in_model("sagemaker", ["sagemaker", "deployment", "traffic"], "ALL_AT_ONCE"),
     "sagemaker", "sagemaker.deployment.traffic", "prod shifts traffic gradually"),
    ("linear-step-below-ten-percent", "staging", _in_model("sagemaker", ["sagemaker", "deployment"], {
        "traffic": "LINEAR", "step_size": 5, "maximum_execution_timeout_seconds": 28800}),
     "sagemaker", "sagemaker.deployment.step_size", "10-50 percent"),
    ("canary-above-half-the-variant", "prod", _in_model("sagemaker", ["sagemaker", "deployment", "step_size"], 2),
     "sagemaker", "sagemaker.deployment.step_size", "not 0-50 % of the variant's 3 instances"),
    ("prod-canary-shorter-than-alarm-window", "prod",
     _in_model("sagemaker", ["sagemaker", "deployment", "wait_interval_seconds"], 120),
     "sagemaker", "sagemaker.deployment.wait_interval_seconds", "evaluation window (300 s"),
    ("release-outlasts-its-timeout", "staging", _in_model("sagemaker", ["sagemaker", "deployment"], {
        "traffic": "LINEAR", "step_size": 10}),
     "sagemaker", "sagemaker.deployment.maximum_execution_timeout_seconds", "waiting time (6000 s"),
    ("guardrails-excluded-instance", "staging", _in_model("sagemaker", ["sagemaker", "instance_type"], "ml.inf1.xlarge"),
     "sagemaker", "sagemaker.deployment.traffic", "no deployment guardrails for ml.inf1.xlarge"),
    ("canary-on-latest", "dev", _in_model("lambda", ["lambda", "canary"], {"stable_version": "$LATEST", "weight": 0.1}),
     "lambda", "lambda.canary.stable_version", "should match pattern"),
    ("canary-takes-all-traffic", "dev", _in_model("lambda", ["lambda", "canary"], {"stable_version": "3", "weight": 1.0}),
     "lambda", "lambda.canary.weight", "less than 1"),
    ("refresh-checkpoints-descending", "dev", _in_model("ec2", ["ec2", "refresh"], {"checkpoint_percentages": [50, 20, 100]}),
     "ec2", "ec2.refresh.checkpoint_percentages", "ascending order"),
    ("refresh-stops-short", "dev", _in_model("ec2", ["ec2", "refresh"], {"checkpoint_percentages": [20, 50]}),
     "ec2", "ec2.refresh.checkpoint_percentages", "the last checkpoint must be 100"),
    ("refresh-healthy-span-too-wide", "staging", _in_model("ec2", ["ec2", "refresh"], {
        "min_healthy_percentage": 50, "max_healthy_percentage": 200}),
     "ec2", "ec2.refresh.max_healthy_percentage", "at most 100 points"),
    ("prod-refresh-in-one-step", "prod", _in_model("ec2", ["ec2", "refresh"], {"checkpoint_percentages": [100]}),
     "ec2", "ec2.refresh.checkpoint_percentages", "at least one checkpoint below 100"),
    ("prod-refresh-outruns-its-alarms", "prod",
     _in_model("ec2", ["ec2", "refresh"], {"checkpoint_delay_seconds": 60}),
     "ec2", "ec2.refresh.checkpoint_delay_seconds", "evaluation window (300 s"),
    ("prod-monitor-off", "prod", _in_model("sagemaker", ["sagemaker", "monitor", "enabled"], False),
     "sagemaker", "sagemaker.monitor.enabled", "prod monitors every capturing endpoint"),
    ("prod-monitor-without-baseline", "prod", _in_model("sagemaker", ["sagemaker", "monitor"], {}),
     "sagemaker", "sagemaker.monitor.baseline_prefix", "prod compares captured data with a baseline"),
    ("prod-monitor-without-drift-alarm", "prod",
     _in_model("sagemaker", ["sagemaker", "monitor"], {"baseline_prefix": "1.4.0/baseline/"}),
     "sagemaker", "sagemaker.monitor.drift_features", "prod alarms on drift"),
    ("drift-without-baseline", "dev", _in_model("sagemaker", ["sagemaker", "monitor"], {"drift_features": ["age"]}),
     "sagemaker", "sagemaker.monitor.drift_features", "set baseline_prefix"),
    ("monitor-schedule-sagemaker-refuses", "dev",
     _in_model("sagemaker", ["sagemaker", "monitor", "schedule"], "cron(*/5 * ? * * *)"),
     "sagemaker", "sagemaker.monitor.schedule", "hourly 'cron(0 * ? * * *)'"),
    ("model-quality-needs-a-provider-resource", "dev",
     _in_model("sagemaker", ["sagemaker", "monitor", "ground_truth_prefix"], "ground-truth/"),
     "sagemaker", "sagemaker.monitor.ground_truth_prefix", "aws_sagemaker_model_quality_job_definition"),
    ("drift-rollback-outlasts-the-baking", "prod",
     _in_model("sagemaker", ["sagemaker", "monitor", "rollback_on_drift"], True),
     "sagemaker", "sagemaker.monitor.rollback_on_drift", "no run judges the new fleet"),
    ("monitor-on-local-storage-instance", "dev",
     _in_model("sagemaker", ["sagemaker", "monitor", "instance_type"], "ml.m5d.xlarge"),
     "sagemaker", "sagemaker.monitor.instance_type", "volume KMS key"),
    ("function-has-no-image", "dev", _in_model("lambda", ["image_digest"], "sha256:" + "a" * 64),
     "lambda", "image_digest", "runs no image of its own"),
]


@pytest.mark.parametrize("case, env, mutate, serving, key, fragment", CASES, ids=[c[0] for c in CASES])
def test_model_rule(tmp_path, case, env, mutate, serving, key, fragment):
    platform = read_yaml(ENVIRONMENTS / f"{env}.yaml")["platform"]
    expect_error(tmp_path, env, mutate, f"platform.models[{index(platform, serving)}].{key}", fragment)


PLATFORM_CASES = [
    ("public-vpc-cidr", "dev", _set(["network", "vpc_cidr"], "8.8.0.0/16"), "platform.network.vpc_cidr", "private"),
    ("vpc-cidr-too-small", "dev", _set(["network", "vpc_cidr"], "10.10.0.0/24"), "platform.network.vpc_cidr", "/22"),
    ("vpc-cidr-host-bits", "dev", _set(["network", "vpc_cidr"], "10.10.0.1/16"), "platform.network.vpc_cidr",
     "host bits"),
    ("prod-two-azs", "prod", _set(["network", "az_count"], 2), "platform.network.az_count", "at least 3"),
    ("az-count-out-of-bounds", "dev", _set(["network", "az_count"], 1), "platform.network.az_count",
     "greater than or equal to 2"),
    ("zone-of-other-region", "dev", _set(["network", "availability_zones"], ["eu-west-1a", "us-east-1b"]),
     "platform.network.availability_zones[1]", "not a zone of the environment's region"),
    ("nat-per-az-without-egress", "staging", _set(["network", "nat_gateway_per_az"], True),
     "platform.network.nat_gateway_per_az", "only when egress"),
    ("prod-single-nat", "prod", _set(["network", "nat_gateway_per_az"], False), "platform.network.nat_gateway_per_az",
     "one NAT gateway per AZ"),
    ("prod-no-deletion-protection", "prod", _set(["deletion_protection"], False), "platform.deletion_protection",
     "protected from deletion"),
    ("unknown-platform-key", "dev", _set(["vpc"], {"cidr": "10.0.0.0/16"}), "platform.vpc", "unknown key"),
]


@pytest.mark.parametrize("case, env, mutate, key, fragment", PLATFORM_CASES, ids=[c[0] for c in PLATFORM_CASES])
def test_platform_rule(tmp_path, case, env, mutate, key, fragment):
    expect_error(tmp_path, env, mutate, key, fragment)


def test_missing_serving_section(tmp_path):
    def mutate(platform):
        del model(platform, "ec2")["ec2"]
    expect_error(tmp_path, "dev", mutate, f"platform.models[{3}]", "needs a 'ec2' section")


def test_section_of_another_kind(tmp_path):
    def mutate(platform):
        model(platform, "lambda")["sagemaker"] = section(platform, "sagemaker")
    expect_error(tmp_path, "dev", mutate, "platform.models[2]", "takes only the 'lambda' section")


def test_duplicate_model_names(tmp_path):
    def mutate(platform):
        model(platform, "lambda")["name"] = "fraud-scorer"
    expect_error(tmp_path, "dev", mutate, "platform.models", "must be unique")


def test_prefix_overlap_between_functions(tmp_path):
    def mutate(platform):
        second = dict(model(platform, "lambda"), name="doc-classifier-v2")
        second["lambda"] = dict(second["lambda"], input_prefix="batch/doc-classifier/")
        platform["models"].append(second)
    expect_error(tmp_path, "dev", mutate, "platform.models[4].lambda.input_prefix", "overlaps a prefix")


@pytest.mark.parametrize("serving, key", (("sagemaker", "image_digest"), ("sagemaker-serverless", "artifact_sha256")))
def test_prod_refuses_a_model_until_its_image_digest_and_artifact_checksum_are_configured(tmp_path, serving, key):
    """Prod serves what was published and reviewed: the error names the file and the model's line and
    says where to publish (the repository, or the artifact's S3 location) and what to record."""
    platform = read_yaml(ENVIRONMENTS / "prod.yaml")["platform"]
    i = index(platform, serving)
    error = expect_error(tmp_path, "prod", _in_model(serving, [key], _DELETE), f"platform.models[{i}].{key}", "prod pins")
    name, version = model(platform, serving)["name"], model(platform, serving)["version"]
    text = (tmp_path / "environments" / "prod.yaml").read_text().splitlines()
    assert text[error.line - 1].strip() == f"- name: {name}"  # the model's entry: the key itself is missing
    where = (f"777788889999.dkr.ecr.eu-west-1.amazonaws.com/aegis-prod-{name}:{version}" if key == "image_digest"
             else f"s3://aegis-prod-model-artifacts-777788889999-eu-west-1/models/{name}/{version}/model.tar.gz")
    assert where in error.message and "README: Publishing a model" in error.message


def test_fleet_agents_need_a_known_guardduty_bucket_with_or_without_egress():
    """The GuardDuty agent comes through the S3 gateway endpoint (its route beats a NAT gateway's default
    route), whose policy must name its region's bucket exactly; a region Aegis does not know the bucket of
    is refused, not guessed, whether or not the VPC has egress."""
    for env in ("staging", "prod"):
        config = load_env(env)
        assert config.access.guardduty.runtime_monitoring
        assert not [p for p in config.platform.problems(config) if "GuardDuty agent" in p[1]]
        elsewhere = config.model_copy(update={"region": "ap-south-1"})
        (problem,) = [p for p in config.platform.problems(elsewhere) if "GuardDuty agent" in p[1]]
        assert problem[0] == "models" and "ap-south-1" in problem[1] and "aws_owned_buckets.py" in problem[1]


def test_error_names_the_line(tmp_path):
    error = expect_error(tmp_path, "prod", _in_model("sagemaker", ["sagemaker", "initial_instance_count"], 1),
                         "platform.models[0].sagemaker.initial_instance_count", "prod needs at least 2")
    text = (tmp_path / "environments" / "prod.yaml").read_text().splitlines()
    assert text[error.line - 1].strip() == "initial_instance_count: 1"


def test_cli_exits_2_and_names_the_key(tmp_path):
    directory = env_dir(tmp_path, "prod", _in_model("ec2", ["ec2", "on_demand_base_capacity"], 0))
    result = CliRunner().invoke(cli, ["--environments", str(directory), "validate"])
    assert result.exit_code == 2
    assert "environments/prod.yaml:" in result.output
    assert "platform.models[3].ec2.on_demand_base_capacity" in result.output


@pytest.mark.parametrize("env", ("dev", "staging", "prod"))
def test_every_serving_kind_in_every_default_env(env):
    config = load_env(env)
    assert {m.serving for m in config.platform.models} == set(SECTION)


def test_prod_grade_values():
    platform = load_env("prod").platform
    by_kind = {m.serving: m for m in platform.models}
    assert platform.network.az_count >= 3 and platform.network.nat_gateway_per_az
    assert platform.deletion_protection and load_env("prod").access.logs.retention_days >= 365
    assert by_kind["sagemaker"].sagemaker.initial_instance_count >= 2
    assert by_kind["sagemaker"].sagemaker.autoscaling.min_capacity >= 2
    assert by_kind["sagemaker-serverless"].serverless.provisioned_concurrency.min_capacity >= 2
    assert by_kind["lambda"].function.code_signing
    assert by_kind["lambda"].function.provisioned_concurrency.min_capacity >= 2
    assert by_kind["ec2"].ec2.on_demand_base_capacity >= 1 and by_kind["ec2"].ec2.min_size >= 2
    assert by_kind["ec2"].ec2.cloudfront is not None
