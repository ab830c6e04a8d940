"""AEGIS_APPROVAL_EVENTS_ROUTED: every environment with a model registry routes approvals to its alert
topic.

An approval moves a model version towards production; the people who watch the environment must see
each one (and it is the signal to open the promotion change). Judged per environment with a model
package group: an enabled EventBridge rule whose pattern matches source `aws.sagemaker`, detail-type
"SageMaker Model Package State Change" and ModelApprovalStatus `Approved` for every group of the
environment (a rule that names groups must name them all), with a target on the environment's alert
topic that has a dead-letter queue (an undeliverable approval must not vanish). A pattern that is not
literal JSON fails (not judged).
"""
from __future__ import annotations

import json
from typing import Any, Iterator

from modules.boundary import APPROVED
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.view import AppView, Env, Stack, one, ref

SOURCE, DETAIL_TYPE = "aws.sagemaker", "SageMaker Model Package State Change"


@app_check("AEGIS_APPROVAL_EVENTS_ROUTED", "Model approvals are routed to the alert topic")
def approval_events_routed(app: AppView):
    for env in app.envs:
        groups = sorted(str(c.get("model_package_group_name")) for _, _, c in
                        env.resources("aws_sagemaker_model_package_group"))
        if not groups:
            continue
        rules = [(s, n, c) for s, n, c in env.resources("aws_cloudwatch_event_rule") if _about_approvals(c)]
        if not rules:
            yield fail(env.home_stack("access"), "",
                       f"no EventBridge rule routes \"{DETAIL_TYPE}\" to Approved for {', '.join(groups)}")
        for stack, name, conf in rules:
            yield judge(stack.name, f"aws_cloudwatch_event_rule.{name}", _problems(env, stack, name, conf, groups),
                        "approvals of every group reach the alert topic, with a dead-letter queue")


def _pattern(conf: dict) -> Any:
    try:
        return json.loads(conf.get("event_pattern") or "")
    except (TypeError, ValueError):
        return None


def _about_approvals(conf: dict) -> bool:
    pattern = _pattern(conf)
    if pattern is None:  # unreadable: judged (and failed) when its text names the event type
        return DETAIL_TYPE in str(conf.get("event_pattern"))
    return isinstance(pattern, dict) and DETAIL_TYPE in (pattern.get("detail-type") or [])


def _problems(env: Env, stack: Stack, name: str, conf: dict, groups: list[str]) -> Iterator[str]:
    pattern = _pattern(conf)
    if not isinstance(pattern, dict):
        yield "the event pattern is not literal JSON: not judged"
        return
    if conf.get("state", "ENABLED") != "ENABLED" or conf.get("is_enabled") is False:
        yield "the rule is not enabled"
    if SOURCE not in (pattern.get("source") or []):
        yield f"the pattern does not match source {SOURCE}"
    detail = pattern.get("detail") or {}
    if APPROVED not in (detail.get("ModelApprovalStatus") or []):
        yield f"the pattern does not match ModelApprovalStatus {APPROVED}"
    named = detail.get("ModelPackageGroupName")
    if named is not None:
        missing = [g for g in groups if g not in named]
        if missing:
            yield f"the pattern leaves out group(s) {', '.join(missing)}"
    yield from _target_problems(env, stack, name, conf)


def _target_problems(env: Env, stack: Stack, name: str, conf: dict) -> Iterator[str]:
    topic_arn, topic_name = env.naming.alert_topic_arn(), env.naming.alert_topic()
    targets = []
    for _, target in sorted(stack.resources("aws_cloudwatch_event_target").items()):
        rule = target.get("rule")
        found = ref(rule)
        if (found and found[0] == "aws_cloudwatch_event_rule" and found[1] == name) or rule == conf.get("name"):
            targets.append(target)
    to_topic = [t for t in targets if _is_alert_topic(stack, t.get("arn"), topic_arn, topic_name)]
    if not to_topic:
        yield f"no target of the rule is the alert topic {topic_name}"
    elif not any((one(t, "dead_letter_config") or {}).get("arn") for t in to_topic):
        yield "its alert-topic target has no dead-letter queue"


def _is_alert_topic(stack: Stack, raw: Any, topic_arn: str, topic_name: str) -> bool:
    if raw == topic_arn:
        return True
    found = ref(raw)
    if found and found[0] == "aws_sns_topic":
        return (stack.resources("aws_sns_topic").get(found[1]) or {}).get("name") == topic_name
    return False
