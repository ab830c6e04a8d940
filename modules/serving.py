"""Serving kinds: everything the pillars need to know about one way of serving a model, in one place.

A model's `serving:` names one kind. The settings schema takes the kind's section; the platform
builds the kind's construct; the access pillar alarms on and charts the kind's CloudWatch metrics
and lets the app-invoker persona invoke it; the report diagram labels the model's lane with it.
Adding a kind is one entry in `KINDS` plus one platform construct.

This module sits outside both pillars because both read it, and it imports nothing of theirs
when loaded (the settings schema imports it): the construct is named by its dotted path and
imported only when a platform stack builds it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Literal

if TYPE_CHECKING:
    from modules.naming import Naming
    from modules.platform.context import ServingConstructClass
    from modules.platform.settings import ModelSettings

# Every model's execution role is `<project>-<env>-<model>-exec` (the platform creates it; the key
# policies and the ml-engineer's PassRole name it).
EXECUTION_ROLE_SUFFIX = "-exec"

# The one production variant of every SageMaker endpoint config. It keeps its name across config
# updates, so the autoscaling target and the alarms can name it.
PRODUCTION_VARIANT = "primary"


@dataclass(frozen=True)
class Metrics:
    """Where CloudWatch publishes the serving health of a kind's models.

    `family` picks the alarm set the access pillar applies (`endpoint`, `function` or
    `load-balancer`); kinds that publish the same metrics share a family and so their alarms.
    A model's metrics carry the dimension `identity` (the value CloudWatch names the model's
    resource by) plus the `fixed` ones."""

    family: str
    namespace: str
    identity: str
    # The dashboard's rows for one model: traffic and errors (summed), latency last (p99).
    health: tuple[str, ...]
    fixed: tuple[tuple[str, str], ...] = ()
    # Keys of the per-model alarms (`Naming.alarm("model", <model>, key)`, created by the access
    # pillar) that judge a new model version: a release rolls back when one of them fires.
    rollback: tuple[str, ...] = ()

    def dimensions(self, resource_id: str) -> dict[str, str]:
        return {self.identity: resource_id, **dict(self.fixed)}


# SageMaker endpoints, real-time and serverless: named `<project>-<env>-<model>`.
ENDPOINT_METRICS = Metrics(
    family="endpoint", namespace="AWS/SageMaker", identity="EndpointName",
    fixed=(("VariantName", PRODUCTION_VARIANT),),
    health=("Invocations", "Invocation5XXErrors", "Invocation4XXErrors", "ModelLatency"),
    # The invocation-anomaly alarm judges traffic, not the model: it would roll back a healthy release.
    rollback=("latency-p99", "5xx-rate", "4xx-rate"))
# Lambda functions: named `<project>-<env>-<model>` (the metrics of every version and alias).
FUNCTION_METRICS = Metrics(
    family="function", namespace="AWS/Lambda", identity="FunctionName",
    health=("Invocations", "Errors", "Throttles", "Duration"), rollback=("error-rate",))
# The ALB in front of a GPU fleet: CloudWatch names it by its ARN suffix, which is random, so the
# access pillar looks the ALB and its target group (`TargetGroup`) up by their conventional names
# (`Naming.load_balancer`, `Naming.target_group`).
LOAD_BALANCER_METRICS = Metrics(
    family="load-balancer", namespace="AWS/ApplicationELB", identity="LoadBalancer",
    health=("RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "TargetResponseTime"),
    # New instances that fail the ALB's health check, answer 5XX or slowly fail an instance refresh.
    rollback=("5xx", "response-time-p99", "unhealthy-hosts"))


@dataclass(frozen=True, eq=False)
class InvokeGrant:
    """One statement of the app-invoker persona: `actions` on the ARN `resource` gives for each model
    of the kinds that carry this grant (None: that model offers nothing to invoke this way)."""

    sid: str
    actions: tuple[str, ...]
    resource: Callable[["Naming", "ModelSettings"], str | None]
    condition: dict | None = None


def _endpoint(naming: "Naming", model: "ModelSettings") -> str:
    return naming.endpoint_arn(model.name)


def _live_alias(naming: "Naming", model: "ModelSettings") -> str:
    return naming.live_alias_arn(model.name)


def _live_alias_url(naming: "Naming", model: "ModelSettings") -> str | None:
    return _live_alias(naming, model) if model.function is not None and model.function.function_url else None


INVOKE_ENDPOINT = InvokeGrant("InvokeEndpoints", ("sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"),
                              _endpoint)
INVOKE_FUNCTION = InvokeGrant("InvokeFunctions", ("lambda:InvokeFunction",), _live_alias)
# The platform's function URLs (on the live alias) use AWS_IAM auth; never an open URL.
INVOKE_FUNCTION_URL = InvokeGrant("InvokeFunctionUrls", ("lambda:InvokeFunctionUrl",), _live_alias_url,
                                  {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}})


@dataclass(frozen=True)
class ServingKind:
    """One way of serving a model.

    - `section`: the key of the model's settings for this kind (`platform.models[].<section>`);
    - `construct`: `module:Class` of the platform construct that serves one model; the class
      builds itself for a model through `serve(scope, construct_id, model, deps)`;
    - `metrics`: where its serving health is published (alarms and dashboard);
    - `invoke`: what the app-invoker persona may call, in statement order (empty: nothing, as for
      a fleet reached through its load balancer);
    - `lane`: the label of the model's lane in the architecture diagram;
    - `execution_service`: the AWS service the model's execution role (`<prefix>-<model>-exec`) is
      passed to and trusts;
    - `execution_keys`: the data classes whose keys that role uses (the key policies name it);
    - `inference_bucket_events`: the inference bucket's object events invoke it (the platform stack
      then owns that bucket's notification configuration);
    - `image`: it runs the model's own container image, from the model's ECR repository (the data
      stack creates one per such model, so it exists before anything pulls from it);
    - `artifact`: the file name of the model's artifact under `models/<model>/<version>/` in the
      model-artifacts bucket;
    - `instances`: it runs EC2 instances in the VPC (the SSM and GuardDuty agents run on them)."""

    name: str
    section: str
    construct: str
    metrics: Metrics
    lane: str
    execution_service: str
    execution_keys: tuple[str, ...]
    invoke: tuple[InvokeGrant, ...] = ()
    inference_bucket_events: bool = False
    image: bool = True
    artifact: str = "model.tar.gz"
    instances: bool = False

    def construct_class(self) -> ServingConstructClass:
        module, _, cls = self.construct.partition(":")
        return getattr(importlib.import_module(module), cls)


def _kinds(*kinds: ServingKind) -> dict[str, ServingKind]:
    return {k.name: k for k in kinds}


KINDS: dict[str, ServingKind] = _kinds(
    ServingKind("sagemaker", section="sagemaker", lane="sagemaker",
                construct="modules.platform.sagemaker_realtime:SageMakerRealtime",
                execution_service="sagemaker.amazonaws.com", execution_keys=("model", "inference"),
                metrics=ENDPOINT_METRICS, invoke=(INVOKE_ENDPOINT,)),
    ServingKind("sagemaker-serverless", section="serverless", lane="sagemaker-serverless",
                construct="modules.platform.sagemaker_serverless:SageMakerServerless",
                execution_service="sagemaker.amazonaws.com", execution_keys=("model", "inference"),
                metrics=ENDPOINT_METRICS, invoke=(INVOKE_ENDPOINT,)),
    ServingKind("lambda", section="lambda", lane="lambda",
                construct="modules.platform.lambda_inference:LambdaInference",
                execution_service="lambda.amazonaws.com", execution_keys=("model", "inference"),
                metrics=FUNCTION_METRICS, invoke=(INVOKE_FUNCTION, INVOKE_FUNCTION_URL),
                inference_bucket_events=True, image=False, artifact="model.json"),
    ServingKind("ec2", section="ec2", lane="ec2",
                construct="modules.platform.gpu_fleet:GpuFleet",
                execution_service="ec2.amazonaws.com", execution_keys=("model",),
                metrics=LOAD_BALANCER_METRICS, instances=True),
)

# The schema's type of `serving:` (pydantic lists these values when one is wrong). Built from the
# registry at run time, so the type checker sees a plain str.
if TYPE_CHECKING:
    ServingKindName = str
else:
    ServingKindName = Literal[tuple(KINDS)]


def kind(name: str) -> ServingKind:
    return KINDS[name]


def invoke_grants() -> list[InvokeGrant]:
    """Every grant of every kind, once each, in the order of the kinds (the statement order)."""
    seen: dict[str, InvokeGrant] = {}
    for k in KINDS.values():
        for grant in k.invoke:
            seen.setdefault(grant.sid, grant)
    return list(seen.values())


def invoke_actions() -> tuple[str, ...]:
    """All actions that invoke a model of any kind (what an invoke-only role may do, and nothing else)."""
    return tuple(sorted({a for grant in invoke_grants() for a in grant.actions}))

