"""AEGIS_PLAN_DETECTOR_DISABLED: GuardDuty, Security Hub, AWS Config and Inspector (and Macie, and
CloudTrail logging) must not be switched off.

Switched off means: the enabling attribute goes from on to off in an update, or the resource that
*is* the switch is destroyed (a GuardDuty detector, the Security Hub account or a standards
subscription, the Config recorder status or delivery channel, the Inspector enabler, the Macie
account). A replace re-creates the switch, so only a plain delete counts. Removing Inspector scan
types from the enabler counts too. Destroying the Config recorder itself is judged by
AEGIS_PLAN_STATEFUL_DELETE.
"""
from __future__ import annotations

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import PlanCheck, fail, plan_check, strings, unknown, verdict

# type → (what, attribute that must stay on or None, the "on" test)
SWITCHES = {
    "aws_guardduty_detector": ("GuardDuty detector", "enable", truthy),
    "aws_guardduty_detector_feature": ("GuardDuty protection feature", "status", lambda v: v == "ENABLED"),
    "aws_securityhub_account": ("Security Hub", None, None),
    "aws_securityhub_standards_subscription": ("Security Hub standard", None, None),
    "aws_securityhub_standards_control": ("Security Hub control", "control_status", lambda v: v == "ENABLED"),
    "aws_config_configuration_recorder_status": ("AWS Config recording", "is_enabled", truthy),
    "aws_config_delivery_channel": ("AWS Config delivery channel", None, None),
    "aws_inspector2_enabler": ("Inspector", None, None),
    "aws_macie2_account": ("Macie", "status", lambda v: v == "ENABLED"),
    "aws_cloudtrail": ("CloudTrail logging", "enable_logging", lambda v: v is None or truthy(v)),
}


def _label(rc) -> str:
    b = rc.before or {}
    for key in ("name", "standards_arn", "standards_control_arn", "detector_id", "id"):
        if isinstance(b.get(key), str) and b[key]:
            return f"{b[key]}" + (f" ({b['name']})" if key == "detector_id" and b.get("name") else "")
    return rc.address


@plan_check
class DetectorDisabled(PlanCheck):
    id = "AEGIS_PLAN_DETECTOR_DISABLED"
    types = tuple(SWITCHES)

    def judge(self, rc, ctx):
        what, attribute, is_on = SWITCHES[rc.type]
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        if attribute and not is_on(rc.before.get(attribute)):
            return  # already off before this plan: not a regression of this plan
        if rc.kind == "delete":
            if rc.type == "aws_cloudtrail":
                return  # the trail itself goes: AEGIS_PLAN_STATEFUL_DELETE judges that
            yield fail(rc, f"{what} {_label(rc)} is destroyed: it stops detecting")
            return
        problems = []
        after = rc.after or {}
        if attribute and not unknown(rc, attribute) and not is_on(after.get(attribute)):
            problems.append(f"{what} {_label(rc)}: {attribute} goes from {rc.before.get(attribute)!r} to "
                            f"{after.get(attribute)!r}")
        if rc.type == "aws_inspector2_enabler":
            dropped = strings(rc.before, "resource_types") - strings(after, "resource_types")
            if dropped and not unknown(rc, "resource_types"):
                problems.append(f"Inspector stops scanning {', '.join(sorted(dropped))}")
        yield verdict(rc, problems, f"{what} {_label(rc)} stays on")
