"""AEGIS_PIPELINE_JOBS_GUARDED: every job a SageMaker Pipeline starts runs in the VPC, isolated,
with inter-container traffic encryption and the environment's keys of the right class.

A pipeline starts its Training and Processing jobs with the arguments its definition holds, as its
role, so the definition is where a job's isolation is decided. Each such step must name the private
subnets and a security group (`VpcConfig` / `NetworkConfig.VpcConfig`), enable network isolation and
inter-container traffic encryption, put the training key on its volumes (unless it runs on an instance
type with local NVMe storage, which takes no volume key) and the model key on its outputs (the
model-artifacts bucket takes no other); a Spot training step needs a checkpoint location, or an
interruption starts it over. Each job runs as the pipeline-jobs role and writes (outputs, checkpoints)
only under the model's `models/_pipelines/<model>/` or `models/_baselines/<model>/` of the
model-artifacts bucket, the prefixes only that role may write unconditionally and that registration,
promotion and Model Monitor trust (a job run as the training role could not write there; one writing
elsewhere would leave its output where anybody may replace it). The pipeline runs as a role of this
environment. Every SageMaker-served model has a pipeline when the configuration enables them
(`platform.training.pipeline`).

The definition is parsed (`pipeline_definition`); one that cannot be read fails (not judged).
"""
from __future__ import annotations

from typing import Any, Iterator

from modules.training import (
    BASELINE_PREFIX,
    PIPELINE_JOBS_ROLE,
    has_local_storage,
    pipeline_folder,
    pipeline_models,
    pipeline_name,
)
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import key_class_of
from policies.app_checks.pipeline_steps import Unreadable, definition_of, steps
from policies.app_checks.view import AppView, Env, Stack

JOB_STEPS = ("Training", "Processing")


@app_check("AEGIS_PIPELINE_JOBS_GUARDED",
           "SageMaker Pipeline jobs run in the VPC, isolated, with traffic encryption and the right keys")
def pipeline_jobs_guarded(app: AppView):
    for env in app.envs:
        found = set()
        models = {pipeline_name(env.naming, m): m for m in pipeline_models(env.config)}
        for stack, name, conf in env.resources("aws_sagemaker_pipeline"):
            found.add(conf.get("pipeline_name"))
            yield judge(stack.name, f"aws_sagemaker_pipeline.{name}", _problems(env, stack, conf, models.get(conf.get("pipeline_name"))),
                        "every job step runs in the VPC, isolated, encrypted in transit and with the right keys, "
                        "as the pipeline-jobs role, writing only the pipeline's own prefixes")
        for model in pipeline_models(env.config):
            if pipeline_name(env.naming, model) not in found:
                yield fail(env.home_stack("platform"), "",
                           f"model {model} has no pipeline {pipeline_name(env.naming, model)} "
                           "(platform.training.pipeline is enabled)")


def _problems(env: Env, stack: Stack, conf: dict, model: str | None) -> Iterator[str]:
    role = conf.get("role_arn")
    if not (isinstance(role, str) and role.startswith(env.naming.role_arn(""))):
        yield f"the pipeline runs as {role!r}, not a role of this environment"
    try:
        definition = definition_of(conf)
    except Unreadable as exc:
        yield str(exc)
        return
    for step in steps(definition):
        kind, arguments = step.get("Type"), step.get("Arguments")
        if kind not in JOB_STEPS:
            continue
        label = f"step {step.get('Name')!r}"
        if not isinstance(arguments, dict):
            yield f"{label} has no Arguments"
            continue
        for problem in (_training if kind == "Training" else _processing)(env, stack, arguments):
            yield f"{label}: {problem}"
        for problem in _runs_as_pipeline_jobs(env, arguments, kind, model):
            yield f"{label}: {problem}"


