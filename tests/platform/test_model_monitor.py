"""Model Monitor in `<env>-platform`: one isolated, encrypted data-quality schedule per capturing real-time
endpoint, run as a monitoring role that reaches only the monitored models' capture, baselines and results."""
from __future__ import annotations

import json

from modules.boundary import boundary_arn
from modules.monitoring import DATA_METRICS_NAMESPACE, MONITOR_ROLE, schedule_name
from modules.platform.sagemaker_base import sagemaker_model_name
from modules.training import baseline_uri
from policies.iam_eval import Request, is_allowed
from tests.platform.conftest import ref


def _jobs_by_name(view) -> dict[str, dict]:
    return {j["name"]: j for j in view.res("aws_sagemaker_data_quality_job_definition").values()}


def test_every_capturing_endpoint_has_one_schedule_on_its_own_endpoint(view):
    capturing = [m.name for m in view.models("sagemaker")]
    assert capturing, "every shipped environment has a real-time model"
    schedules = {s["name"]: s for s in view.res("aws_sagemaker_monitoring_schedule").values()}
    assert sorted(schedules) == sorted(schedule_name(view.naming, m) for m in capturing)
    jobs = _jobs_by_name(view)
    for model in capturing:
        schedule = schedules[schedule_name(view.naming, model)]
        config = schedule["monitoring_schedule_config"]
        assert config["monitoring_type"] == "DataQuality"
        job = jobs[config["monitoring_job_definition_name"]]
        assert job["data_quality_job_input"]["endpoint_input"]["endpoint_name"] == view.naming.model_resource(model)
        (endpoint_logical, _), = view.of_model("aws_sagemaker_endpoint", model).items()
        assert f"aws_sagemaker_endpoint.{endpoint_logical}" in schedule["depends_on"]


def test_serverless_endpoints_get_no_monitor(view):
    monitored = {j["tags"]["Model"] for j in view.res("aws_sagemaker_data_quality_job_definition").values()}
    assert not monitored & {m.name for m in view.models("sagemaker-serverless")}


def test_jobs_run_isolated_in_the_private_subnets_with_the_inference_key(view):
    (group_logical,) = [k for k, g in view.res("aws_security_group").items()
                        if g["name"] == view.naming.resource("sagemaker-workloads")]
    inference = view.key_ref("inference")
    for job in view.res("aws_sagemaker_data_quality_job_definition").values():
        network = job["network_config"]
        assert network["enable_network_isolation"] is True
        assert network["enable_inter_container_traffic_encryption"] is True
        assert sorted(network["vpc_config"]["subnets"]) == view.private_subnet_refs()
        assert network["vpc_config"]["security_group_ids"] == [ref("aws_security_group", group_logical, "id")]
        assert job["job_resources"]["cluster_config"]["volume_kms_key_id"] == inference
        output = job["data_quality_job_output_config"]
        assert output["kms_key_id"] == inference
        assert output["monitoring_outputs"]["s3_output"]["s3_uri"] == (
            f"s3://{view.naming.bucket('inference')}/monitoring/{job['tags']['Model']}")
        assert job["role_arn"] == view.naming.role_arn(MONITOR_ROLE)
        assert job["lifecycle"]["create_before_destroy"] is True


def test_prod_baseline_is_verified_when_planned_and_dev_profiles_only(synthesized):
    from tests.platform.conftest import PlatformView
    prod, dev = PlatformView(synthesized, "prod"), PlatformView(synthesized, "dev")
    artifacts = prod.naming.bucket("model-artifacts")
    objects = {(o["bucket"], o["key"]) for o in prod.data("aws_s3_object").values()}
    for model in prod.models("sagemaker"):
        prefix = f"models/_baselines/{model.name}/{model.sagemaker_settings.monitor.baseline_prefix}"
        # The monitor reads a baseline where the model's pipeline writes them (one folder per execution).
        assert f"s3://{artifacts}/{prefix}".startswith(baseline_uri(prod.naming, model.name))
        (job,) = [j for j in prod.res("aws_sagemaker_data_quality_job_definition").values()
                  if j["tags"]["Model"] == model.name]
        baseline = job["data_quality_baseline_config"]
        for kind in ("statistics", "constraints"):
            assert baseline[f"{kind}_resource"]["s3_uri"] == f"s3://{artifacts}/{prefix}{kind}.json"
            assert (artifacts, f"{prefix}{kind}.json") in objects
    for job in dev.res("aws_sagemaker_data_quality_job_definition").values():
        assert "data_quality_baseline_config" not in job


