"""Application Auto Scaling, as the app-level checks judge it for every scalable model endpoint."""
from __future__ import annotations

from policies.app_checks.view import Stack, nested, one, ref
from policies.checks.aegis_values import as_float, as_int


def scaling_problems(stack: Stack, namespace: str, resource_id: str, dimension: str, *, prod: bool,
                     prod_min: int = 2) -> list[str]:
    """Problems with the Application Auto Scaling of one scalable resource: a target (min ≤ max,
    min ≥ 1, min ≥ `prod_min` in prod) and a scaling policy attached to it."""
    targets = []
    for name, conf in sorted(stack.resources("aws_appautoscaling_target").items()):
        if (conf.get("service_namespace") == namespace and stack.resolve(conf.get("resource_id")) == resource_id
                and conf.get("scalable_dimension") == dimension):
            targets.append((name, conf))
    if not targets:
        return [f"no autoscaling target for {resource_id} ({dimension})"]
    problems = []
    target_name, target = targets[0]
    low, high = as_int(target.get("min_capacity")), as_int(target.get("max_capacity"))
    if low is None or high is None:
        problems.append(f"{resource_id}: min/max capacity are not literal numbers")
    else:
        if low > high:
            problems.append(f"{resource_id}: min capacity {low} exceeds max capacity {high}")
        if low < 1:
            problems.append(f"{resource_id}: min capacity {low} lets the model scale to zero")
        if prod and low < prod_min:
            problems.append(f"{resource_id}: prod needs min capacity of at least {prod_min} (have {low})")
    policies = []
    for _name, conf in sorted(stack.resources("aws_appautoscaling_policy").items()):
        rid, dim, ns = conf.get("resource_id"), conf.get("scalable_dimension"), conf.get("service_namespace")
        points_at_target = all(
            (ref(v) or ("", "", ""))[:2] == ("aws_appautoscaling_target", target_name) or stack.resolve(v) == want
            for v, want in ((rid, resource_id), (dim, dimension), (ns, namespace)))
        if points_at_target:
            policies.append(conf)
    if not policies:
        problems.append(f"no scaling policy for {resource_id}")
    elif not any(_policy_configured(p) for p in policies):
        problems.append(f"the scaling policy of {resource_id} has no target-tracking or step configuration")
    return problems


def _policy_configured(policy: dict) -> bool:
    kind = policy.get("policy_type", "StepScaling")
    if kind == "TargetTrackingScaling":
        config = one(policy, "target_tracking_scaling_policy_configuration") or {}
        value = as_float(config.get("target_value"))
        return value is not None and value > 0 and bool(
            one(config, "predefined_metric_specification") or one(config, "customized_metric_specification"))
    if kind == "StepScaling":
        return bool(nested(one(policy, "step_scaling_policy_configuration"), "step_adjustment"))
    return kind == "PredictiveScaling" and one(policy, "predictive_scaling_policy_configuration") is not None
