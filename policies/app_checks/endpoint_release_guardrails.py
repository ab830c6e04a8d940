"""AEGIS_ENDPOINT_RELEASE_GUARDRAILS: real-time endpoints release new versions gradually and roll back on alarms.

An update of an instance-backed SageMaker endpoint is a change to production traffic. In prod its
`deployment_config` must shift traffic as a canary or in linear steps (with the step's size) and
roll back automatically on CloudWatch alarms. In every tier, each rollback alarm the endpoint names
must exist in the environment and watch this endpoint (a metric with `EndpointName` equal to the
endpoint's name): an alarm that is missing, or watches something else, never fires for this release,
so the rollback would be a promise nobody keeps. Serverless endpoints are not judged: SageMaker
offers deployment guardrails for real-time and asynchronous endpoints only.
"""
from __future__ import annotations

from typing import Any, Iterator

from modules.monitoring import DATA_METRICS_NAMESPACE
from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import endpoint_variants, serverless_only
from policies.app_checks.view import AppView, Env, nested, one

GRADUAL = {"CANARY": "canary_size", "LINEAR": "linear_step_size"}


@app_check("AEGIS_ENDPOINT_RELEASE_GUARDRAILS",
           "Real-time endpoints release canary or linear (prod) with rollback on alarms that watch them")
def endpoint_release_guardrails(app: AppView):
    for env in app.envs:
        watched = _alarm_endpoints(env)
        for stack, name, conf in env.resources("aws_sagemaker_endpoint"):
            _, variants = endpoint_variants(stack, conf.get("endpoint_config_name"))
            if serverless_only(variants):
                continue
            yield judge(stack.name, f"aws_sagemaker_endpoint.{name}", _problems(env, conf, variants, watched),
                        "updates shift traffic under guardrails and roll back on alarms that watch the endpoint")


def _problems(env: Env, endpoint: dict, variants: list[dict], watched: dict[str, set[str]]) -> Iterator[str]:
    if not variants:
        yield "the endpoint configuration cannot be resolved in this stack"
        return
    endpoint_name = endpoint.get("name")
    if not isinstance(endpoint_name, str) or "${" in endpoint_name:
        yield "the endpoint name is not literal: its rollback alarms cannot be matched to it"
        return
    deployment = one(endpoint, "deployment_config")
    if deployment is None:
        if env.prod:
            yield "no deployment_config: prod updates shift all traffic at once, with no rollback"
        return
    if env.prod:
        yield from _routing_problems(one(one(deployment, "blue_green_update_policy") or {},
                                         "traffic_routing_configuration"))
    alarms = [a.get("alarm_name") for a in nested(one(deployment, "auto_rollback_configuration") or {}, "alarms")]
    if not alarms:
        if env.prod:
            yield "no auto_rollback_configuration alarms: a failing release is not rolled back"
        return
    for alarm in alarms:
        if not isinstance(alarm, str) or "${" in alarm:
            yield f"rollback alarm {alarm!r} is not a literal name"
        elif alarm not in watched:
            yield f"rollback alarm {alarm} does not exist in {env.name}"
        elif endpoint_name not in watched[alarm]:
            yield f"rollback alarm {alarm} does not watch endpoint {endpoint_name}"


def _routing_problems(routing: dict | None) -> Iterator[str]:
    kind = (routing or {}).get("type")
    if kind not in GRADUAL:
        yield f"traffic routing is {kind or 'not set'}: prod shifts traffic as CANARY or LINEAR"
    elif one(routing, GRADUAL[kind]) is None:
        yield f"{kind} routing without {GRADUAL[kind]}"


def _alarm_endpoints(env: Env) -> dict[str, set[str]]:
    """Every metric alarm of the environment by name, with the endpoints (EndpointName) its metrics watch."""
    found: dict[str, set[str]] = {}
    for _, _, alarm in env.resources("aws_cloudwatch_metric_alarm"):
        name = alarm.get("alarm_name")
        if isinstance(name, str):
            found.setdefault(name, set()).update(_endpoint_dimensions(alarm))
    return found


def _endpoint_dimensions(alarm: dict) -> Iterator[str]:
    """Endpoints an alarm's metrics name: `EndpointName` (AWS/SageMaker), or `Endpoint` in Model Monitor's
    namespace (its drift metrics: a rollback alarm with `sagemaker.monitor.rollback_on_drift`)."""
    metrics: list[Any] = [alarm, *(one(query, "metric") or {} for query in nested(alarm, "metric_query"))]
    for metric in metrics:
        dimensions = metric.get("dimensions")
        if not isinstance(dimensions, dict):
            continue
        if isinstance(dimensions.get("EndpointName"), str):
            yield dimensions["EndpointName"]
        if metric.get("namespace") == DATA_METRICS_NAMESPACE and isinstance(dimensions.get("Endpoint"), str):
            yield dimensions["Endpoint"]
