"""AEGIS_ENDPOINT_MODEL_MONITOR and AEGIS_MONITOR_DRIFT_ALARM, both ways: the synthesized app passes; a
capturing endpoint without a schedule, or whose job leaves the VPC, isolation or a key out (or, in prod,
the baseline), fails; a baselined schedule without an alarm on its drift metrics, or whose alarm notifies
someone else, fails; serverless endpoints and dev's profiling-only schedules are not judged."""
from __future__ import annotations

import copy

import pytest

from tests.policies.app_checks.helpers import failures, run

MONITOR = "AEGIS_ENDPOINT_MODEL_MONITOR"
DRIFT = "AEGIS_MONITOR_DRIFT_ALARM"


@pytest.fixture(scope="module")
def stacks(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names}


def _scoped(stacks, env: str) -> dict[str, dict]:
    return {k: copy.deepcopy(v) for k, v in stacks.items() if k.startswith(f"{env}-")}


def _job(scoped: dict, env: str) -> dict:
    (job,) = scoped[f"{env}-platform"]["resource"]["aws_sagemaker_data_quality_job_definition"].values()
    return job


def _drift_alarm(scoped: dict, env: str) -> dict:
    alarms = scoped[f"{env}-access"]["resource"]["aws_cloudwatch_metric_alarm"].values()
    (alarm,) = [a for a in alarms if a["alarm_name"].endswith("-drift")]
    return alarm


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_synthesized_app_passes(stacks, env):
    scoped = _scoped(stacks, env)
    results = run(MONITOR, scoped, env)
    endpoints = scoped[f"{env}-platform"]["resource"]["aws_sagemaker_endpoint"]
    realtime = [k for k, v in endpoints.items() if "deployment_config" in v]  # serverless ones are not judged
    assert sorted(r.address for r in results) == sorted(f"aws_sagemaker_endpoint.{k}" for k in realtime)
    assert not failures(results)
    drift = run(DRIFT, scoped, env)
    assert not failures(drift)
    # dev and staging profile without a baseline: nothing to alarm on; prod's schedule is judged.
    assert len(drift) == (1 if env == "prod" else 0)


def _network(job):
    return job["network_config"]


BROKEN = [
    ("no-isolation", lambda j: _network(j).update(enable_network_isolation=False), "without network isolation"),
    ("outside-the-vpc", lambda j: _network(j).pop("vpc_config"), "runs outside the VPC"),
    ("no-security-group", lambda j: _network(j)["vpc_config"].update(security_group_ids=[]), "runs outside the VPC"),
    ("volume-unencrypted", lambda j: j["job_resources"]["cluster_config"].pop("volume_kms_key_id"),
     "volume without a KMS key"),
    ("results-unencrypted", lambda j: j["data_quality_job_output_config"].pop("kms_key_id"),
     "results without a KMS key"),
    ("prod-without-baseline", lambda j: j.pop("data_quality_baseline_config"), "has no baseline"),
    ("reads-another-endpoint", lambda j: j["data_quality_job_input"]["endpoint_input"].update(
        endpoint_name="aegis-prod-other"), "no monitoring schedule reads the data endpoint aegis-prod-fraud-scorer"),
]


