"""App-level platform checks: model isolation, prod capacity, autoscaling, Lambda controls, On-Demand base."""
from __future__ import annotations

import copy

import pytest

from tests.policies.app_checks.helpers import app, failures, resources, run, verdict, with_models

MODEL = {"name": "aegis-{env}-fraud", "execution_role_arn": "${aws_iam_role.exec.arn}",
         "primary_container": {"image": "1.dkr.ecr.eu-west-1.amazonaws.com/x:1"},
         "vpc_config": {"subnets": ["${aws_subnet.a.id}", "${aws_subnet.b.id}"],
                        "security_group_ids": ["${aws_security_group.m.id}"]},
         "enable_network_isolation": True}
INSTANCE_VARIANT = {"variant_name": "primary", "model_name": "${aws_sagemaker_model.fraud.name}",
                    "instance_type": "ml.m5.xlarge", "initial_instance_count": 2}
SERVERLESS_VARIANT = {"variant_name": "primary", "model_name": "${aws_sagemaker_model.small.name}",
                      "serverless_config": {"max_concurrency": 5, "memory_size_in_mb": 2048}}


def sagemaker(env: str, *, min_capacity=2, max_capacity=4, count=2, policy=True, model=None, variants=None):
    model = copy.deepcopy(model or MODEL)
    model["name"] = model["name"].format(env=env)
    variants = variants or [dict(INSTANCE_VARIANT, initial_instance_count=count)]
    name = f"aegis-{env}-fraud"
    res = {
        "aws_sagemaker_model": {"fraud": model},
        "aws_sagemaker_endpoint_configuration": {"fraud": {"name": name, "production_variants": variants}},
        "aws_sagemaker_endpoint": {"fraud": {"name": name, "endpoint_config_name":
                                             "${aws_sagemaker_endpoint_configuration.fraud.name}"}},
        "aws_appautoscaling_target": {"fraud": {
            "service_namespace": "sagemaker", "scalable_dimension": "sagemaker:variant:DesiredInstanceCount",
            "resource_id": "endpoint/${aws_sagemaker_endpoint.fraud.name}/variant/primary",
            "min_capacity": min_capacity, "max_capacity": max_capacity}},
    }
    if policy:
        res["aws_appautoscaling_policy"] = {"fraud": {
            "name": "invocations", "policy_type": "TargetTrackingScaling",
            "resource_id": "${aws_appautoscaling_target.fraud.resource_id}",
            "scalable_dimension": "${aws_appautoscaling_target.fraud.scalable_dimension}",
            "service_namespace": "${aws_appautoscaling_target.fraud.service_namespace}",
            "target_tracking_scaling_policy_configuration": {
                "target_value": 70, "scale_in_cooldown": 300, "scale_out_cooldown": 60,
                "predefined_metric_specification": {"predefined_metric_type": "SageMakerVariantInvocationsPerInstance"}}}}
    return app(env, platform=resources(**res))


class TestModelNetworkIsolation:
    def test_vpc_and_isolation_pass(self):
        assert verdict(run("AEGIS_MODEL_NETWORK_ISOLATION", sagemaker("dev")), "aws_sagemaker_model.fraud")

    @pytest.mark.parametrize("drop", ["vpc_config", "enable_network_isolation"])
    def test_missing_vpc_or_isolation_fails(self, drop):
        model = {k: v for k, v in MODEL.items() if k != drop}
        results = run("AEGIS_MODEL_NETWORK_ISOLATION", sagemaker("dev", model=model))
        assert not verdict(results, "aws_sagemaker_model.fraud")

    def test_model_used_only_by_serverless_variants_is_not_judged(self):
        model = {k: v for k, v in MODEL.items() if k not in ("vpc_config", "enable_network_isolation")}
        stacks = sagemaker("dev", model=model, variants=[dict(SERVERLESS_VARIANT,
                                                              model_name="${aws_sagemaker_model.fraud.name}")])
        assert run("AEGIS_MODEL_NETWORK_ISOLATION", stacks) == []


class TestProdVariantInstances:
    def test_two_instances_in_prod_pass(self):
        assert verdict(run("AEGIS_PROD_VARIANT_INSTANCES", sagemaker("prod", count=2)),
                       "aws_sagemaker_endpoint_configuration.fraud")

    @pytest.mark.parametrize("count", [1, "${var.count}"])
    def test_one_or_unknown_instances_in_prod_fail(self, count):
        assert not verdict(run("AEGIS_PROD_VARIANT_INSTANCES", sagemaker("prod", count=count, min_capacity=2)),
                           "aws_sagemaker_endpoint_configuration.fraud")

    def test_dev_may_run_one_instance(self):
        assert run("AEGIS_PROD_VARIANT_INSTANCES", sagemaker("dev", count=1)) == []


