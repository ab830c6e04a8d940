"""AEGIS_EXECUTION_ROLE_JOBS: no persona that may pass a model's execution role may start a SageMaker job.

A SageMaker model's execution role holds what serving needs: the model and inference keys, writes
to captured inference data. Whoever may `iam:PassRole` it to SageMaker (the ML engineer, for
CreateModel) could equally name it as the RoleArn of a training or processing job and run any code
with it: PassRole sees only the role and the service (`iam:PassedToService`), never the API, and no
SageMaker condition key names the role a job runs with. So such a persona must be denied the APIs
that start compute with a passed role.

For each persona role and each SageMaker model's execution role (`execution_role_arn` of the
`aws_sagemaker_model`s), the IAM evaluator decides with the persona's policies and permission
boundary whether it may pass the role to SageMaker; if so, each job API below is evaluated on a job
of the environment, with the most favourable context (VPC subnets and security groups, network
isolation, KMS keys), and must be denied. Policies that cannot be read or judged fail.
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import NotJudged, is_persona, role_with_boundary
from policies.app_checks.view import AppView, Env
from policies.iam_eval import Request, UnsupportedPolicy, is_allowed

SAGEMAKER = "sagemaker.amazonaws.com"
# SageMaker APIs that run (or schedule) compute with a role the caller passes, and the resource type
# they create (SageMaker API reference: RoleArn / ExecutionRole request members).
JOBS = {
    "sagemaker:CreateTrainingJob": "training-job", "sagemaker:CreateProcessingJob": "processing-job",
    "sagemaker:CreateHyperParameterTuningJob": "hyper-parameter-tuning-job",
    "sagemaker:CreateAutoMLJob": "automl-job", "sagemaker:CreateAutoMLJobV2": "automl-job",
    "sagemaker:CreateCompilationJob": "compilation-job", "sagemaker:CreateLabelingJob": "labeling-job",
    "sagemaker:CreateNotebookInstance": "notebook-instance", "sagemaker:CreateOptimizationJob": "optimization-job",
    "sagemaker:CreatePipeline": "pipeline", "sagemaker:CreateMonitoringSchedule": "monitoring-schedule",
    "sagemaker:CreateDataQualityJobDefinition": "data-quality-job-definition",
    "sagemaker:CreateModelQualityJobDefinition": "model-quality-job-definition",
    "sagemaker:CreateModelBiasJobDefinition": "model-bias-job-definition",
    "sagemaker:CreateModelExplainabilityJobDefinition": "model-explainability-job-definition",
    "sagemaker:CreateInferenceRecommendationsJob": "inference-recommendations-job",
    "sagemaker:CreateEdgePackagingJob": "edge-packaging-job", "sagemaker:CreateFlowDefinition": "flow-definition",
}


def execution_roles(env: Env) -> list[str]:
    """ARNs of the roles the environment's SageMaker models run with."""
    arns = set()
    for stack, _, model in env.resources("aws_sagemaker_model"):
        target = stack.target(model.get("execution_role_arn"), "aws_iam_role")
        if target is not None:
            arns.add(f"arn:aws:iam::{env.naming.account_id}:role/{target[1].get('name')}")
        elif isinstance(model.get("execution_role_arn"), str) and "${" not in model["execution_role_arn"]:
            arns.add(model["execution_role_arn"])
    return sorted(arns)


@app_check("AEGIS_EXECUTION_ROLE_JOBS", "No persona that may pass a model's execution role may start a SageMaker job")
def execution_role_jobs(app: AppView):
    for env in app.envs:
        roles = execution_roles(env)
        if not roles:
            continue
        for stack, name, role in env.resources("aws_iam_role"):
            if is_persona(role):
                yield judge(stack.name, f"aws_iam_role.{name}", _problems(env, stack, name, role, roles),
                            "starts no SageMaker job with a model's execution role")


def _problems(env: Env, stack, name: str, role: dict, execution_arns: list[str]) -> Iterator[str]:
    try:
        arn, documents, boundary = role_with_boundary(env, stack, name, role)
    except NotJudged as exc:
        yield str(exc)
        return
    n = env.naming
    key = f"arn:aws:kms:{n.region}:{n.account_id}:key/00000000-0000-0000-0000-000000000000"
    session = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": arn, "aws:PrincipalAccount": n.account_id,
               "aws:MultiFactorAuthPresent": "true"}
    favourable = {"sagemaker:VpcSubnets": ["subnet-0123456789abcdef0"],
                  "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"], "sagemaker:NetworkIsolation": True,
                  "sagemaker:InterContainerTrafficEncryption": True, "sagemaker:VolumeKmsKey": key,
                  "sagemaker:OutputKmsKey": key}

    def may(action: str, resource: str, extra: dict) -> bool:
        return is_allowed(documents, Request(action, resource, {**session, **extra}), boundary=boundary)

    try:
        passable = [r for r in execution_arns if may("iam:PassRole", r, {"iam:PassedToService": SAGEMAKER})]
        if not passable:
            return
        started = [action for action, kind in sorted(JOBS.items())
                   if may(action, f"arn:aws:sagemaker:{n.region}:{n.account_id}:{kind}/{n.prefix}-job", favourable)]
    except UnsupportedPolicy as exc:
        yield f"its policies cannot be judged: {exc}"
        return
    if started:
        yield (f"it may pass the execution role(s) {', '.join(passable)} to SageMaker and call "
               f"{', '.join(started)}: a job would run any code with the model's keys and data (PassRole cannot "
               "tell CreateModel from a job); deny those APIs to every persona that passes execution roles")
