"""AEGIS_LAMBDA_ALIAS_AUTOSCALING: Lambda inference aliases scale their provisioned concurrency.

Provisioned concurrency keeps model-loaded execution environments warm (a cold start reloads the
model); Application Auto Scaling on `lambda:function:ProvisionedConcurrency` keeps it matched to
load. In prod every alias needs a target `function:<function>:<alias>` with min ≤ max and
min ≥ 2, and a configured policy; elsewhere an alias that has provisioned concurrency (or a
target) needs the same with min ≥ 1, and an alias without either runs on demand and passes.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, ok
from policies.app_checks.scaling import scaling_problems
from policies.app_checks.view import AppView, ref

DIMENSION = "lambda:function:ProvisionedConcurrency"


@app_check("AEGIS_LAMBDA_ALIAS_AUTOSCALING",
           "Every Lambda alias with provisioned concurrency (all in prod) autoscales it")
def lambda_alias_autoscaling(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_lambda_alias"):
            address = f"aws_lambda_alias.{name}"
            function = _function_name(stack, conf.get("function_name"))
            alias = conf.get("name")
            if function is None or not isinstance(alias, str) or "${" in alias:
                yield fail(stack.name, address, "the alias's function or name is not resolvable")
                continue
            resource_id = f"function:{function}:{alias}"
            provisioned = any(
                _function_name(stack, pc.get("function_name")) == function
                and stack.resolve(pc.get("qualifier")) == alias
                for pc in stack.resources("aws_lambda_provisioned_concurrency_config").values())
            targeted = any(t.get("service_namespace") == "lambda" and stack.resolve(t.get("resource_id")) == resource_id
                           for t in stack.resources("aws_appautoscaling_target").values())
            if not (env.prod or provisioned or targeted):
                yield ok(stack.name, address, "no provisioned concurrency outside prod: the alias runs on demand")
                continue
            yield judge(stack.name, address, scaling_problems(stack, "lambda", resource_id, DIMENSION, prod=env.prod),
                        "provisioned concurrency scales with Application Auto Scaling")


def _function_name(stack, raw):
    """A function name from a literal name/ARN or a reference to an aws_lambda_function of the stack."""
    found = ref(raw)
    if found and found[0] == "aws_lambda_function":
        conf = stack.lookup("aws_lambda_function", found[1])
        raw = (conf or {}).get("function_name")
    if not isinstance(raw, str) or "${" in raw:
        return None
    return raw.split(":function:")[-1].split(":")[0]
