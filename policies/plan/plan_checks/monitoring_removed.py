"""AEGIS_PLAN_MONITORING_REMOVED: a capturing endpoint must not lose its Model Monitor or the drift alarm.

- A monitoring schedule destroyed (not replaced) while the endpoint its job definition watches stays:
  nothing judges the captured data any more. The endpoint is found through the schedule's job definition
  (`data_quality_job_input.endpoint_input.endpoint_name`, from the plan or its prior state); a schedule
  whose endpoint the plan does not show fails, since it cannot be shown to go with its endpoint.
- An alarm on Model Monitor's metrics (`aws/sagemaker/Endpoints/data-metrics`) destroyed while its schedule
  stays, or updated so that it no longer watches them or notifies nobody: drift goes unnoticed.
"""
from __future__ import annotations

from modules.monitoring import DATA_METRICS_NAMESPACE
from policies.plan.plan_checks._base import PlanCheck, fail, ok, plan_check, strings, unknown, values, verdict

SCHEDULE = "aws_sagemaker_monitoring_schedule"
JOB_DEFINITION = "aws_sagemaker_data_quality_job_definition"
ENDPOINT = "aws_sagemaker_endpoint"
ALARM = "aws_cloudwatch_metric_alarm"
JOB_NAME = "monitoring_schedule_config.*.monitoring_job_definition_name"
ENDPOINT_NAME = "data_quality_job_input.*.endpoint_input.*.endpoint_name"


def watched_schedules(alarm: dict | None) -> set[str]:
    """The monitoring schedules whose Model Monitor metrics an alarm's values watch."""
    if not isinstance(alarm, dict):
        return set()
    metrics = [alarm, *values(alarm, "metric_query.*.metric.*")]
    return {str(m["dimensions"]["MonitoringSchedule"]) for m in metrics
            if isinstance(m, dict) and m.get("namespace") == DATA_METRICS_NAMESPACE and isinstance(m.get("dimensions"), dict)
            and m["dimensions"].get("MonitoringSchedule")}


@plan_check
class MonitoringRemoved(PlanCheck):
    id = "AEGIS_PLAN_MONITORING_REMOVED"
    types = (SCHEDULE, ALARM)

    def judge(self, rc, ctx):
        if not rc.existed:
            return
        if rc.type == SCHEDULE:
            yield from self._schedule(rc, ctx)
        elif watched_schedules(rc.before):
            yield from self._alarm(rc, ctx)

    def _schedule(self, rc, ctx):
        if rc.kind != "delete":
            return
        name = rc.before.get("name") or rc.address
        job = next(iter(strings(rc.before, JOB_NAME)), None)
        endpoint = next(iter(strings(self._job_definitions(ctx).get(job, {}), ENDPOINT_NAME)), None)
        if endpoint is None:
            yield fail(rc, f"monitoring schedule {name} is destroyed and the plan does not show which endpoint "
                           f"its job definition {job or '(none)'} watches", deletion=True)
        elif ctx.destroys(ENDPOINT, endpoint):
            yield ok(rc, f"monitoring schedule {name} goes with endpoint {endpoint}")
        else:
            yield fail(rc, f"monitoring schedule {name} is destroyed while endpoint {endpoint} stays: its captured "
                           "data is no longer checked for drift", deletion=True)

    def _alarm(self, rc, ctx):
        name = rc.before.get("alarm_name") or rc.address
        schedules = watched_schedules(rc.before)
        if rc.kind == "delete":
            gone = [s for s in sorted(schedules) if ctx.destroys(SCHEDULE, s)]
            if len(gone) == len(schedules):
                yield ok(rc, f"alarm {name} goes with monitoring schedule {', '.join(gone)}")
            else:
                yield fail(rc, f"alarm {name} on Model Monitor's drift metrics is destroyed while schedule "
                               f"{', '.join(sorted(schedules - set(gone)))} stays", deletion=True)
            return
        if unknown(rc, "metric_query") or unknown(rc, "alarm_actions"):
            yield fail(rc, f"what alarm {name} watches or notifies is known only after apply")
            return
        lost = sorted(schedules - watched_schedules(rc.after))
        silent = not strings(rc.after, "alarm_actions")
        yield verdict(rc, [f"alarm {name} stops watching the drift metrics of {', '.join(lost)}" if lost else "",
                           f"alarm {name} on Model Monitor's drift metrics notifies nobody" if silent else ""],
                      f"alarm {name} keeps watching Model Monitor's drift metrics")

    @staticmethod
    def _job_definitions(ctx) -> dict[str, dict]:
        """Job definitions by name, as the plan's prior state and changes show them before this plan."""
        out: dict[str, dict] = {}
        for res in ctx.plan.prior.values():
            vals = res.get("values")
            if res.get("type") == JOB_DEFINITION and isinstance(vals, dict) and vals.get("name"):
                out[vals["name"]] = vals
        for rc in ctx.changes(JOB_DEFINITION):
            if rc.existed and rc.before.get("name"):
                out[rc.before["name"]] = rc.before
        return out