def test_monitoring_role_is_bounded_and_reaches_only_what_the_jobs_need(view):
    n = view.naming
    (logical,) = [k for k, r in view.res("aws_iam_role").items() if r["name"] == n.role(MONITOR_ROLE)]
    role = view.res("aws_iam_role")[logical]
    assert role["permissions_boundary"] == boundary_arn(n)
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": n.account_id}}
    policy = [view.role_policy(logical)]
    inference, artifacts = n.bucket_arn("inference"), n.bucket_arn("model-artifacts")
    model = view.models("sagemaker")[0].name

    def allowed(action, resource, **context):
        return is_allowed(policy, Request(action, resource, context))

    assert allowed("s3:GetObject", f"{inference}/data-capture/{model}/2026/12/03/10/x.jsonl")
    assert allowed("s3:PutObject", f"{inference}/monitoring/{model}/report.json")
    assert not allowed("s3:PutObject", f"{inference}/data-capture/{model}/forged.jsonl")
    assert not allowed("s3:GetObject", f"{inference}/batch/{model}/input/x.json")
    assert not allowed("s3:GetObject", f"{artifacts}/models/{model}/1.4.0/model.tar.gz")
    assert not allowed("s3:PutObject", f"{artifacts}/models/{model}/1.4.0/baseline/constraints.json")
    assert allowed("cloudwatch:PutMetricData", "*", **{"cloudwatch:namespace": DATA_METRICS_NAMESPACE})
    assert not allowed("cloudwatch:PutMetricData", "*", **{"cloudwatch:namespace": "AWS/SageMaker"})


def test_prod_monitoring_role_reads_the_baseline_only(prod):
    n = prod.naming
    (logical,) = [k for k, r in prod.res("aws_iam_role").items() if r["name"] == n.role(MONITOR_ROLE)]
    policy = [prod.role_policy(logical)]
    model = prod.models("sagemaker")[0]
    baselines = f"{n.bucket_arn('model-artifacts')}/models/_baselines/{model.name}/"
    base = f"{baselines}{model.sagemaker_settings.monitor.baseline_prefix}"
    assert is_allowed(policy, Request("s3:GetObject", f"{base}constraints.json"))
    assert not is_allowed(policy, Request("s3:GetObject", f"{baselines}another-execution/constraints.json"))
    assert not is_allowed(policy, Request("s3:GetObject", f"{n.bucket_arn('model-artifacts')}/models/{model.name}/x"))


def test_monitor_settings_never_replace_the_model(prod):
    model = prod.models("sagemaker")[0]
    settings = model.sagemaker_settings
    changed = model.model_copy(update={"sagemaker": settings.model_copy(update={
        "monitor": settings.monitor.model_copy(update={"schedule": "cron(0 6 ? * * *)", "drift_threshold": 0.3})})})
    assert sagemaker_model_name(prod.naming, changed, vpc=True) == sagemaker_model_name(prod.naming, model, vpc=True)


def test_the_boundary_admits_every_action_the_monitoring_role_is_given(view):
    """The job's own calls must pass the permission boundary as well as the role's policy."""
    from modules.boundary import boundary_document
    n = view.naming
    (logical,) = [k for k, r in view.res("aws_iam_role").items() if r["name"] == n.role(MONITOR_ROLE)]
    policy = view.role_policy(logical)
    boundary = json.loads(boundary_document(n))
    model = view.models("sagemaker")[0].name
    inference = n.bucket_arn("inference")
    requests = [
        Request("s3:GetObject", f"{inference}/data-capture/{model}/x.jsonl", {"aws:RequestedRegion": n.region}),
        Request("s3:PutObject", f"{inference}/monitoring/{model}/constraint_violations.json",
                {"aws:RequestedRegion": n.region}),
        Request("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": DATA_METRICS_NAMESPACE,
                                                 "aws:RequestedRegion": n.region}),
        Request("logs:PutLogEvents", f"arn:aws:logs:{n.region}:{n.account_id}:log-group:/aws/sagemaker/ProcessingJobs"
                ":log-stream:job/algo-1", {"aws:RequestedRegion": n.region}),
        Request("ec2:CreateNetworkInterface", f"arn:aws:ec2:{n.region}:{n.account_id}:network-interface/eni-1",
                {"aws:RequestedRegion": n.region}),
    ]
    for request in requests:
        assert is_allowed([policy], request, boundary=boundary), request.action