def _runs_as_pipeline_jobs(env: Env, a: dict, kind: str, model: str | None) -> Iterator[str]:
    n = env.naming
    if a.get("RoleArn") != n.role_arn(PIPELINE_JOBS_ROLE):
        yield f"runs as {a.get('RoleArn')!r}, not the pipeline-jobs role {n.role(PIPELINE_JOBS_ROLE)}"
    if model is None:
        yield "the pipeline is not one of a configured model: where its jobs may write is unknown"
        return
    bucket = f"s3://{n.bucket('model-artifacts')}/"
    own = (f"{bucket}{pipeline_folder(model)}", f"{bucket}{BASELINE_PREFIX}{model}/")
    for where, uri in _output_locations(a, kind):
        start = _literal_start(uri)
        if start is None or not start.startswith(own):
            yield f"writes its {where} to {start or uri!r}, not under {' or '.join(own)}"


def _output_locations(a: dict, kind: str) -> Iterator[tuple[str, Any]]:
    if kind == "Training":
        yield "output", (a.get("OutputDataConfig") or {}).get("S3OutputPath")
        if a.get("CheckpointConfig"):
            yield "checkpoints", a["CheckpointConfig"].get("S3Uri")
        return
    for output in (a.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        yield f"output {output.get('OutputName')!r}", (output.get("S3Output") or {}).get("S3Uri")


def _literal_start(uri: Any) -> str | None:
    """A location's literal beginning: the string itself, or the first value of a `Std:Join` on ""
    (`[prefix, execution id, "/"]`); None when it does not start with a literal."""
    if isinstance(uri, str):
        return uri
    join = uri.get("Std:Join") if isinstance(uri, dict) else None
    values = join.get("Values") if isinstance(join, dict) and join.get("On") == "" else None
    return values[0] if isinstance(values, list) and values and isinstance(values[0], str) else None


def _vpc(vpc: Any) -> Iterator[str]:
    if not isinstance(vpc, dict) or not vpc.get("Subnets") or not vpc.get("SecurityGroupIds"):
        yield "no VPC config with subnets and security groups"


def _flag(value: Any, what: str) -> Iterator[str]:
    if value is not True:
        yield f"{what} is not enabled"


def _key(env: Env, stack: Stack, raw: Any, key_class: str, where: str) -> Iterator[str]:
    if not raw:
        yield f"no {where} key"
        return
    found = key_class_of(env, stack, raw)
    if found != key_class:
        yield f"the {where} key is {'the ' + found + ' key' if found else repr(raw)}, not the {key_class} key"


def _training(env: Env, stack: Stack, a: dict) -> Iterator[str]:
    yield from _vpc(a.get("VpcConfig"))
    yield from _flag(a.get("EnableNetworkIsolation"), "network isolation")
    yield from _flag(a.get("EnableInterContainerTrafficEncryption"), "inter-container traffic encryption")
    resources = a.get("ResourceConfig") or {}
    if not has_local_storage(str(resources.get("InstanceType"))):
        yield from _key(env, stack, resources.get("VolumeKmsKeyId"), "training", "volume")
    yield from _key(env, stack, (a.get("OutputDataConfig") or {}).get("KmsKeyId"), "model", "output")
    if a.get("EnableManagedSpotTraining") is True and not (a.get("CheckpointConfig") or {}).get("S3Uri"):
        yield "managed Spot training without a checkpoint location"


def _processing(env: Env, stack: Stack, a: dict) -> Iterator[str]:
    network = a.get("NetworkConfig") or {}
    yield from _vpc(network.get("VpcConfig"))
    yield from _flag(network.get("EnableNetworkIsolation"), "network isolation")
    yield from _flag(network.get("EnableInterContainerTrafficEncryption"), "inter-container traffic encryption")
    cluster = (a.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    if not has_local_storage(str(cluster.get("InstanceType"))):
        yield from _key(env, stack, cluster.get("VolumeKmsKeyId"), "training", "volume")
    yield from _key(env, stack, (a.get("ProcessingOutputConfig") or {}).get("KmsKeyId"), "model", "output")
