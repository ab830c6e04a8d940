"""AEGIS_MONITOR_DRIFT_ALARM: Model Monitor's violations reach the alert topic.

A monitoring schedule that compares captured data with a baseline finds drift, but finding it is
worth nothing unless someone hears of it. Every such schedule (and in prod every schedule: prod
schedules must have a baseline, AEGIS_ENDPOINT_MODEL_MONITOR) must be watched by a metric alarm on its
drift metrics (`feature_baseline_drift_<feature>` in `aws/sagemaker/Endpoints/data-metrics`, dimension
`MonitoringSchedule` equal to the schedule's name) whose alarm actions notify the environment's alert
topic (the topic of the access stack named by convention, by reference or by ARN). Alarms are indexed
once per environment by the schedule they watch.
"""
from __future__ import annotations

from typing import Iterator

from modules.monitoring import DATA_METRICS_NAMESPACE
from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Env, nested, one, ref

DRIFT_METRIC_PREFIX = "feature_baseline_drift_"


@app_check("AEGIS_MONITOR_DRIFT_ALARM", "Model Monitor schedules with a baseline alarm on their drift metrics to the alert topic")
def monitor_drift_alarm(app: AppView):
    for env in app.envs:
        jobs = {job.get("name"): job for _, _, job in env.resources("aws_sagemaker_data_quality_job_definition")}
        alarms = _alarms_by_schedule(env)
        for stack, logical, schedule in env.resources("aws_sagemaker_monitoring_schedule"):
            job_name = (one(schedule, "monitoring_schedule_config") or {}).get("monitoring_job_definition_name")
            baselined = one(jobs.get(job_name) or {}, "data_quality_baseline_config") is not None
            if not baselined and not env.prod:
                continue
            yield judge(stack.name, f"aws_sagemaker_monitoring_schedule.{logical}",
                        _problems(schedule, alarms), "an alarm on its drift metrics notifies the alert topic")


def _problems(schedule: dict, alarms: dict[str, list[tuple[str, bool]]]) -> Iterator[str]:
    name = schedule.get("name")
    if not isinstance(name, str) or "${" in name:
        yield "the schedule name is not literal: the alarms on its metrics cannot be matched to it"
        return
    watching = alarms.get(name, [])
    if not watching:
        yield f"no alarm watches the drift metrics of schedule {name}"
    elif not any(notifies for _, notifies in watching):
        yield f"alarm {', '.join(sorted(a for a, _ in watching))} on schedule {name} does not notify the alert topic"


def _is_alert_topic(action: object, topics: dict[str, dict], topic_name: str, topic_arn: str) -> bool:
    """A reference to the stack's topic of the conventional name, or that topic's ARN."""
    target = ref(action)
    if target is not None:
        return target[0] == "aws_sns_topic" and topics.get(target[1], {}).get("name") == topic_name
    return action == topic_arn


def _alarms_by_schedule(env: Env) -> dict[str, list[tuple[str, bool]]]:
    """Schedule name → (alarm name, whether it notifies the alert topic) of each alarm on its drift metrics."""
    topic_name, topic_arn = env.naming.alert_topic(), env.naming.alert_topic_arn()
    out: dict[str, list[tuple[str, bool]]] = {}
    for stack, _, alarm in env.resources("aws_cloudwatch_metric_alarm"):
        topics = stack.resources("aws_sns_topic")
        notifies = any(_is_alert_topic(a, topics, topic_name, topic_arn) for a in alarm.get("alarm_actions") or [])
        metrics = [alarm, *(one(q, "metric") or {} for q in nested(alarm, "metric_query"))]
        for metric in metrics:
            dimensions = metric.get("dimensions")
            if (metric.get("namespace") == DATA_METRICS_NAMESPACE and str(metric.get("metric_name", "")).startswith(DRIFT_METRIC_PREFIX)
                    and isinstance(dimensions, dict) and isinstance(dimensions.get("MonitoringSchedule"), str)):
                out.setdefault(dimensions["MonitoringSchedule"], []).append((str(alarm.get("alarm_name")), notifies))
    return out
