"""AEGIS_ENDPOINT_AUTOSCALING: every SageMaker endpoint scales with Application Auto Scaling.

Each instance-based variant (`sagemaker:variant:DesiredInstanceCount`) and each serverless variant
with provisioned concurrency (`sagemaker:variant:DesiredProvisionedConcurrency`) needs a scalable
target `endpoint/<endpoint>/variant/<variant>` with min ≤ max and min ≥ 1 (min ≥ 2 in prod), and a
configured scaling policy on it: inference load is bursty, and without scaling an endpoint either
drops requests or pays for idle GPUs. Serverless variants without provisioned concurrency are
scaled by AWS and pass. An endpoint whose configuration or name cannot be resolved fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import endpoint_variants, is_serverless
from policies.app_checks.scaling import scaling_problems
from policies.app_checks.view import AppView, one

INSTANCES = "sagemaker:variant:DesiredInstanceCount"
PROVISIONED = "sagemaker:variant:DesiredProvisionedConcurrency"


@app_check("AEGIS_ENDPOINT_AUTOSCALING", "Every SageMaker endpoint variant has an autoscaling target and policy")
def endpoint_autoscaling(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_sagemaker_endpoint"):
            yield judge(stack.name, f"aws_sagemaker_endpoint.{name}", _problems(env, stack, conf),
                        "every variant scales with Application Auto Scaling")


def _problems(env, stack, endpoint):
    endpoint_name = endpoint.get("name")
    if not isinstance(endpoint_name, str) or "${" in endpoint_name:
        yield "the endpoint name is not literal: its scaling target cannot be matched"
        return
    config_name, variants = endpoint_variants(stack, endpoint.get("endpoint_config_name"))
    if config_name is None or not variants:
        yield "the endpoint configuration cannot be resolved in this stack"
        return
    for variant in variants:
        if is_serverless(variant) and not (one(variant, "serverless_config") or {}).get("provisioned_concurrency"):
            continue
        dimension = PROVISIONED if is_serverless(variant) else INSTANCES
        resource_id = f"endpoint/{endpoint_name}/variant/{variant.get('variant_name')}"
        yield from scaling_problems(stack, "sagemaker", resource_id, dimension, prod=env.prod)