class TestEndpointAutoscaling:
    @pytest.mark.parametrize("env, low", [("dev", 1), ("prod", 2)])
    def test_target_and_policy_pass(self, env, low):
        results = run("AEGIS_ENDPOINT_AUTOSCALING", sagemaker(env, min_capacity=low))
        assert verdict(results, "aws_sagemaker_endpoint.fraud"), failures(results)

    @pytest.mark.parametrize("env, kwargs", [
        ("dev", {"policy": False}),                      # target without a policy
        ("dev", {"min_capacity": 5, "max_capacity": 2}),  # min > max
        ("dev", {"min_capacity": 0}),                    # scales the model to zero
        ("prod", {"min_capacity": 1}),                   # prod needs min ≥ 2
        ("dev", {"min_capacity": "${var.min}"}),         # not judged
    ])
    def test_missing_policy_or_bad_capacity_fails(self, env, kwargs):
        assert not verdict(run("AEGIS_ENDPOINT_AUTOSCALING", sagemaker(env, **kwargs)), "aws_sagemaker_endpoint.fraud")

    def test_endpoint_without_target_fails(self):
        stacks = sagemaker("dev")
        del stacks["dev-platform"]["resource"]["aws_appautoscaling_target"]
        assert not verdict(run("AEGIS_ENDPOINT_AUTOSCALING", stacks), "aws_sagemaker_endpoint.fraud")

    def test_serverless_without_provisioned_concurrency_passes(self):
        stacks = sagemaker("prod", variants=[SERVERLESS_VARIANT], policy=False)
        del stacks["prod-platform"]["resource"]["aws_appautoscaling_target"]
        assert verdict(run("AEGIS_ENDPOINT_AUTOSCALING", stacks), "aws_sagemaker_endpoint.fraud")

    def test_serverless_with_provisioned_concurrency_needs_scaling(self):
        variant = copy.deepcopy(SERVERLESS_VARIANT)
        variant["serverless_config"]["provisioned_concurrency"] = 2
        stacks = sagemaker("prod", variants=[variant])
        assert not verdict(run("AEGIS_ENDPOINT_AUTOSCALING", stacks), "aws_sagemaker_endpoint.fraud")
        target = stacks["prod-platform"]["resource"]["aws_appautoscaling_target"]["fraud"]
        target["scalable_dimension"] = "sagemaker:variant:DesiredProvisionedConcurrency"
        assert verdict(run("AEGIS_ENDPOINT_AUTOSCALING", stacks), "aws_sagemaker_endpoint.fraud")


def lambda_app(env: str, *, provisioned=True, target=True, policy=True, low=2, reserved=50, signing=True,
               enforce="Enforce"):
    fn = f"aegis-{env}-churn"
    res = {
        "aws_lambda_function": {"churn": {"function_name": fn, "role": "${aws_iam_role.r.arn}",
                                          "reserved_concurrent_executions": reserved}},
        "aws_lambda_alias": {"live": {"name": "live", "function_name": "${aws_lambda_function.churn.function_name}",
                                      "function_version": "${aws_lambda_function.churn.version}"}},
    }
    if signing:
        res["aws_lambda_function"]["churn"]["code_signing_config_arn"] = "${aws_lambda_code_signing_config.sign.arn}"
        res["aws_lambda_code_signing_config"] = {"sign": {
            "allowed_publishers": {"signing_profile_version_arns": ["${aws_signer_signing_profile.p.version_arn}"]},
            "policies": {"untrusted_artifact_on_deployment": enforce}}}
    if provisioned:
        res["aws_lambda_provisioned_concurrency_config"] = {"live": {
            "function_name": "${aws_lambda_function.churn.function_name}", "qualifier": "${aws_lambda_alias.live.name}",
            "provisioned_concurrent_executions": 2}}
    if target:
        res["aws_appautoscaling_target"] = {"live": {
            "service_namespace": "lambda", "scalable_dimension": "lambda:function:ProvisionedConcurrency",
            "resource_id": "function:${aws_lambda_function.churn.function_name}:${aws_lambda_alias.live.name}",
            "min_capacity": low, "max_capacity": 10}}
    if policy:
        res["aws_appautoscaling_policy"] = {"live": {
            "name": "utilization", "policy_type": "TargetTrackingScaling",
            "resource_id": "${aws_appautoscaling_target.live.resource_id}",
            "scalable_dimension": "${aws_appautoscaling_target.live.scalable_dimension}",
            "service_namespace": "${aws_appautoscaling_target.live.service_namespace}",
            "target_tracking_scaling_policy_configuration": {"target_value": 0.7, "predefined_metric_specification": {
                "predefined_metric_type": "LambdaProvisionedConcurrencyUtilization"}}}}
    return app(env, platform=resources(**res))


