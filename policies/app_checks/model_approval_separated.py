"""AEGIS_MODEL_APPROVAL_SEPARATED: whoever can approve a model version can neither train or register
one nor deploy one, the permission boundary keeps approval from every role it does not name, and in
staging and prod whoever registers a version cannot deploy one (only the deployer, outside the
boundary, does: modules/boundary.py HAND_DEPLOY_TIERS).

A registry's approval is the control between training and serving: a version turns `Approved`
(`sagemaker:UpdateModelPackage`, or `CreateModelPackage` registering it so, with
`sagemaker:ModelApprovalStatus`) and only then may it be deployed. If the role that trained or
registered a version could approve it, or the approver could deploy it, one person could take a model
from training to production alone.

Judged with the IAM evaluator, for each environment with a model package group: each role of the
environment with its policies and boundary (approve a version of the environment's first group;
register a pending version or start a guarded training job; create an endpoint or a model), and the
boundary against an identity policy that allows everything for a role it does not name (it must deny
approving, and any UpdateModelPackage: one that names no status may still change an Approved
version's inference specification). A role whose policies cannot be read fails (not judged). Roles that only AWS services
which run none of the account's code assume (AWS Backup, S3 replication, flow logs) are left out: the
boundary lets roles be passed only to SageMaker, Lambda and EC2 (PASS_ROLE_SERVICES), so no person or
program of the account can act as them.
"""
from __future__ import annotations

from typing import Iterator

from modules.boundary import PASS_ROLE_SERVICES, boundary_name, hand_deploys
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import NotJudged, acts_for_code_or_people, may_name_any, role_with_boundary
from policies.app_checks.training_job_guards import ALLOW_ALL, guarded
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import document
from policies.iam_eval import Request, UnsupportedPolicy, is_allowed

APPROVED = {"sagemaker:ModelApprovalStatus": "Approved"}
PENDING = {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
VPC = {"sagemaker:VpcSubnets": ["subnet-0"]}  # a model in the VPC, as the boundary requires


@app_check("AEGIS_MODEL_APPROVAL_SEPARATED",
           "Model approval is separated from training, registration and deployment")
def model_approval_separated(app: AppView):
    for env in app.envs:
        groups = sorted(c.get("model_package_group_name") for _, _, c in
                        env.resources("aws_sagemaker_model_package_group"))
        if not groups:
            continue
        n = env.naming
        package = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{groups[0]}/1"
        wanted = boundary_name(n)
        boundaries = [(s, name, c) for s, name, c in env.resources("aws_iam_policy") if c.get("name") == wanted]
        if not boundaries:
            yield fail(env.home_stack("data"), "", f"no permission boundary {wanted}: nothing keeps approval separate")
        for stack, name, conf in boundaries:
            yield judge(stack.name, f"aws_iam_policy.{name}", _boundary_problems(env, conf, package),
                        "denies approval to every role it does not name")
        for stack, name, role in env.resources("aws_iam_role"):
            if not acts_for_code_or_people(role, PASS_ROLE_SERVICES):
                continue  # only AWS services that run none of the account's code assume it
            yield judge(stack.name, f"aws_iam_role.{name}", _role_problems(env, stack, name, role, package),
                        "does not both approve and train, register or deploy" if hand_deploys(env.tier)
                        else "does not both approve and train, register or deploy, nor register and deploy")


def _boundary_problems(env: Env, conf: dict, package: str) -> Iterator[str]:
    boundary = document(conf.get("policy"))
    if boundary is None:
        yield "the boundary is not literal JSON: not judged"
        return
    context = {"aws:RequestedRegion": env.naming.region, "aws:PrincipalArn": env.naming.role_arn("any-role"),
               "aws:PrincipalAccount": env.naming.account_id, **APPROVED}
    try:
        for action in ("sagemaker:UpdateModelPackage", "sagemaker:CreateModelPackage"):
            if is_allowed([ALLOW_ALL], Request(action, package, context), boundary=boundary):
                yield f"the boundary lets any role {action.split(':')[1]} with status Approved"
        unset = {k: v for k, v in context.items() if k not in APPROVED}
        if is_allowed([ALLOW_ALL], Request("sagemaker:UpdateModelPackage", package, unset), boundary=boundary):
            yield "the boundary lets any role UpdateModelPackage without a status (and so change an Approved version)"
    except UnsupportedPolicy as exc:
        yield f"the boundary cannot be judged: {exc}"


def _role_problems(env: Env, stack, name: str, role: dict, package: str) -> Iterator[str]:
    try:
        arn, documents, boundary = role_with_boundary(env, stack, name, role)
    except NotJudged as exc:
        yield str(exc)
        return
    if not may_name_any(documents, ("sagemaker:UpdateModelPackage", "sagemaker:CreateModelPackage")):
        return  # no statement can allow approving or registering
    n = env.naming
    sm = f"arn:aws:sagemaker:{n.region}:{n.account_id}"
    base = guarded(env, **{"aws:PrincipalArn": arn})

    def may(action: str, resource: str, extra: dict | None = None) -> bool:
        return is_allowed(documents, Request(action, resource, {**base, **(extra or {})}), boundary=boundary)

    try:
        approves = (may("sagemaker:UpdateModelPackage", package, APPROVED)
                    or may("sagemaker:CreateModelPackage", package, APPROVED))
        registers = may("sagemaker:CreateModelPackage", package, PENDING)
        if not approves and (hand_deploys(env.tier) or not registers):
            return
        deploys = {
            "create endpoints": may("sagemaker:CreateEndpoint", f"{sm}:endpoint/{n.prefix}-model"),
            "update endpoints": may("sagemaker:UpdateEndpoint", f"{sm}:endpoint/{n.prefix}-model"),
            "create models": may("sagemaker:CreateModel", f"{sm}:model/{n.prefix}-model", VPC),
        }
        trains = may("sagemaker:CreateTrainingJob", f"{sm}:training-job/{n.prefix}-job")
    except UnsupportedPolicy as exc:
        yield f"the policies cannot be judged: {exc}"
        return
    if approves:
        duties = {"register versions": registers, "start training jobs": trains, **deploys}
        also = [duty for duty, allowed in duties.items() if allowed]
        if also:
            yield f"{role.get('name')} may approve model versions and also {', '.join(also)}"
    elif any(deploys.values()):
        yield (f"{role.get('name')} may register model versions and also "
               f"{', '.join(d for d, allowed in deploys.items() if allowed)} in {env.tier}, where only the "
               "deployer deploys")
