"""AEGIS_SAGEMAKER_MODEL_NAMED: every SageMaker model Terraform creates has the environment's conventional name.

Without `name` the provider generates `terraform-…`, outside the personas' `model/<prefix>-*` scope
(nobody can describe or update the model) and, for a model without a VPC, outside the boundary's
`<prefix>-serverless-*` rule for serverless models.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView


@app_check("AEGIS_SAGEMAKER_MODEL_NAMED", "SageMaker models carry the environment's conventional name")
def sagemaker_model_named(app: AppView):
    for env in app.envs:
        prefix = env.naming.prefix
        serverless = f"{prefix}-serverless-"
        for stack, name, conf in env.resources("aws_sagemaker_model"):
            model_name = conf.get("name")
            problems = []
            if not isinstance(model_name, str) or not model_name.startswith(f"{prefix}-"):
                problems.append(f"name {model_name!r} is not {prefix}-…: the provider names it terraform-…, "
                                f"outside the personas' model/{prefix}-* scope")
            elif not conf.get("vpc_config") and not model_name.startswith(serverless):
                problems.append(f"a model without a VPC must be named {serverless}… (the boundary's serverless rule)")
            yield judge(stack.name, f"aws_sagemaker_model.{name}", problems, f"model is named {model_name}")
