"""AEGIS_PROD_VARIANT_INSTANCES: in prod, every instance-based SageMaker production variant runs
at least two instances.

SageMaker spreads a variant's instances over Availability Zones; one instance is a single point
of failure and every deployment or instance replacement is an outage. Tier `prod` only (dev and
staging may run one). Serverless variants have no instance count and are not judged. A count that
is not a literal number fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import is_serverless
from policies.app_checks.view import AppView, nested, one
from policies.checks.aegis_values import as_int

MIN_PROD_INSTANCES = 2


@app_check("AEGIS_PROD_VARIANT_INSTANCES", "Prod SageMaker production variants run at least two instances")
def prod_variant_instances(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for stack, name, conf in env.resources("aws_sagemaker_endpoint_configuration"):
            variants = [v for v in nested(conf, "production_variants") if not is_serverless(v)]
            if variants:
                yield judge(stack.name, f"aws_sagemaker_endpoint_configuration.{name}", _problems(variants),
                            f"every variant runs at least {MIN_PROD_INSTANCES} instances")


def _problems(variants):
    for variant in variants:
        label = variant.get("variant_name", "?")
        count = as_int(variant.get("initial_instance_count"))
        if count is None or count < MIN_PROD_INSTANCES:
            yield f"variant {label} starts {count} instance(s); prod needs at least {MIN_PROD_INSTANCES}"
        managed = one(variant, "managed_instance_scaling")
        if managed is not None and (as_int(managed.get("min_instance_count")) or 0) < MIN_PROD_INSTANCES:
            yield f"variant {label} managed scaling may go below {MIN_PROD_INSTANCES} instances"
