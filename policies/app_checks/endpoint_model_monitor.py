"""AEGIS_ENDPOINT_MODEL_MONITOR: every endpoint that captures data has a Model Monitor schedule that
reads it isolated in the VPC with KMS.

Data capture records what reached the model; unread, it guards against nothing. For each real-time
endpoint whose configuration captures (`data_capture_config.enable_capture` true), some monitoring
schedule of the environment must name a data-quality job definition whose input is this endpoint
(`endpoint_input.endpoint_name`), and that job must run network-isolated inside a VPC (subnets and
security groups), with a KMS key on its volume and on its results; in prod it must also compare
against a baseline (constraints and statistics), or it finds no violations. Job definitions and
schedules are indexed once per environment by name; a name that is not literal cannot be matched and
fails. Outside prod, a model whose `sagemaker.monitor.enabled` is false passes without a schedule (the
result says so). Serverless endpoints capture nothing (AWS does not offer data capture there) and are not judged.
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge, ok
from policies.app_checks.lookups import endpoint_variants, serverless_only
from policies.app_checks.view import AppView, Env, nested, one, ref

JOB_DEFINITION = "aws_sagemaker_data_quality_job_definition"


@app_check("AEGIS_ENDPOINT_MODEL_MONITOR",
           "Every capturing endpoint has a Model Monitor schedule, isolated in the VPC with KMS (prod: with a baseline)")
def endpoint_model_monitor(app: AppView):
    for env in app.envs:
        jobs = _jobs_by_endpoint(env)
        for stack, name, conf in env.resources("aws_sagemaker_endpoint"):
            config_id, variants = endpoint_variants(stack, conf.get("endpoint_config_name"))
            if serverless_only(variants):
                continue
            configuration = stack.resources("aws_sagemaker_endpoint_configuration").get(config_id or "", {})
            if config_id is not None and not _captures(configuration):
                continue
            off = _turned_off(env, conf.get("name"), jobs)
            if off is not None:
                yield ok(stack.name, f"aws_sagemaker_endpoint.{name}", off)
                continue
            yield judge(stack.name, f"aws_sagemaker_endpoint.{name}", _problems(env, conf, config_id, jobs),
                        "a monitoring schedule judges its captured data, network-isolated in the VPC with KMS")


def _turned_off(env: Env, endpoint: object, jobs: dict[str, list[dict]]) -> str | None:
    """Outside prod the configuration may turn a model's monitor off (dev stays cheap): then no schedule is
    the intended state, said in the passed result. Prod monitors every capturing endpoint."""
    if env.prod or not isinstance(endpoint, str) or jobs.get(endpoint):
        return None
    for model in env.config.platform.models:
        if (model.serving == "sagemaker" and env.naming.model_resource(model.name) == endpoint
                and not model.sagemaker_settings.monitor.enabled):
            return f"no monitoring schedule: sagemaker.monitor.enabled is false for {model.name} in {env.name}"
    return None


def _captures(configuration: dict) -> bool:
    capture = one(configuration, "data_capture_config")
    return capture is not None and capture.get("enable_capture") in (True, "true")


def _problems(env: Env, endpoint: dict, config_id: str | None, jobs: dict[str, list[dict]]) -> Iterator[str]:
    if config_id is None:
        yield "the endpoint configuration cannot be resolved in this stack"
        return
    name = endpoint.get("name")
    if not isinstance(name, str) or "${" in name:
        yield "the endpoint name is not literal: its monitoring schedule cannot be matched to it"
        return
    monitors = jobs.get(name, [])
    if not monitors:
        yield f"no monitoring schedule reads the data endpoint {name} captures"
        return
    # One well-formed monitor suffices; report the problems of the first when none is.
    found = [list(_job_problems(env, job)) for job in monitors]
    if not any(not problems for problems in found):
        yield from found[0]


def _job_problems(env: Env, job: dict) -> Iterator[str]:
    job_name = job.get("name")
    network = one(job, "network_config") or {}
    if network.get("enable_network_isolation") not in (True, "true"):
        yield f"job definition {job_name} runs without network isolation"
    vpc = one(network, "vpc_config") or {}
    if not vpc.get("subnets") or not vpc.get("security_group_ids"):
        yield f"job definition {job_name} runs outside the VPC (no vpc_config subnets and security groups)"
    cluster = one(one(job, "job_resources") or {}, "cluster_config") or {}
    if not cluster.get("volume_kms_key_id"):
        yield f"job definition {job_name} leaves its volume without a KMS key"
    if not (one(job, "data_quality_job_output_config") or {}).get("kms_key_id"):
        yield f"job definition {job_name} writes its results without a KMS key"
    if env.prod:
        baseline = one(job, "data_quality_baseline_config") or {}
        if not one(baseline, "constraints_resource") or not one(baseline, "statistics_resource"):
            yield f"job definition {job_name} has no baseline: prod compares captured data with one"


def _jobs_by_endpoint(env: Env) -> dict[str, list[dict]]:
    """The data-quality job definitions that some monitoring schedule runs (by literal name or by reference),
    by the endpoint they read."""
    scheduled: set[object] = set()
    for stack, _, schedule in env.resources("aws_sagemaker_monitoring_schedule"):
        for config in nested(schedule, "monitoring_schedule_config"):
            named = config.get("monitoring_job_definition_name")
            target = ref(named)
            scheduled.add((stack.name, target[1]) if target and target[0] == JOB_DEFINITION else named)
    out: dict[str, list[dict]] = {}
    for stack, logical, job in env.resources(JOB_DEFINITION):
        if job.get("name") not in scheduled and (stack.name, logical) not in scheduled:
            continue
        endpoint = (one(one(job, "data_quality_job_input") or {}, "endpoint_input") or {}).get("endpoint_name")
        if isinstance(endpoint, str):
            out.setdefault(endpoint, []).append(job)
    return out
