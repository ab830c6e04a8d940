"""AEGIS_PLAN_RELEASE_GUARDRAILS_REMOVED: an endpoint update must not drop its release guardrails.

A SageMaker endpoint that shifted traffic gradually (blue/green `CANARY` or `LINEAR`, or a rolling
update) must keep doing so, and every CloudWatch alarm its `auto_rollback_configuration` named must
still be named after the change: otherwise the next model release reaches all traffic at once, or
fails without rolling back. Only kept endpoints (updated or replaced) are judged; a guardrail known
only after apply is a failure, since the plan cannot show it stays.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import PlanCheck, fail, first, plan_check, strings, unknown, values, verdict

ENDPOINT = "aws_sagemaker_endpoint"
ROUTING = "deployment_config.*.blue_green_update_policy.*.traffic_routing_configuration.*.type"
ROLLING = "deployment_config.*.rolling_update_policy"
ALARMS = "deployment_config.*.auto_rollback_configuration.*.alarms.*.alarm_name"
GRADUAL = ("CANARY", "LINEAR")


def shifting(endpoint: dict | None) -> str | None:
    """How an endpoint's updates shift traffic gradually (`CANARY`, `LINEAR`, `ROLLING`), or None."""
    if not isinstance(endpoint, dict):
        return None
    routing = first(endpoint, ROUTING)
    if routing in GRADUAL:
        return routing
    return "ROLLING" if any(v for v in values(endpoint, ROLLING)) else None


@plan_check
class ReleaseGuardrailsRemoved(PlanCheck):
    id = "AEGIS_PLAN_RELEASE_GUARDRAILS_REMOVED"
    types = (ENDPOINT,)

    def judge(self, rc, ctx):
        if not rc.existed or not rc.remains:
            return
        was, alarms = shifting(rc.before), strings(rc.before, ALARMS)
        if was is None and not alarms:
            return
        name = rc.before.get("name") or rc.address
        if unknown(rc, "deployment_config"):
            yield fail(rc, f"the release guardrails of endpoint {name} are known only after apply")
            return
        now, kept = shifting(rc.after), strings(rc.after, ALARMS)
        problems = []
        if was is not None and now is None:
            routing = first(rc.after, ROUTING) or "no deployment_config"
            problems.append(f"endpoint {name} stops shifting traffic gradually ({was} → {routing})")
        removed = sorted(alarms - kept)
        if removed:
            problems.append(f"endpoint {name} no longer rolls back on {', '.join(removed)}")
        yield verdict(rc, problems, f"endpoint {name} keeps its release guardrails ({now or 'rollback alarms'})")