@pytest.mark.parametrize("case, change, fragment", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_capturing_endpoint_without_a_sound_monitor_fails(stacks, case, change, fragment):
    scoped = _scoped(stacks, "prod")
    change(_job(scoped, "prod"))
    (failed,) = failures(run(MONITOR, scoped, "prod"))
    assert fragment in failed


def test_a_job_definition_no_schedule_runs_does_not_count(stacks):
    scoped = _scoped(stacks, "prod")
    scoped["prod-platform"]["resource"].pop("aws_sagemaker_monitoring_schedule")
    (failed,) = failures(run(MONITOR, scoped, "prod"))
    assert "no monitoring schedule reads" in failed


def test_a_schedule_naming_its_job_definition_by_reference_counts(stacks):
    scoped = _scoped(stacks, "dev")
    resources = scoped["dev-platform"]["resource"]
    (logical,) = resources["aws_sagemaker_data_quality_job_definition"]
    (schedule,) = resources["aws_sagemaker_monitoring_schedule"].values()
    schedule["monitoring_schedule_config"]["monitoring_job_definition_name"] = \
        "${aws_sagemaker_data_quality_job_definition." + logical + ".name}"
    assert not failures(run(MONITOR, scoped, "dev"))


def test_dev_may_profile_without_a_baseline_but_not_without_isolation(stacks):
    scoped = _scoped(stacks, "dev")
    assert "data_quality_baseline_config" not in _job(scoped, "dev")
    assert not failures(run(MONITOR, scoped, "dev"))
    _network(_job(scoped, "dev")).update(enable_network_isolation=False)
    (failed,) = failures(run(MONITOR, scoped, "dev"))
    assert "without network isolation" in failed


def test_an_endpoint_that_stops_capturing_is_not_judged(stacks):
    scoped = _scoped(stacks, "prod")
    for config in scoped["prod-platform"]["resource"]["aws_sagemaker_endpoint_configuration"].values():
        config.pop("data_capture_config", None)
    scoped["prod-platform"]["resource"].pop("aws_sagemaker_monitoring_schedule")
    assert run(MONITOR, scoped, "prod") == []


DRIFT_BROKEN = [
    ("no-alarm", lambda a: a.update(metric_query=[]), "no alarm watches the drift metrics"),
    ("another-schedule", lambda a: [q["metric"]["dimensions"].update(MonitoringSchedule="other")
                                    for q in a["metric_query"] if "metric" in q], "no alarm watches the drift metrics"),
    ("another-namespace", lambda a: [q["metric"].update(namespace="AWS/SageMaker")
                                     for q in a["metric_query"] if "metric" in q], "no alarm watches the drift metrics"),
    ("silent", lambda a: a.update(alarm_actions=[]), "does not notify the alert topic"),
    ("elsewhere", lambda a: a.update(alarm_actions=["arn:aws:sns:eu-west-1:777788889999:somebody-else"]),
     "does not notify the alert topic"),
]


@pytest.mark.parametrize("case, change, fragment", DRIFT_BROKEN, ids=[b[0] for b in DRIFT_BROKEN])
def test_a_baselined_schedule_without_a_drift_alarm_to_the_topic_fails(stacks, case, change, fragment):
    scoped = _scoped(stacks, "prod")
    change(_drift_alarm(scoped, "prod"))
    (failed,) = failures(run(DRIFT, scoped, "prod"))
    assert fragment in failed


def test_the_alert_topic_by_arn_counts(stacks):
    from modules.config import load_env
    from modules.naming import Naming
    scoped = _scoped(stacks, "prod")
    _drift_alarm(scoped, "prod").update(alarm_actions=[Naming.of(load_env("prod")).alert_topic_arn()])
    assert not failures(run(DRIFT, scoped, "prod"))


def test_a_dev_schedule_with_a_baseline_must_alarm_too(stacks):
    scoped = _scoped(stacks, "dev")
    _job(scoped, "dev")["data_quality_baseline_config"] = {
        "constraints_resource": {"s3_uri": "s3://b/constraints.json"},
        "statistics_resource": {"s3_uri": "s3://b/statistics.json"}}
    (failed,) = failures(run(DRIFT, scoped, "dev"))
    assert "no alarm watches the drift metrics of schedule aegis-dev-fraud-scorer-data-quality" in failed


def _monitor_off(env: str):
    from modules.config import load_env
    config = load_env(env)
    models = []
    for m in config.platform.models:
        if m.serving == "sagemaker":
            s = m.sagemaker_settings
            m = m.model_copy(update={"sagemaker": s.model_copy(update={
                "monitor": s.monitor.model_copy(update={"enabled": False})})})
        models.append(m)
    return {env: config.model_copy(update={"platform": config.platform.model_copy(update={"models": models})})}


def test_dev_may_turn_the_monitor_off_and_says_so_prod_may_not(stacks):
    scoped = _scoped(stacks, "dev")
    scoped["dev-platform"]["resource"].pop("aws_sagemaker_monitoring_schedule")
    (result,) = run(MONITOR, scoped, "dev", configs=_monitor_off("dev"))
    assert result.passed and "sagemaker.monitor.enabled is false for fraud-scorer in dev" in result.message
    (failed,) = failures(run(MONITOR, scoped, "dev"))  # the config says it monitors: the schedule must be there
    assert "no monitoring schedule reads" in failed
    prod = _scoped(stacks, "prod")
    prod["prod-platform"]["resource"].pop("aws_sagemaker_monitoring_schedule")
    (failed,) = failures(run(MONITOR, prod, "prod", configs=_monitor_off("prod")))
    assert "no monitoring schedule reads" in failed
