"""SageMaker real-time and serverless endpoints: network isolation in the VPC, the inference key,
encrypted data capture, instance counts, autoscaling, and execution roles scoped to their model."""
from __future__ import annotations

import json

import pytest

from modules.platform.sagemaker_base import VARIANT
from tests.platform.conftest import as_list, ref, ref_parts, statements


def _model_parts(view, model):
    _, sm_model = view.one_of_model("aws_sagemaker_model", model.name)
    _, config = view.one_of_model("aws_sagemaker_endpoint_configuration", model.name)
    _, endpoint = view.one_of_model("aws_sagemaker_endpoint", model.name)
    return sm_model, config, endpoint


def test_realtime_model_runs_isolated_in_private_subnets(view):
    (model,) = view.models("sagemaker")
    sm_model, _, _ = _model_parts(view, model)
    assert sm_model["enable_network_isolation"] is True
    vpc = sm_model["vpc_config"]
    assert sorted(vpc["subnets"]) == view.private_subnet_refs()
    (sg,) = vpc["security_group_ids"]
    sg_logical = ref_parts(sg)[1]
    assert view.res("aws_security_group")[sg_logical]["name"] == view.naming.resource("sagemaker-workloads")
    assert view.rules_of(sg_logical, "ingress") == []


def test_model_image_and_artifacts_come_from_its_own_repository_and_prefix(view):
    for model in view.models("sagemaker") + view.models("sagemaker-serverless"):
        sm_model, _, _ = _model_parts(view, model)
        container = sm_model["primary_container"]
        repository = f"{view.naming.registry}/{view.naming.model_resource(model.name)}"
        assert container["image"].startswith(f"{repository}@")  # by digest (tests/platform/test_published.py)
        assert container["model_data_url"] == (
            f"s3://{view.naming.bucket('model-artifacts')}/models/{model.name}/{model.version}/model.tar.gz")


def test_realtime_endpoint_config_encrypts_and_captures(view):
    (model,) = view.models("sagemaker")
    s = model.sagemaker
    _, config, endpoint = _model_parts(view, model)
    assert config["kms_key_arn"] == view.key_ref("inference")
    capture = config["data_capture_config"]
    assert capture["enable_capture"] is True
    assert capture["initial_sampling_percentage"] == s.data_capture_percent
    assert capture["kms_key_id"] == view.key_ref("inference")
    assert capture["destination_s3_uri"] == f"s3://{view.naming.bucket('inference')}/data-capture/{model.name}"
    assert sorted(o["capture_mode"] for o in capture["capture_options"]) == ["Input", "Output"]
    (variant,) = config["production_variants"]
    assert variant["variant_name"] == VARIANT
    assert variant["instance_type"] == s.instance_type
    assert variant["initial_instance_count"] == s.initial_instance_count
    assert endpoint["name"] == view.naming.model_resource(model.name)
    assert ref_parts(endpoint["endpoint_config_name"])[0] == "aws_sagemaker_endpoint_configuration"
    assert config["lifecycle"] == {"create_before_destroy": True}  # immutable configs roll out by replacement


def test_prod_variants_have_at_least_two_instances(prod):
    for _, config in prod.res("aws_sagemaker_endpoint_configuration").items():
        for variant in config["production_variants"]:
            if "serverless_config" in variant:
                continue
            assert variant["initial_instance_count"] >= 2
    for target in prod.res("aws_appautoscaling_target").values():
        assert target["min_capacity"] >= 2


def test_realtime_autoscaling_tracks_invocations_per_instance(view):
    (model,) = view.models("sagemaker")
    scaling = model.sagemaker.autoscaling
    endpoint = view.naming.model_resource(model.name)
    (target_logical, target) = view.one_of_model("aws_appautoscaling_target", model.name)
    assert target["resource_id"] == f"endpoint/{endpoint}/variant/{VARIANT}"
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert (target["min_capacity"], target["max_capacity"]) == (scaling.min_capacity, scaling.max_capacity)
    _, policy = view.one_of_model("aws_appautoscaling_policy", model.name)
    assert policy["resource_id"] == ref("aws_appautoscaling_target", target_logical, "resource_id")
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["predefined_metric_specification"]["predefined_metric_type"] == \
        "SageMakerVariantInvocationsPerInstance"
    assert tracking["target_value"] == scaling.target_invocations_per_instance
    assert tracking["scale_in_cooldown"] > tracking["scale_out_cooldown"]


