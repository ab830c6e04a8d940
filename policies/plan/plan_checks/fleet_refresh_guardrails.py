"""AEGIS_PLAN_FLEET_REFRESH_REMOVED: a GPU fleet update must not drop its instance refresh guardrails.

An Auto Scaling group whose instance refresh rolled back by itself (`auto_rollback`) must keep doing
so, and every alarm its `alarm_specification` named must still be named after the change: otherwise
the next launch template change replaces the fleet with nothing to stop or undo it. Only kept groups
(updated or replaced) are judged; guardrails known only after apply are a failure, since the plan
cannot show they stay.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import PlanCheck, fail, first, plan_check, strings, unknown, verdict

GROUP = "aws_autoscaling_group"
ROLLBACK = "instance_refresh.*.preferences.*.auto_rollback"
ALARMS = "instance_refresh.*.preferences.*.alarm_specification.*.alarms.*"


@plan_check
class FleetRefreshRemoved(PlanCheck):
    id = "AEGIS_PLAN_FLEET_REFRESH_REMOVED"
    types = (GROUP,)

    def judge(self, rc, ctx):
        if not rc.existed or not rc.remains:
            return
        rolled_back, alarms = first(rc.before, ROLLBACK) is True, strings(rc.before, ALARMS)
        if not rolled_back and not alarms:
            return
        name = rc.before.get("name") or rc.address
        if unknown(rc, "instance_refresh"):
            yield fail(rc, f"the instance refresh guardrails of group {name} are known only after apply")
            return
        problems = []
        if rolled_back and first(rc.after, ROLLBACK) is not True:
            problems.append(f"group {name} no longer rolls a failed instance refresh back")
        removed = sorted(alarms - strings(rc.after, ALARMS))
        if removed:
            problems.append(f"group {name} no longer stops its instance refresh on {', '.join(removed)}")
        yield verdict(rc, problems, f"group {name} keeps its instance refresh guardrails")
