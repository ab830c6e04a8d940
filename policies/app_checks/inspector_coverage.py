"""AEGIS_INSPECTOR_COVERAGE: Amazon Inspector scans the EC2 GPU hosts, the model images in ECR and
the Lambda inference functions of the environment's account.

Inference stacks pull large dependency trees (CUDA, Python ML libraries) with a steady stream of
CVEs. The environment's Inspector enablers together must cover EC2, ECR and LAMBDA for its own
account (a literal account id or the current caller identity).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, provided_centrally
from policies.app_checks.view import AppView, ref
from policies.checks.aegis_values import as_list

REQUIRED = ("EC2", "ECR", "LAMBDA")


@app_check("AEGIS_INSPECTOR_COVERAGE", "Inspector covers EC2, ECR and Lambda in the environment's account")
def inspector_coverage(app: AppView):
    for env in app.envs:
        central = provided_centrally(env, "inspector", "governance", "Inspector")
        if central:
            yield central
            continue
        enablers = list(env.resources("aws_inspector2_enabler"))
        if not enablers:
            yield fail(env.home_stack("governance"), "", f"Inspector is not enabled in {env.name}")
            continue
        covered = set()
        for _, _, conf in enablers:
            accounts = as_list(conf.get("account_ids"))
            own = any(a == env.config.account_id or (ref(a) or ("",))[0] == "data.aws_caller_identity"
                      for a in accounts)
            if own:
                covered |= {str(t) for t in as_list(conf.get("resource_types"))}
        stack, name, _ = enablers[0]
        yield judge(stack.name, f"aws_inspector2_enabler.{name}",
                    [f"Inspector does not cover {t} in account {env.config.account_id}" for t in REQUIRED
                     if t not in covered], "Inspector covers EC2, ECR and Lambda")
