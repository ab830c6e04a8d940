"""AEGIS_APP_INVOKER_INVOKE_ONLY: the app-invoker persona can only invoke this environment's models.

Applications call models; they must not read training data, change endpoints or reach another
environment. The `<project>-<env>-app-invoker` role may allow only SageMaker InvokeEndpoint
(and its async / streaming forms) on this environment's endpoint ARNs and Lambda InvokeFunction
(/InvokeFunctionUrl) on this environment's function ARNs, named literally (no wildcard actions),
and carry no managed policies. Denies are fine. The role must exist unless the config disables
the persona.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import allow_statements, role_policies, roles_named
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, document

INVOKE_ACTIONS = {
    "sagemaker:invokeendpoint": "sagemaker",
    "sagemaker:invokeendpointasync": "sagemaker",
    "sagemaker:invokeendpointwithresponsestream": "sagemaker",
    "lambda:invokefunction": "lambda",
    "lambda:invokefunctionurl": "lambda",
}
PERSONA = "app-invoker"


def _enabled(config) -> bool:
    enabled = getattr(config.access, "enabled_personas", None)
    return PERSONA in enabled() if callable(enabled) else True


@app_check("AEGIS_APP_INVOKER_INVOKE_ONLY",
           "The app-invoker role can only invoke this environment's endpoints and functions")
def app_invoker_invoke_only(app: AppView):
    for env in app.envs:
        role_name = env.naming.role(PERSONA)
        found = roles_named(env, role_name)
        if not found:
            if _enabled(env.config):
                yield fail(env.home_stack("access"), "", f"no {role_name} role although the persona is enabled")
            continue
        for stack, name, role in found:
            yield judge(stack.name, f"aws_iam_role.{name}", _problems(env, stack, name, role),
                        "only invokes this environment's endpoints and functions")


def _problems(env, stack, name, role):
    naming = env.naming
    prefixes = {
        "sagemaker": f"arn:aws:sagemaker:{naming.region}:{naming.account_id}:endpoint/{naming.prefix}-",
        "lambda": f"arn:aws:lambda:{naming.region}:{naming.account_id}:function:{naming.prefix}-",
    }
    for label, raw, managed in role_policies(stack, name, role):
        if managed is not None:
            yield f"{label} is attached: the invoker may carry no managed policy"
            continue
        doc = document(raw)
        if doc is None:
            yield f"{label} is not a literal JSON document"
            continue
        for stmt in allow_statements(doc):
            sid = stmt.get("Sid", "?")
            if "NotAction" in stmt or "NotResource" in stmt:
                yield f"{label} statement {sid} uses NotAction/NotResource"
                continue
            services = set()
            for action in as_list(stmt.get("Action")):
                service = INVOKE_ACTIONS.get(str(action).lower())
                if service is None:
                    yield f"{label} statement {sid} allows {action}, which is not an invoke action"
                else:
                    services.add(service)
            for resource in as_list(stmt.get("Resource")):
                if not any(str(resource).lower().startswith(prefixes[s].lower()) for s in services):
                    yield f"{label} statement {sid} reaches {resource}, outside this environment's models"
