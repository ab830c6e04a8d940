"""AEGIS_LAMBDA_INFERENCE_CONTROLS: Lambda inference functions have reserved concurrency, and code
signing in prod.

Every model served by Lambda (`platform.models[].serving: lambda`) has a function named
`<project>-<env>-<model>`. Reserved concurrency (≥ 1) both guarantees the model capacity and caps
what one model can consume of the account's concurrency (a traffic spike on one model must not
starve the others, or the account). In prod (tier `prod`) the function must also have a code
signing configuration that enforces signatures (`untrusted_artifact_on_deployment = Enforce`) with
at least one signing profile: only reviewed, signed inference code is deployed. A code signing
configuration that is not a resource of the stack cannot be verified and fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import as_int, as_list


@app_check("AEGIS_LAMBDA_INFERENCE_CONTROLS",
           "Lambda inference functions reserve concurrency and, in prod, enforce code signing")
def lambda_inference_controls(app: AppView):
    for env in app.envs:
        functions = {c.get("function_name"): (s, n, c) for s, n, c in env.resources("aws_lambda_function")}
        for model in env.config.platform.models:
            if model.serving != "lambda":
                continue
            function_name = env.naming.model_resource(model.name)
            if function_name not in functions:
                yield fail(env.home_stack("platform"), "", f"model {model.name} is served by Lambda but there is no "
                                                           f"function {function_name}")
                continue
            stack, name, conf = functions[function_name]
            yield judge(stack.name, f"aws_lambda_function.{name}", _problems(env, stack, conf),
                        "reserved concurrency" + (" and enforced code signing" if env.prod else ""))


def _problems(env, stack, conf):
    reserved = as_int(conf.get("reserved_concurrent_executions"))
    if reserved is None or reserved < 1:
        yield f"reserved_concurrent_executions is {conf.get('reserved_concurrent_executions')!r}; it must be at least 1"
    if not env.prod:
        return
    signing = stack.target(conf.get("code_signing_config_arn"), "aws_lambda_code_signing_config")
    if signing is None:
        yield "prod requires a code signing configuration of this stack (code_signing_config_arn)"
        return
    _, config = signing
    if (one(config, "policies") or {}).get("untrusted_artifact_on_deployment") != "Enforce":
        yield "the code signing configuration does not enforce signatures (untrusted_artifact_on_deployment)"
    if not as_list((one(config, "allowed_publishers") or {}).get("signing_profile_version_arns")):
        yield "the code signing configuration names no signing profile"
