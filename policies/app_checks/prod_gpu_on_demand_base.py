"""AEGIS_PROD_GPU_ON_DEMAND_BASE: prod GPU fleets keep an On-Demand base.

Spot GPU capacity can vanish for a whole instance family at once; a prod real-time model served
only by Spot can lose every instance together. In prod (tier `prod`) an Auto Scaling group that
may launch Spot (mixed instances with less than 100 % On-Demand above the base, or a launch
template requesting Spot) must keep `on_demand_base_capacity ≥ 1`. Dev and staging may run all
Spot and are not judged. A base that is not a literal number fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import as_int


@app_check("AEGIS_PROD_GPU_ON_DEMAND_BASE", "Prod GPU fleets keep an On-Demand base of at least one instance")
def prod_gpu_on_demand_base(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for stack, name, conf in env.resources("aws_autoscaling_group"):
            yield judge(stack.name, f"aws_autoscaling_group.{name}", _problems(stack, conf),
                        "the fleet keeps an On-Demand base")


def _problems(stack, conf):
    mixed = one(conf, "mixed_instances_policy")
    if mixed is None:
        template = stack.target((one(conf, "launch_template") or {}).get("id"), "aws_launch_template")
        if template is None:
            yield "the launch template is not a resource of this stack: whether it requests Spot is unknown"
            return
        if (one(template[1], "instance_market_options") or {}).get("market_type") == "spot":
            yield "the launch template requests Spot for every instance: no On-Demand base"
        return
    distribution = one(mixed, "instances_distribution") or {}
    above = distribution.get("on_demand_percentage_above_base_capacity", 100)
    if as_int(above) == 100:
        return  # everything On-Demand
    base = as_int(distribution.get("on_demand_base_capacity", 0))
    if base is None or base < 1:
        yield f"on_demand_base_capacity is {distribution.get('on_demand_base_capacity', 0)!r}; prod needs at least 1"