class TestLambdaAliasAutoscaling:
    def test_prod_alias_with_scaled_provisioned_concurrency_passes(self):
        assert verdict(run("AEGIS_LAMBDA_ALIAS_AUTOSCALING", lambda_app("prod")), "aws_lambda_alias.live")

    def test_dev_alias_on_demand_passes(self):
        stacks = lambda_app("dev", provisioned=False, target=False, policy=False)
        assert verdict(run("AEGIS_LAMBDA_ALIAS_AUTOSCALING", stacks), "aws_lambda_alias.live")

    @pytest.mark.parametrize("env, kwargs", [
        ("prod", {"provisioned": False, "target": False, "policy": False}),  # prod must scale
        ("prod", {"low": 1}),                                               # prod min ≥ 2
        ("dev", {"target": False, "policy": False}),                        # provisioned but unscaled
        ("dev", {"policy": False}),
    ])
    def test_unscaled_or_too_small_fails(self, env, kwargs):
        assert not verdict(run("AEGIS_LAMBDA_ALIAS_AUTOSCALING", lambda_app(env, **kwargs)), "aws_lambda_alias.live")


class TestLambdaInferenceControls:
    @staticmethod
    def _run(env, stacks):
        return run("AEGIS_LAMBDA_INFERENCE_CONTROLS", stacks, configs={env: with_models(env, ("churn", "lambda"))})

    def test_prod_function_with_reserved_concurrency_and_enforced_signing_passes(self):
        results = self._run("prod", lambda_app("prod"))
        assert verdict(results, "aws_lambda_function.churn"), failures(results)

    @pytest.mark.parametrize("env, kwargs", [
        ("dev", {"reserved": None}), ("prod", {"reserved": 0}), ("prod", {"reserved": "${var.reserved}"}),
        ("prod", {"signing": False}), ("prod", {"enforce": "Warn"}),
    ])
    def test_unreserved_or_unsigned_prod_function_fails(self, env, kwargs):
        stacks = lambda_app(env, **kwargs)
        if kwargs.get("reserved", 1) is None:
            del stacks[f"{env}-platform"]["resource"]["aws_lambda_function"]["churn"]["reserved_concurrent_executions"]
        assert not verdict(self._run(env, stacks), "aws_lambda_function.churn")

    def test_dev_needs_no_code_signing(self):
        assert verdict(self._run("dev", lambda_app("dev", signing=False)), "aws_lambda_function.churn")

    def test_configured_lambda_model_without_function_fails(self):
        results = self._run("dev", app("dev"))
        assert [r.passed for r in results] == [False]

    def test_functions_of_other_serving_kinds_are_not_judged(self):
        results = run("AEGIS_LAMBDA_INFERENCE_CONTROLS", lambda_app("dev", reserved=0),
                      configs={"dev": with_models("dev", ("churn", "sagemaker"))})
        assert results == []


def fleet(env: str, distribution=None, market=None):
    template = {"name": "t"}
    if market:
        template["instance_market_options"] = {"market_type": market}
    group = {"name": f"aegis-{env}-llm", "min_size": 2, "max_size": 4}
    if distribution is None:
        group["launch_template"] = {"id": "${aws_launch_template.llm.id}", "version": "$Latest"}
    else:
        group["mixed_instances_policy"] = {"instances_distribution": distribution, "launch_template": {
            "launch_template_specification": {"launch_template_id": "${aws_launch_template.llm.id}"}}}
    return app(env, platform=resources(aws_launch_template={"llm": template}, aws_autoscaling_group={"llm": group}))


class TestProdGpuOnDemandBase:
    @pytest.mark.parametrize("distribution", [
        {"on_demand_base_capacity": 1, "on_demand_percentage_above_base_capacity": 0},
        {"on_demand_percentage_above_base_capacity": 100},
        None,                                                 # plain launch template: On-Demand
    ])
    def test_on_demand_base_or_all_on_demand_passes(self, distribution):
        assert verdict(run("AEGIS_PROD_GPU_ON_DEMAND_BASE", fleet("prod", distribution)), "aws_autoscaling_group.llm")

    @pytest.mark.parametrize("distribution, market", [
        ({"on_demand_base_capacity": 0, "on_demand_percentage_above_base_capacity": 0}, None),
        ({"on_demand_percentage_above_base_capacity": 50}, None),             # base defaults to 0
        (None, "spot"),                                                       # template requests Spot
    ])
    def test_prod_all_spot_fails(self, distribution, market):
        assert not verdict(run("AEGIS_PROD_GPU_ON_DEMAND_BASE", fleet("prod", distribution, market)),
                           "aws_autoscaling_group.llm")

    def test_dev_may_run_all_spot(self):
        assert run("AEGIS_PROD_GPU_ON_DEMAND_BASE", fleet("dev", {"on_demand_base_capacity": 0,
                                                                  "on_demand_percentage_above_base_capacity": 0})) == []
