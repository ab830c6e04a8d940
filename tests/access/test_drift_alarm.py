"""Model Monitor's drift alarm: it watches the metrics the platform's schedule publishes for the model's
endpoint, notifies the alert topic, is part of the model's composite alarm and its dashboard row, and
rolls a release back only where config asks for it."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.monitoring import DATA_METRICS_NAMESPACE, drift_watch, schedule_name
from modules.naming import Naming
from modules.platform.release import rollback_alarm_names


def _topic_ref(stack: dict) -> str:
    (logical,) = stack["resource"]["aws_sns_topic"]
    return "${aws_sns_topic." + logical + ".arn}"


def test_prod_drift_alarm_watches_the_schedule_metrics_of_its_endpoint(synthesized):
    config = load_env("prod")
    n = Naming.of(config)
    access, platform = synthesized.stack("prod-access"), synthesized.stack("prod-platform")
    alarms = {a["alarm_name"]: a for a in access["resource"]["aws_cloudwatch_metric_alarm"].values()}
    schedules = {s["name"] for s in platform["resource"]["aws_sagemaker_monitoring_schedule"].values()}
    monitored = [m for m in config.platform.models if drift_watch(n, m) is not None]
    assert monitored, "prod alarms on drift for every real-time model"
    for model in monitored:
        monitor = model.sagemaker_settings.monitor
        alarm = alarms[n.alarm("model", model.name, "drift")]
        queries = {q["id"]: q for q in alarm["metric_query"]}
        watched = [q["metric"] for q in queries.values() if "metric" in q]
        assert sorted(m["metric_name"] for m in watched) == sorted(
            f"feature_baseline_drift_{f}" for f in monitor.drift_features)
        for metric in watched:
            assert metric["namespace"] == DATA_METRICS_NAMESPACE
            # The dimensions name the schedule the platform creates, on the model's own endpoint.
            assert metric["dimensions"] == {"Endpoint": n.model_resource(model.name),
                                            "MonitoringSchedule": schedule_name(n, model.name)}
            assert metric["dimensions"]["MonitoringSchedule"] in schedules
            assert metric["period"] == monitor.interval_hours * 3600
        (result,) = [q for q in queries.values() if q.get("return_data")]
        assert result["expression"] == "MAX([" + ", ".join(sorted(k for k in queries if k != result["id"])) + "])"
        assert alarm["threshold"] == monitor.drift_threshold
        assert alarm["comparison_operator"] == "GreaterThanThreshold"
        assert alarm["alarm_actions"] == [_topic_ref(access)]
        composite = next(c for c in access["resource"]["aws_cloudwatch_composite_alarm"].values()
                         if c["alarm_name"] == n.alarm("model", model.name, "health"))
        assert f'ALARM("{alarm["alarm_name"]}")' in composite["alarm_rule"].split(" OR ")


def test_dev_profiles_without_a_drift_alarm(synthesized):
    config = load_env("dev")
    n = Naming.of(config)
    names = {a["alarm_name"] for a in synthesized.resources("dev-access", "aws_cloudwatch_metric_alarm").values()}
    for model in config.platform.models:
        assert n.alarm("model", model.name, "drift") not in names


def test_dashboard_charts_the_drift_the_alarm_watches(synthesized):
    config = load_env("prod")
    n = Naming.of(config)
    (dashboard,) = synthesized.resources("prod-access", "aws_cloudwatch_dashboard").values()
    widgets = {w["properties"].get("title"): w for w in json.loads(dashboard["dashboard_body"])["widgets"]}
    for model in config.platform.models:
        watch = drift_watch(n, model)
        if watch is None:
            continue
        widget = widgets[f"Model {model.name}: drift from the baseline (Model Monitor)"]
        assert [m[1] for m in widget["properties"]["metrics"]] == [f"feature_baseline_drift_{f}" for f in watch.features]
        assert widget["properties"]["period"] == watch.period_seconds


def test_the_drift_alarm_rolls_back_only_when_asked(synthesized):
    config = load_env("prod")
    n = Naming.of(config)
    (model,) = [m for m in config.platform.models if m.serving == "sagemaker"]
    assert not model.sagemaker_settings.monitor.rollback_on_drift
    (endpoint,) = [e for e in synthesized.resources("prod-platform", "aws_sagemaker_endpoint").values()
                   if e["name"] == n.model_resource(model.name)]
    rollback = [a["alarm_name"] for a in endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]]
    assert n.alarm("model", model.name, "drift") not in rollback
    assert rollback == rollback_alarm_names(n, model.name, "sagemaker")
    assert rollback_alarm_names(n, model.name, "sagemaker", drift=True) == [*rollback, n.alarm("model", model.name, "drift")]


def test_rollback_on_drift_puts_the_drift_alarm_in_the_guardrails(tmp_path_factory, synthesized):
    from tests.platform.conftest import synthesize_platform
    config = load_env("prod")
    platform = config.platform
    models = []
    for m in platform.models:
        if m.serving == "sagemaker":
            s = m.sagemaker_settings
            s = s.model_copy(update={"monitor": s.monitor.model_copy(update={"rollback_on_drift": True}),
                                     "deployment": s.deployment.model_copy(update={
                "baking_seconds": 3600, "maximum_execution_timeout_seconds": 7200})})
            m = m.model_copy(update={"sagemaker": s})
        models.append(m)
    config = config.model_copy(update={"platform": platform.model_copy(update={"models": models})})
    assert not list(config.problems()), "a baking period of one monitoring interval admits rollback_on_drift"
    view = synthesize_platform(config, tmp_path_factory.mktemp("drift-rollback") / "out")
    n = view.naming
    (model,) = view.models("sagemaker")
    (endpoint,) = [e for e in view.res("aws_sagemaker_endpoint").values() if e["name"] == n.model_resource(model.name)]
    rollback = [a["alarm_name"] for a in endpoint["deployment_config"]["auto_rollback_configuration"]["alarms"]]
    assert rollback[-1] == n.alarm("model", model.name, "drift")
    # SageMaker reads the alarm with the endpoint's execution role.
    (role_logical,) = [k for k, r in view.res("aws_iam_role").items() if r["name"] == n.role(f"{model.name}-exec")]
    described = [s for s in view.role_policy(role_logical)["Statement"] if s["Sid"] == "DescribeRollbackAlarms"]
    assert n.alarm_arn(n.alarm("model", model.name, "drift")) in described[0]["Resource"]
