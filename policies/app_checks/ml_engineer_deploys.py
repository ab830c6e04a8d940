"""AEGIS_ML_ENGINEER_DEPLOYS: in dev the ML engineer persona can deploy every SageMaker model of the
environment, and cannot create a real-time model without a VPC; in staging and prod it can deploy none.

Issue 20's separation of duties: whoever publishes and registers a model version must not also put it
in service alone. So the ML engineer deploys by hand only in dev (modules/boundary.py
HAND_DEPLOY_TIERS); in staging and prod the deployer role alone changes serving, through Terraform
that this gate judged. There each step below must be denied to the ML engineer, or the check fails.

In dev only the ML engineer deploys (separation of duties), so what it cannot do, nobody can do by hand:
a permission boundary that denies every model without VPC subnets blocks serverless models (which
AWS runs without a VPC), and a policy without the key its endpoint configs name
(`kms_key_arn`, on which SageMaker creates grants as the caller) blocks every endpoint.

For each aws_sagemaker_model, with its endpoint config and endpoint, the IAM evaluator decides with
the ML engineer's policies, its permission boundary and (for KMS) the key policy: iam:PassRole of
the model's execution role to SageMaker, CreateModel (with VPC subnets when the model has a VPC; a
serverless model under the name convention `<project>-<env>-serverless-*`), CreateEndpointConfig
(its instance types), CreateEndpoint and UpdateEndpoint, and CreateGrant on the config's key
through SageMaker. The other side: a real-time model without VPC subnets, and a serverless-named
model on instances, must be denied. Anything that cannot be resolved or judged fails.
"""
from __future__ import annotations

from typing import Iterator

from modules.boundary import SERVERLESS_MODEL_INFIX, hand_deploys
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import NotJudged, role_with_boundary, roles_named
from policies.app_checks.lookups import key_policy, key_resource, role_arn
from policies.app_checks.view import AppView, Env, Stack, nested, one, ref
from policies.checks.aegis_values import document
from policies.iam_eval import Request, UnsupportedPolicy, as_principal, is_allowed, kms_is_allowed

PERSONA = "ml-engineer"
SAGEMAKER = "sagemaker.amazonaws.com"


@app_check("AEGIS_ML_ENGINEER_DEPLOYS",
           "The ML engineer deploys SageMaker models by hand only in dev, and no real-time model without a VPC")
def ml_engineer_deploys(app: AppView):
    for env in app.envs:
        models = list(env.resources("aws_sagemaker_model"))
        if not models:
            continue
        role_name = env.naming.role(PERSONA)
        found = roles_named(env, role_name)
        if not found:
            yield fail(env.home_stack("access"), "", f"no {role_name} role: nobody may deploy the models by hand")
            continue
        try:
            persona = role_with_boundary(env, *found[0])
        except NotJudged as exc:
            yield fail(found[0][0].name, f"aws_iam_role.{found[0][1]}", str(exc))
            continue
        by_hand = hand_deploys(env.tier)
        for stack, name, conf in models:
            yield judge(stack.name, f"aws_sagemaker_model.{name}", _problems(env, persona, stack, name, conf, by_hand),
                        f"{role_name} can deploy it, and no real-time model without a VPC" if by_hand
                        else f"{role_name} cannot deploy it in {env.tier} (only the deployer does)")


