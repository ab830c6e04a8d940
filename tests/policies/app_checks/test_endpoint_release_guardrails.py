"""AEGIS_ENDPOINT_RELEASE_GUARDRAILS, both ways: the synthesized app passes; a prod endpoint without
guardrails, with all-at-once routing, with a canary of no size, or with rollback alarms that are
missing or watch another endpoint fails; serverless endpoints are not judged."""
from __future__ import annotations

import copy

import pytest

from tests.policies.app_checks.helpers import app, failures, resources, run

CHECK = "AEGIS_ENDPOINT_RELEASE_GUARDRAILS"


@pytest.fixture(scope="module")
def stacks(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names}


def _endpoint(stacks: dict[str, dict], env: str) -> tuple[str, dict]:
    """The env's real-time endpoint (the one with a deployment_config)."""
    endpoints = stacks[f"{env}-platform"]["resource"]["aws_sagemaker_endpoint"]
    (found,) = [(k, v) for k, v in endpoints.items() if "deployment_config" in v]
    return found


def _mutated(stacks, env: str, change) -> dict[str, dict]:
    copied = {k: v for k, v in stacks.items() if k.startswith(f"{env}-")}
    copied[f"{env}-platform"] = copy.deepcopy(stacks[f"{env}-platform"])
    _, endpoint = _endpoint(copied, env)
    change(endpoint)
    return copied


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_synthesized_app_passes(stacks, env):
    scoped = {k: v for k, v in stacks.items() if k.startswith(f"{env}-")}
    results = run(CHECK, scoped, env)
    name, _ = _endpoint(stacks, env)
    assert [r.address for r in results] == [f"aws_sagemaker_endpoint.{name}"]  # serverless ones not judged
    assert not failures(results)


def _routing(endpoint):
    return endpoint["deployment_config"]["blue_green_update_policy"]["traffic_routing_configuration"]


def _alarms(endpoint):
    return endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]


BROKEN = [
    ("no-guardrails", lambda e: e.pop("deployment_config"), "no deployment_config"),
    ("all-at-once", lambda e: _routing(e).update(type="ALL_AT_ONCE"), "prod shifts traffic as CANARY or LINEAR"),
    ("canary-without-size", lambda e: _routing(e).pop("canary_size"), "CANARY routing without canary_size"),
    ("no-rollback-alarms", lambda e: e["deployment_config"].pop("auto_rollback_configuration"),
     "no auto_rollback_configuration alarms"),
    ("alarm-missing", lambda e: _alarms(e).append({"alarm_name": "aegis-prod-model-fraud-scorer-ghost"}),
     "rollback alarm aegis-prod-model-fraud-scorer-ghost does not exist in prod"),
    ("alarm-watches-another-endpoint", lambda e: e.update(name="aegis-prod-other-model"),
     "does not watch endpoint aegis-prod-other-model"),
]


@pytest.mark.parametrize("case, change, fragment", BROKEN, ids=[b[0] for b in BROKEN])
def test_prod_endpoint_without_working_guardrails_fails(stacks, case, change, fragment):
    results = run(CHECK, _mutated(stacks, "prod", change), "prod")
    (failed,) = failures(results)
    assert fragment in failed


def test_dev_may_release_all_at_once_but_not_on_missing_alarms(stacks):
    dev_all_at_once = _mutated(stacks, "dev", lambda e: _routing(e).update(type="ALL_AT_ONCE"))
    assert not failures(run(CHECK, dev_all_at_once, "dev"))
    dev_ghost_alarm = _mutated(stacks, "dev", lambda e: _alarms(e).__setitem__(0, {"alarm_name": "ghost"}))
    (failed,) = failures(run(CHECK, dev_ghost_alarm, "dev"))
    assert "rollback alarm ghost does not exist in dev" in failed


def test_the_drift_alarm_watches_its_endpoint_as_a_rollback_alarm(stacks):
    """With sagemaker.monitor.rollback_on_drift the drift alarm (dimension `Endpoint` of Model Monitor's
    namespace) is a rollback alarm of the endpoint it watches."""
    with_drift = _mutated(stacks, "prod", lambda e: _alarms(e).append({"alarm_name": "aegis-prod-model-fraud-scorer-drift"}))
    assert not failures(run(CHECK, with_drift, "prod"))


def test_an_unresolvable_endpoint_config_fails():
    stacks = app("prod", platform=resources(aws_sagemaker_endpoint={"e": {
        "name": "aegis-prod-x", "endpoint_config_name": "${aws_sagemaker_endpoint_configuration.gone.name}"}}))
    (failed,) = failures(run(CHECK, stacks, "prod"))
    assert "cannot be resolved" in failed