def test_scheduled_actions_follow_config(view):
    (model,) = view.models("sagemaker")
    wanted = {a.name: a for a in model.sagemaker.autoscaling.scheduled_actions}
    actions = view.of_model("aws_appautoscaling_scheduled_action", model.name)
    assert len(actions) == len(wanted)
    if view.env == "prod":
        assert wanted  # prod scales with business hours
    for action in actions.values():
        name = action["name"].rsplit("-invocations-", 1)[1]
        assert action["schedule"] == wanted[name].schedule
        assert action["scalable_target_action"] == {"min_capacity": str(wanted[name].min_capacity),
                                                     "max_capacity": str(wanted[name].max_capacity)}


def test_serverless_endpoint(view):
    (model,) = view.models("sagemaker-serverless")
    s = model.serverless
    sm_model, config, endpoint = _model_parts(view, model)
    assert "vpc_config" not in sm_model  # unsupported by serverless inference (suppression documents it)
    assert [x["id"] for x in sm_model["//"]["aegis_suppressions"]] == ["CKV_AWS_370"]
    assert config["kms_key_arn"] == view.key_ref("inference")
    assert "data_capture_config" not in config
    (variant,) = config["production_variants"]
    assert variant["serverless_config"] == {"memory_size_in_mb": s.memory_size_mb, "max_concurrency": s.max_concurrency,
                                            "provisioned_concurrency": s.provisioned_concurrency.min_capacity}
    assert endpoint["name"] == view.naming.model_resource(model.name)
    _, target = view.one_of_model("aws_appautoscaling_target", model.name)
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredProvisionedConcurrency"
    _, policy = view.one_of_model("aws_appautoscaling_policy", model.name)
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert tracking["predefined_metric_specification"]["predefined_metric_type"] == \
        "SageMakerVariantProvisionedConcurrencyUtilization"
    assert tracking["target_value"] == s.provisioned_concurrency.target_utilization


@pytest.mark.parametrize("serving", ("sagemaker", "sagemaker-serverless"))
def test_execution_role_is_limited_to_its_model(view, serving):
    (model,) = view.models(serving)
    sm_model, _, _ = _model_parts(view, model)
    role_logical = ref_parts(sm_model["execution_role_arn"])[1]
    role = view.res("aws_iam_role")[role_logical]
    assert role["name"] == view.naming.role(f"{model.name}-exec")
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": view.config.account_id}}
    artifacts = view.naming.bucket_arn("model-artifacts")
    keys = {view.key_ref("model"), view.key_ref("inference")}
    for stmt in statements(view.role_policy(role_logical)):
        actions = as_list(stmt["Action"])
        resources = as_list(stmt["Resource"])
        if any(a.startswith("s3:") for a in actions):
            if stmt["Sid"] == "WriteOwnDataCapture":
                assert resources == [f"{view.naming.bucket_arn('inference')}/data-capture/{model.name}/*"]
            elif actions == ["s3:ListBucket"]:
                assert resources == [artifacts]
                assert stmt["Condition"]["StringLike"]["s3:prefix"] == f"models/{model.name}/*"
            else:
                assert resources == [f"{artifacts}/models/{model.name}/*"]
        elif any(a.startswith("kms:") for a in actions):
            assert set(resources) <= keys
        elif actions == ["ecr:GetAuthorizationToken"]:
            assert resources == ["*"]
        elif any(a.startswith("ecr:") for a in actions):  # the repository <env>-data created
            assert resources == [view.naming.model_repository_arn(model.name)]
        elif any(a.startswith("ec2:Describe") for a in actions):
            assert all(a.startswith("ec2:Describe") for a in actions)
        for resource in resources:
            assert resource != "*" or stmt["Sid"] in ("EcrAuthorizationToken", "DescribeNetwork")
    sids = {s["Sid"] for s in statements(view.role_policy(role_logical))}
    assert ("WriteOwnDataCapture" in sids) == (serving == "sagemaker")
    assert ("ManageEndpointNetworkInterfaces" in sids) == (serving == "sagemaker")


def test_terraform_created_models_are_named_within_the_persona_scope_and_boundary_rule(view, synthesized):
    """An unnamed model gets `terraform-…` from the provider: out of the personas' `model/<prefix>-*`
    scope, and (serverless) outside the boundary's `<prefix>-serverless-*` rule for VPC-less models."""
    import fnmatch
    import re

    from modules.boundary import serverless_model_arn_pattern

    n = view.naming
    persona_scope = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model/{n.prefix}-*"
    serverless = serverless_model_arn_pattern(n)
    models = view.res("aws_sagemaker_model")
    assert models
    names = set()
    for conf in models.values():
        name = conf.get("name")
        assert isinstance(name, str) and re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", name) and len(name) <= 63, name
        arn = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model/{name}"
        assert fnmatch.fnmatchcase(arn, persona_scope), name
        assert fnmatch.fnmatchcase(arn, serverless) is ("vpc_config" not in conf), name
        names.add(name)
    assert len(names) == len(models)


