"""Properties that hold across the whole platform stack: every model autoscales, no instance gets a
public IP, every log group is encrypted with a retention, every role is bounded and scoped."""
from __future__ import annotations

import json

from modules.boundary import boundary_arn
from modules.monitoring import monitored_models
from modules.training import training_roles
from tests.platform.conftest import as_list, statements


def test_every_model_has_an_autoscaling_target_and_policy(view):
    for model in view.config.platform.models:
        if model.serving == "ec2":
            assert view.of_model("aws_autoscaling_group", model.name), model.name
            assert view.of_model("aws_autoscaling_policy", model.name), model.name
            continue
        targets = view.of_model("aws_appautoscaling_target", model.name)
        policies = view.of_model("aws_appautoscaling_policy", model.name)
        assert len(targets) == 1 and len(policies) == 1, model.name
        (target,) = targets.values()
        assert target["min_capacity"] <= target["max_capacity"]
        (policy,) = policies.values()
        assert policy["policy_type"] == "TargetTrackingScaling"


def test_app_autoscaling_scales_in_slower_than_out(view):
    policies = view.res("aws_appautoscaling_policy").values()
    assert policies
    for policy in policies:
        tracking = policy["target_tracking_scaling_policy_configuration"]
        assert tracking["scale_in_cooldown"] > tracking["scale_out_cooldown"]
        assert tracking.get("disable_scale_in") is False


def test_prod_scaling_floors(prod):
    for target in prod.res("aws_appautoscaling_target").values():
        assert target["min_capacity"] >= 2
    for group in prod.res("aws_autoscaling_group").values():
        assert group["min_size"] >= 2


def test_no_instance_gets_a_public_ip(view):
    assert "aws_instance" not in view.stack.get("resource", {})
    for lt in view.res("aws_launch_template").values():
        assert lt["network_interfaces"] and all(n["associate_public_ip_address"] == "false"
                                                for n in lt["network_interfaces"])
        assert "vpc_security_group_ids" not in lt  # interfaces are defined explicitly
    for subnet in view.res("aws_subnet").values():
        assert subnet["map_public_ip_on_launch"] is False
    for eip in view.res("aws_eip").values():
        assert "instance" not in eip and "network_interface" not in eip  # NAT gateways only
    for group in view.res("aws_autoscaling_group").values():
        assert all(s in view.private_subnet_refs() for s in group["vpc_zone_identifier"])


def test_imdsv2_required_everywhere(view):
    for lt in view.res("aws_launch_template").values():
        assert lt["metadata_options"]["http_tokens"] == "required"
        assert lt["metadata_options"]["http_put_response_hop_limit"] == 1


def test_every_log_group_is_encrypted_with_a_retention(view):
    groups = view.res("aws_cloudwatch_log_group")
    assert len(groups) >= 6
    edge_keys = {"${aws_kms_key." + k + ".arn}" for k in view.res("aws_kms_key")}
    for logical, group in groups.items():
        assert group["retention_in_days"] == view.config.access.logs.retention_days, logical
        assert group["deletion_protection_enabled"] is view.config.platform.deletion_protection
        if group.get("region") == "us-east-1":
            assert group["kms_key_id"] in edge_keys, logical  # CloudWatch Logs needs a key of its region
        else:
            assert group["kms_key_id"] == view.key_ref("audit"), logical


def test_every_role_is_bounded_and_named_for_the_environment(view):
    roles = view.res("aws_iam_role")
    # flow logs + one per model + the training lane's (training role, a Studio role per Studio persona)
    # + Model Monitor's when a model is monitored
    store = view.config.platform.training.data_store.enabled  # its enhanced monitoring role
    monitor = bool(monitored_models(view.config))
    assert len(roles) == 1 + len(view.config.platform.models) + len(training_roles(view.config)) + store + monitor
    for role in roles.values():
        assert role["name"].startswith(view.naming.prefix + "-")
        assert role["permissions_boundary"] == boundary_arn(view.naming)
        trust = json.loads(role["assume_role_policy"])
        (stmt,) = trust["Statement"]
        assert list(stmt["Principal"]) == ["Service"] and stmt["Action"] == "sts:AssumeRole"


def test_role_policies_have_no_wildcard_actions(view):
    allowed_star_resources = {"ecr:GetAuthorizationToken", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
                              "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                              "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                              # modules/training.py: List* and Search have no resource-level permissions;
                              # PutMetricData is narrowed by its namespace condition
                              "sagemaker:ListApps", "sagemaker:ListHyperParameterTuningJobs",
                              "sagemaker:ListModelPackageGroups", "sagemaker:ListProcessingJobs",
                              "sagemaker:ListSpaces", "sagemaker:ListTrainingJobs", "sagemaker:ListUserProfiles",
                              "sagemaker:Search", "cloudwatch:PutMetricData"}
    for policy in view.res("aws_iam_role_policy").values():
        for stmt in statements(json.loads(policy["policy"])):
            if stmt["Effect"] == "Deny":  # the training job guards (modules/training.py: job_guards)
                assert stmt["Sid"].startswith("DenyJobsWithout"), stmt
                continue
            actions = as_list(stmt["Action"])
            assert all("*" not in a.split(":")[1] or a.endswith(("GenerateDataKey*", "ReEncrypt*")) for a in actions), \
                actions
            if "*" in as_list(stmt["Resource"]):
                # Only actions without resource-level permissions may name "*".
                assert set(actions) <= allowed_star_resources, actions


def test_model_resources_use_the_conventional_names(view):
    n = view.naming
    names = {
        "aws_sagemaker_endpoint": {v["name"] for v in view.res("aws_sagemaker_endpoint").values()},
        "aws_lambda_function": {v["function_name"] for v in view.res("aws_lambda_function").values()},
        "aws_autoscaling_group": {v["name"] for v in view.res("aws_autoscaling_group").values()},
        "aws_lb": {v["name"] for v in view.res("aws_lb").values()},
    }
    for model in view.config.platform.models:
        if model.serving in ("sagemaker", "sagemaker-serverless"):
            assert n.model_resource(model.name) in names["aws_sagemaker_endpoint"]
            assert n.endpoint_arn(model.name).endswith("endpoint/" + n.model_resource(model.name))
        elif model.serving == "lambda":
            assert n.model_resource(model.name) in names["aws_lambda_function"]
        else:
            assert n.model_resource(model.name) in names["aws_autoscaling_group"]
            assert n.load_balancer(model.name) in names["aws_lb"]


def test_long_names_are_shortened_stably():
    from modules.naming import Naming

    n = Naming("aegis", "staging", "444455556666", "eu-west-1", "eu-central-1")
    long = "a-rather-long-model-name-for-alb"
    assert n.load_balancer("short") == "aegis-staging-short"
    lb, tg = n.load_balancer(long), n.target_group(long)
    assert len(lb) == 32 and len(tg) == 32 and lb != tg
    assert lb == n.load_balancer(long) and lb.startswith("aegis-staging-a-rather")