def _problems(env: Env, persona, stack: Stack, name: str, model: dict, by_hand: bool) -> Iterator[str]:
    arn, documents, boundary = persona
    n = env.naming
    configs = [(c_name, c) for c_name, c in sorted(stack.resources("aws_sagemaker_endpoint_configuration").items())
               if any(ref(v.get("model_name"))[:2] == ("aws_sagemaker_model", name)
                      for v in nested(c, "production_variants") if ref(v.get("model_name")))]
    if not configs:
        yield "no endpoint config of this stack serves the model: its deployment cannot be judged"
        return
    model_name = (model.get("tags") or {}).get("Model") or name
    serverless = any(one(v, "serverless_config") for _, c in configs for v in nested(c, "production_variants"))
    model_arn = (f"arn:aws:sagemaker:{n.region}:{n.account_id}:model/"
                 + n.resource(*([SERVERLESS_MODEL_INFIX] if serverless else []), model_name, "1"))
    instance_types = sorted({v["instance_type"] for _, c in configs for v in nested(c, "production_variants")
                             if isinstance(v.get("instance_type"), str)})
    session = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": arn, "aws:PrincipalAccount": n.account_id,
               "aws:MultiFactorAuthPresent": "true"}

    def may(action: str, resource: str, extra: dict | None = None) -> bool:
        return is_allowed(documents, Request(action, resource, {**session, **(extra or {})}), boundary=boundary)

    vpc = {"sagemaker:VpcSubnets": ["subnet-0"]} if one(model, "vpc_config") else {}
    config_arn = f"arn:aws:sagemaker:{n.region}:{n.account_id}:endpoint-config/{n.resource(model_name, '1')}"
    steps = [
        ("pass its execution role to SageMaker", "iam:PassRole", role_arn(env, stack, model.get("execution_role_arn")),
         {"iam:PassedToService": SAGEMAKER}),
        ("create the model" + (" (in the VPC)" if vpc else " (serverless, no VPC)"), "sagemaker:CreateModel",
         model_arn, vpc),
        ("create its endpoint config", "sagemaker:CreateEndpointConfig", config_arn,
         {"sagemaker:ModelArn": model_arn, **({"sagemaker:InstanceTypes": instance_types} if instance_types else {})}),
        ("create the endpoint", "sagemaker:CreateEndpoint", n.endpoint_arn(model_name), None),
        ("update the endpoint", "sagemaker:UpdateEndpoint", n.endpoint_arn(model_name), None),
    ]
    try:
        if not by_hand:
            steps.append(("create the model without a VPC", "sagemaker:CreateModel", model_arn, {}))
            for what, action, resource, extra in steps:
                if resource is None:
                    yield f"the model's execution role cannot be resolved: whether {PERSONA} may {what} is not judged"
                elif may(action, resource, extra):
                    yield f"{PERSONA} may {what} in {env.tier}, where only the deployer deploys"
            return
        yield from (f"{PERSONA} cannot {what}" for what, action, resource, extra in steps
                    if resource is None or not may(action, resource, extra))
        for _, config in configs:
            yield from _key_problems(env, stack, config.get("kms_key_arn"), arn, documents, boundary, session)
        if serverless:
            if may("sagemaker:CreateEndpointConfig", config_arn, {"sagemaker:ModelArn": model_arn,
                                                                  "sagemaker:InstanceTypes": ["ml.m5.large"]}):
                yield f"{PERSONA} may put a model created without a VPC (serverless) on instances"
        elif may("sagemaker:CreateModel", model_arn, {}):
            yield f"{PERSONA} may create this real-time model without a VPC (sagemaker:VpcSubnets absent)"
    except UnsupportedPolicy as exc:
        yield f"the policies cannot be judged: {exc}"


def _key_problems(env: Env, stack: Stack, raw, arn: str, documents, boundary, session: dict) -> Iterator[str]:
    if raw is None:
        return
    found = key_resource(env, stack, raw)
    policy = document(key_policy(*found)) if found else None
    if policy is None:
        yield f"the endpoint config's key {raw!r} cannot be resolved to a key policy of the app"
        return
    context = {**session, "kms:ViaService": f"sagemaker.{env.naming.region}.amazonaws.com",
               "kms:GrantIsForAWSResource": True, "kms:CallerAccount": env.naming.account_id}
    key_arn = f"arn:aws:kms:{env.naming.region}:{env.naming.account_id}:key/{found[1]}" if found else "*"
    aliases = [a.get("name") for _, _, a in env.resources("aws_kms_alias") if ref(a.get("target_key_id"))
               and ref(a.get("target_key_id"))[1] == found[1]]
    context["kms:ResourceAliases"] = aliases
    for action in ("kms:CreateGrant", "kms:DescribeKey"):
        if not kms_is_allowed(policy, documents, as_principal(arn, action, key_arn, context), boundary=boundary):
            yield f"{PERSONA} cannot {action} on the endpoint config's key (SageMaker calls it as the deployer)"
