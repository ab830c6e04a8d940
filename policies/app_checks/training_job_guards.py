"""AEGIS_TRAINING_JOB_GUARDS: no role can start a training, processing or tuning job without the
isolation AWS can enforce on it.

SageMaker jobs read training data and write models. The permission boundary denies every role a job
without VPC subnets (`sagemaker:VpcSubnets` absent) or whose volume or output key is absent or not a
key of this account (`sagemaker:VolumeKmsKey`, `sagemaker:OutputKmsKey`). Every role whose policies
allow such a job must also be denied one without inter-container traffic encryption
(`sagemaker:InterContainerTrafficEncryption` absent or false) and a job without network isolation
(`sagemaker:NetworkIsolation`, a condition key of all three). Absent keys matter: a request that
leaves a setting out gets the API's insecure default, so a deny written only for the explicit `false`
lets it through. One exception, where the environment has a training data store: processing jobs run
as the training role connect to it, which an isolated container cannot, so a role that may pass the
training role may start unisolated processing jobs there (they write only `models/_training/` and
`models/_checkpoints/`, which nothing downstream trusts); the pipeline role, which passes only the
pipeline-jobs role, never may.

Judged with the IAM evaluator: the boundary against an identity policy that allows everything (a role
added later), and each role of the environment with its own policies and boundary. A role whose
policies cannot be read fails (not judged). Roles that only AWS services
which run none of the account's code assume (AWS Backup, S3 replication, flow logs) are left out: the
boundary lets roles be passed only to SageMaker, Lambda and EC2 (PASS_ROLE_SERVICES), so no person or
program of the account can act as them.
"""
from __future__ import annotations

from typing import Iterator

from modules.boundary import PASS_ROLE_SERVICES, boundary_name
from modules.training import PIPELINE_JOB_PREFIX, training_role_arn
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import NotJudged, acts_for_code_or_people, may_name_any, role_with_boundary
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import document
from policies.iam_eval import Request, UnsupportedPolicy, is_allowed

JOBS = {"sagemaker:CreateTrainingJob": "training-job", "sagemaker:CreateProcessingJob": "processing-job",
        "sagemaker:CreateHyperParameterTuningJob": "hyper-parameter-tuning-job"}
ISOLATED = tuple(JOBS)
PROCESSING = "sagemaker:CreateProcessingJob"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
FOREIGN_KEY = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def guarded(env: Env, **changes) -> dict:
    """The request context of a job launched as the environment's template launches it; `changes`
    override keys (None removes one)."""
    n = env.naming
    key = f"arn:aws:kms:{n.region}:{n.account_id}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    context = {"aws:RequestedRegion": n.region, "aws:PrincipalAccount": n.account_id,
               "aws:MultiFactorAuthPresent": "true", "sagemaker:VpcSubnets": ["subnet-0"],
               "sagemaker:VpcSecurityGroupIds": ["sg-0"], "sagemaker:VolumeKmsKey": key, "sagemaker:OutputKmsKey": key,
               "sagemaker:InterContainerTrafficEncryption": True, "sagemaker:NetworkIsolation": True}
    context.update(changes)
    return {k: v for k, v in context.items() if v is not None}


# (what is wrong with the job, context changes, actions it applies to); the boundary's and the roles'.
BOUNDARY_CASES = (
    ("without VPC subnets", {"sagemaker:VpcSubnets": None}, tuple(JOBS)),
    ("without a volume key", {"sagemaker:VolumeKmsKey": None}, tuple(JOBS)),
    ("without an output key", {"sagemaker:OutputKmsKey": None}, tuple(JOBS)),
    ("with another account's volume key", {"sagemaker:VolumeKmsKey": FOREIGN_KEY}, tuple(JOBS)),
    ("with another account's output key", {"sagemaker:OutputKmsKey": FOREIGN_KEY}, tuple(JOBS)),
)
ROLE_CASES = (
    ("without inter-container traffic encryption", {"sagemaker:InterContainerTrafficEncryption": None}, tuple(JOBS)),
    ("with inter-container traffic encryption off", {"sagemaker:InterContainerTrafficEncryption": False},
     tuple(JOBS)),
    ("without network isolation", {"sagemaker:NetworkIsolation": None}, ISOLATED),
    ("with network isolation off", {"sagemaker:NetworkIsolation": False}, ISOLATED),
)


