"""AEGIS_MODEL_NETWORK_ISOLATION: a SageMaker model served on instances runs in the VPC with
network isolation.

A model container is third-party code operating on inference data. With a VPC config (private
subnets and security groups) its traffic stays on the environment's network and endpoints; with
network isolation the container cannot call out at all, so a poisoned model cannot exfiltrate
inputs. Models used only by serverless variants are not judged: AWS supports neither setting for
Serverless Inference. A model no endpoint configuration uses is judged like an instance model.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import serverless_only
from policies.app_checks.view import AppView, nested, one, ref
from policies.checks.aegis_values import as_list, is_true


@app_check("AEGIS_MODEL_NETWORK_ISOLATION", "SageMaker model on instances has a VPC config and network isolation")
def model_network_isolation(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_sagemaker_model"):
            variants = []
            for _, endpoint_config in sorted(stack.resources("aws_sagemaker_endpoint_configuration").items()):
                for variant in nested(endpoint_config, "production_variants"):
                    target = ref(variant.get("model_name"))
                    if (target and target[:2] == ("aws_sagemaker_model", name)) or (
                            variant.get("model_name") == conf.get("name") and conf.get("name")):
                        variants.append(variant)
            if serverless_only(variants):
                continue
            yield judge(stack.name, f"aws_sagemaker_model.{name}", _problems(conf),
                        "model runs in private subnets with network isolation")


def _problems(conf):
    vpc = one(conf, "vpc_config")
    if vpc is None:
        yield "no vpc_config: the container runs on the SageMaker service network"
    else:
        if not as_list(vpc.get("subnets")):
            yield "vpc_config has no subnets"
        if not as_list(vpc.get("security_group_ids")):
            yield "vpc_config has no security groups"
    if not is_true(conf.get("enable_network_isolation")):
        yield "enable_network_isolation is not true: the container can make outbound calls"
