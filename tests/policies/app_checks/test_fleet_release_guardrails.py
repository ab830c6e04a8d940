"""AEGIS_FLEET_RELEASE_GUARDRAILS, both ways: the synthesized app passes in every tier; a prod fleet
without ELB health checks, without a rolling refresh, without rollback, checkpoints or alarms, on
`$Latest`, or naming an alarm that does not exist fails; dev is judged on its alarms only."""
from __future__ import annotations

import copy

import pytest

from tests.policies.app_checks.helpers import failures, run

CHECK = "AEGIS_FLEET_RELEASE_GUARDRAILS"


@pytest.fixture(scope="module")
def stacks(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names}


def _group(stacks: dict[str, dict], env: str) -> dict:
    (group,) = stacks[f"{env}-platform"]["resource"]["aws_autoscaling_group"].values()
    return group


def _mutated(stacks, env: str, change) -> dict[str, dict]:
    copied = {k: v for k, v in stacks.items() if k.startswith(f"{env}-")}
    copied[f"{env}-platform"] = copy.deepcopy(stacks[f"{env}-platform"])
    change(_group(copied, env))
    return copied


def _prefs(group: dict) -> dict:
    return group["instance_refresh"]["preferences"]


def _spec(group: dict) -> dict:
    return group["mixed_instances_policy"]["launch_template"]["launch_template_specification"]


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_synthesized_app_passes(stacks, env):
    scoped = {k: v for k, v in stacks.items() if k.startswith(f"{env}-")}
    results = run(CHECK, scoped, env)
    assert len(results) == 1 and not failures(results)


BROKEN = [
    ("ec2-health-checks", lambda g: g.update(health_check_type="EC2"), "not checked by the load balancer"),
    ("no-target-group", lambda g: g.pop("target_group_arns"), "not checked by the load balancer"),
    ("no-grace-period", lambda g: g.update(health_check_grace_period=0), "health_check_grace_period is 0"),
    ("no-refresh", lambda g: g.pop("instance_refresh"), "no Rolling instance_refresh"),
    ("no-auto-rollback", lambda g: _prefs(g).update(auto_rollback=False), "without auto_rollback"),
    ("one-step", lambda g: _prefs(g).update(checkpoint_percentages=[100]), "no checkpoint below 100"),
    ("no-alarms", lambda g: _prefs(g).pop("alarm_specification"), "no alarm_specification alarms"),
    ("latest-version", lambda g: _spec(g).update(version="$Latest"), "version is $Latest"),
    ("default-version", lambda g: _spec(g).pop("version"), "version is $Default"),
    ("alarm-missing", lambda g: _prefs(g)["alarm_specification"]["alarms"].append("aegis-prod-model-ghost"),
     "refresh alarm aegis-prod-model-ghost does not exist in prod"),
]


@pytest.mark.parametrize("case, change, fragment", BROKEN, ids=[b[0] for b in BROKEN])
def test_prod_fleet_without_release_guardrails_fails(stacks, case, change, fragment):
    (failed,) = failures(run(CHECK, _mutated(stacks, "prod", change), "prod"))
    assert fragment in failed


def test_dev_may_refresh_in_one_step_but_not_on_missing_alarms(stacks):
    one_step = _mutated(stacks, "dev", lambda g: _prefs(g).update(checkpoint_percentages=[100], auto_rollback=False))
    assert not failures(run(CHECK, one_step, "dev"))
    ghost = _mutated(stacks, "dev", lambda g: _prefs(g)["alarm_specification"]["alarms"].__setitem__(0, "ghost"))
    (failed,) = failures(run(CHECK, ghost, "dev"))
    assert "refresh alarm ghost does not exist in dev" in failed