@app_check("AEGIS_TRAINING_JOB_GUARDS",
           "No role can start a SageMaker training, processing or tuning job without VPC, own keys, "
           "traffic encryption and isolation")
def training_job_guards(app: AppView):
    for env in app.envs:
        wanted = boundary_name(env.naming)
        boundaries = [(s, n, c) for s, n, c in env.resources("aws_iam_policy") if c.get("name") == wanted]
        if not boundaries:
            yield fail(env.home_stack("data"), "", f"no permission boundary {wanted}: nothing caps the jobs roles start")
        for stack, name, conf in boundaries:
            yield judge(stack.name, f"aws_iam_policy.{name}", _boundary_problems(env, conf),
                        "denies every job without VPC subnets or this account's volume and output keys")
        for stack, name, role in env.resources("aws_iam_role"):
            if not acts_for_code_or_people(role, PASS_ROLE_SERVICES):
                continue  # only AWS services that run none of the account's code assume it
            yield judge(stack.name, f"aws_iam_role.{name}", _role_problems(env, stack, name, role),
                        "starts no job, or only with traffic encryption and isolation")


def _boundary_problems(env: Env, conf: dict) -> Iterator[str]:
    boundary = document(conf.get("policy"))
    if boundary is None:
        yield "the boundary is not literal JSON: not judged"
        return
    principal = env.naming.role_arn("any-role")
    try:
        for what, changes, actions in BOUNDARY_CASES:
            for action in actions:
                context = {**guarded(env, **changes), "aws:PrincipalArn": principal}
                if is_allowed([ALLOW_ALL], Request(action, _job(env, action), context), boundary=boundary):
                    yield f"the boundary lets a role {action.split(':')[1]} {what}"
    except UnsupportedPolicy as exc:
        yield f"the boundary cannot be judged: {exc}"


def _role_problems(env: Env, stack, name: str, role: dict) -> Iterator[str]:
    try:
        arn, documents, boundary = role_with_boundary(env, stack, name, role)
    except NotJudged as exc:
        yield str(exc)
        return
    if not may_name_any(documents, tuple(JOBS)):
        return  # no statement can allow a job
    base = {"aws:PrincipalArn": arn}
    try:
        store_client = _data_store(env) and is_allowed(documents, Request(
            "iam:PassRole", training_role_arn(env.naming),
            {**base, "iam:PassedToService": "sagemaker.amazonaws.com"}), boundary=boundary)
        for action in JOBS:
            # A job of the environment's name, or one SageMaker Pipelines names (`pipelines-…`).
            jobs = [job for job in _jobs(env, action)
                    if is_allowed(documents, Request(action, job, {**guarded(env), **base}), boundary=boundary)]
            for what, changes, actions in ROLE_CASES:
                if store_client and action == PROCESSING and "sagemaker:NetworkIsolation" in changes:
                    continue  # its processing jobs reach the training data store
                if action in actions and any(is_allowed(
                        documents, Request(action, job, {**guarded(env, **changes), **base}), boundary=boundary)
                        for job in jobs):
                    yield f"{role.get('name')} may {action.split(':')[1]} {what}"
    except UnsupportedPolicy as exc:
        yield f"the policies cannot be judged: {exc}"


def _data_store(env: Env) -> bool:
    training = env.config.platform.training
    return training.enabled and training.data_store.enabled


def _job(env: Env, action: str) -> str:
    return _jobs(env, action)[0]


def _jobs(env: Env, action: str) -> tuple[str, str]:
    n = env.naming
    jobs = f"arn:aws:sagemaker:{n.region}:{n.account_id}:{JOBS[action]}"
    return f"{jobs}/{n.prefix}-job", f"{jobs}/{PIPELINE_JOB_PREFIX}job"