def test_model_name_changes_with_what_the_model_is_made_of():
    """Models are replaced create-before-destroy without a name prefix: a new version gets a new name."""
    from modules.config import load_env
    from modules.naming import Naming
    from modules.platform.sagemaker_base import sagemaker_model_name

    cfg = load_env("dev")
    model = next(m for m in cfg.platform.models if m.serving.startswith("sagemaker"))
    naming = Naming.of(cfg)
    bumped = model.model_copy(update={"version": model.version + "1"})
    assert sagemaker_model_name(naming, model, vpc=True) != sagemaker_model_name(naming, bumped, vpc=True)
    assert sagemaker_model_name(naming, model, vpc=True) == sagemaker_model_name(naming, model, vpc=True)


def test_realtime_endpoint_releases_with_guardrails_and_alarm_rollback(view):
    (model,) = view.models("sagemaker")
    release = model.sagemaker.deployment
    _, _, endpoint = _model_parts(view, model)
    policy = endpoint["deployment_config"]["blue_green_update_policy"]
    routing = policy["traffic_routing_configuration"]
    assert routing["type"] == release.traffic
    assert routing["wait_interval_in_seconds"] == release.wait_interval_seconds
    step = {"type": release.step_unit, "value": release.step_size}
    assert routing.get("canary_size") == (step if release.traffic == "CANARY" else None)
    assert routing.get("linear_step_size") == (step if release.traffic == "LINEAR" else None)
    assert policy["termination_wait_in_seconds"] == release.baking_seconds
    assert policy["maximum_execution_timeout_in_seconds"] == release.maximum_execution_timeout_seconds
    alarms = [a["alarm_name"] for a in endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]]
    # The model's own latency and error alarms, by the names the access pillar gives them.
    assert alarms == [view.naming.alarm("model", model.name, key) for key in ("latency-p99", "5xx-rate", "4xx-rate")]
    if view.env == "prod":
        assert routing["type"] in ("CANARY", "LINEAR")


def test_rollback_alarms_exist_in_the_access_stack(view):
    (model,) = view.models("sagemaker")
    _, _, endpoint = _model_parts(view, model)
    access = view.synthesized.stack(f"{view.env}-access").get("resource", {})
    alarm_names = {a["alarm_name"] for a in access.get("aws_cloudwatch_metric_alarm", {}).values()}
    wanted = {a["alarm_name"] for a in endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]}
    assert wanted and wanted <= alarm_names


def test_serverless_endpoint_has_no_guardrails(view):
    # AWS: deployment guardrails apply to real-time and asynchronous endpoints only.
    (model,) = view.models("sagemaker-serverless")
    _, _, endpoint = _model_parts(view, model)
    assert "deployment_config" not in endpoint


def test_release_settings_do_not_replace_the_model(view):
    from modules.platform.sagemaker_base import sagemaker_model_name
    (model,) = view.models("sagemaker")
    sagemaker = model.sagemaker
    other = sagemaker.model_copy(update={"deployment": sagemaker.deployment.model_copy(update={"baking_seconds": 0})})
    changed = model.model_copy(update={"sagemaker": other})
    assert sagemaker_model_name(view.naming, changed, vpc=True) == sagemaker_model_name(view.naming, model, vpc=True)


def test_the_execution_role_reads_only_its_rollback_alarms(view):
    # SageMaker reads the rollback alarms with the endpoint's execution role during a guarded update.
    (model,) = view.models("sagemaker")
    sm_model, _, endpoint = _model_parts(view, model)
    names = [a["alarm_name"] for a in endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]]
    role_logical = ref_parts(sm_model["execution_role_arn"])[1]
    granted = [s for s in statements(view.role_policy(role_logical))
               if any(a.startswith("cloudwatch:") for a in as_list(s["Action"]))]
    (grant,) = granted
    assert as_list(grant["Action"]) == ["cloudwatch:DescribeAlarms"]
    assert sorted(as_list(grant["Resource"])) == sorted(view.naming.alarm_arn(n) for n in names)
