"""AEGIS_FLEET_RELEASE_GUARDRAILS: GPU fleets replace instances in rolling refreshes that roll back on alarms.

A change of a GPU fleet's launch template (a new AMI, image or boot script) is a change to
production traffic. In prod every Auto Scaling group must: take its health from the load balancer
(`health_check_type = "ELB"` with a target group and a grace period), so an instance the ALB finds
unhealthy is replaced and fails the refresh; have a Rolling `instance_refresh` with `auto_rollback`,
in checkpointed steps (one checkpoint below 100 at least) and with `alarm_specification` alarms, so
a bad release stops part way and returns to the previous template version; and use a concrete
launch template version, because AWS cannot roll back a group on `$Latest` or `$Default`
(API RefreshPreferences.AutoRollback). In every tier, each alarm a refresh names must exist in the
environment: a missing alarm never fails the refresh.
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Env, one
from policies.checks.aegis_values import as_int

UNROLLABLE_VERSIONS = ("$Latest", "$Default")


@app_check("AEGIS_FLEET_RELEASE_GUARDRAILS",
           "GPU fleets are health-checked by the ALB and refresh in checkpointed steps with alarm rollback (prod)")
def fleet_release_guardrails(app: AppView):
    for env in app.envs:
        alarms = _alarm_names(env)
        for stack, name, conf in env.resources("aws_autoscaling_group"):
            yield judge(stack.name, f"aws_autoscaling_group.{name}", _problems(env, conf, alarms),
                        "the ALB judges instance health; refreshes checkpoint and roll back on existing alarms")


def _problems(env: Env, group: dict, existing: set[str]) -> Iterator[str]:
    preferences = one(one(group, "instance_refresh") or {}, "preferences") or {}
    named = (one(preferences, "alarm_specification") or {}).get("alarms") or []
    for alarm in named:
        if not isinstance(alarm, str) or "${" in alarm:
            yield f"refresh alarm {alarm!r} is not a literal name"
        elif alarm not in existing:
            yield f"refresh alarm {alarm} does not exist in {env.name}"
    if not env.prod:
        return
    if group.get("health_check_type") != "ELB" or not group.get("target_group_arns"):
        yield "health is not checked by the load balancer (health_check_type ELB with target_group_arns)"
    elif not as_int(group.get("health_check_grace_period", 300)):
        yield "health_check_grace_period is 0 or not literal: booting GPU instances are judged before the model loads"
    refresh = one(group, "instance_refresh")
    if refresh is None or refresh.get("strategy") != "Rolling":
        yield "no Rolling instance_refresh: a launch template change does not reach the instances under guard"
        return
    if preferences.get("auto_rollback") is not True:
        yield "instance_refresh without auto_rollback: a failing refresh is not rolled back"
    checkpoints = preferences.get("checkpoint_percentages") or []
    if not any(isinstance(p, (int, float)) and p < 100 for p in checkpoints):
        yield "no checkpoint below 100: the refresh replaces the whole fleet in one go"
    if not named:
        yield "no alarm_specification alarms: an alarm does not stop or roll back the refresh"
    version = str(_template_version(group) or "$Default")  # the provider's default version
    if version in UNROLLABLE_VERSIONS:
        yield f"the launch template version is {version}: AWS rolls back only to a concrete version"


def _template_version(group: dict):
    spec = one(one(one(group, "mixed_instances_policy") or {}, "launch_template") or {},
               "launch_template_specification") or one(group, "launch_template") or {}
    return spec.get("version")


def _alarm_names(env: Env) -> set[str]:
    names = set()
    for kind in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
        names |= {a.get("alarm_name") for _, _, a in env.resources(kind) if isinstance(a.get("alarm_name"), str)}
    return names
