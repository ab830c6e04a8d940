"""The training lane of an environment's architecture diagram: the Studio domain, the training jobs
(as the job template starts them), the model pipelines, the model registry and its approval alerts,
the training data store, and what the training role reads and writes. Read from the synthesized
platform, data and access stacks."""
from __future__ import annotations

import json

from policies.report.diagram.architecture import Architecture, Flow, Stage, bucket_order, bucket_purposes
from policies.report.diagram.stacks import Doc, as_list, first, of_type, policy_statements, refs

NODE = "model:_training"  # "_" is never in a model's name, so no model's lane takes this node
TEMPLATE_SUFFIX = "/training/job-template"
TRAINING_ROLE_SUFFIX = "-sagemaker-training"


APPROVAL_EVENT = "SageMaker Model Package State Change"


def add_training(arch: Architecture, platform: Doc, data: Doc, access: Doc | None = None) -> None:
    stages = [s for s in (_studio(platform), _jobs(platform), _pipelines(platform),
                          _registry(data, _approvals(access or {})), _store(platform)) if s]
    if not stages:
        return
    arch.training = stages
    reads, writes = _role_flows(arch, platform)
    for purpose in sorted(reads, key=bucket_order):
        arch.flows.append(Flow(f"bucket:{purpose}", NODE, "reads"))
    for purpose in sorted(writes, key=bucket_order):
        arch.flows.append(Flow(NODE, f"bucket:{purpose}", "writes"))


def _studio(doc: Doc) -> Stage | None:
    domains = of_type(doc, "aws_sagemaker_domain")
    if not domains:
        return None
    _, domain = domains[0]
    idle = first(first(first(first(domain.get("default_user_settings")).get("jupyter_lab_app_settings"))
                       .get("app_lifecycle_management")).get("idle_settings"))
    detail = [str(domain.get("app_network_access_type") or "PublicInternetOnly"),
              "KMS" if domain.get("kms_key_id") else "AWS key",
              f"{len(of_type(doc, 'aws_sagemaker_user_profile'))} profiles"]
    if idle.get("lifecycle_management") == "ENABLED":
        detail.append(f"idle {idle.get('idle_timeout_in_minutes')} min")
    return Stage("Studio domain", " · ".join(detail))


def _jobs(doc: Doc) -> Stage | None:
    for _, conf in of_type(doc, "aws_ssm_parameter"):
        if str(conf.get("name", "")).endswith(TEMPLATE_SUFFIX):
            try:
                template = json.loads(str(conf.get("value")))
            except (TypeError, ValueError):
                return Stage("Training jobs", "template unreadable")
            spot = "Spot + checkpoints" if template.get("EnableManagedSpotTraining") else "on-demand"
            isolated = "isolated" if template.get("EnableNetworkIsolation") else "not isolated"
            return Stage("Training jobs", f"{spot} · {isolated} · VPC")
    return None


def _registry(doc: Doc, approvals: str) -> Stage | None:
    groups = of_type(doc, "aws_sagemaker_model_package_group")
    return Stage("Model registry", f"{len(groups)} groups · approver approves · {approvals}") if groups else None


def _pipelines(doc: Doc) -> Stage | None:
    pipelines = of_type(doc, "aws_sagemaker_pipeline")
    if not pipelines:
        return None
    return Stage("Model pipelines", f"{len(pipelines)} · train, evaluate, baseline, register pending")


def _approvals(doc: Doc) -> str:
    """How approvals are announced: by the approval rule's target (with its dead-letter queue), or not."""
    for name, rule in of_type(doc, "aws_cloudwatch_event_rule"):
        if APPROVAL_EVENT not in str(rule.get("event_pattern")):
            continue
        targets = [t for _, t in of_type(doc, "aws_cloudwatch_event_target") if name in refs(t.get("rule"),
                                                                                           "aws_cloudwatch_event_rule")]
        if not targets:
            return "approval rule without a target"
        dlq = " + DLQ" if any(first(t.get("dead_letter_config")).get("arn") for t in targets) else ""
        return f"approvals → alerts{dlq}"
    return "approvals not announced"


def _store(doc: Doc) -> Stage | None:
    clusters = of_type(doc, "aws_rds_cluster")
    if not clusters:
        return None
    _, cluster = clusters[0]
    auth = "IAM auth" if cluster.get("iam_database_authentication_enabled") else "password auth"
    return Stage("Aurora data store", f"PostgreSQL Serverless v2 · {auth} · TLS")


def _role_flows(arch: Architecture, doc: Doc) -> tuple[set[str], set[str]]:
    """Buckets the training role's policy reads and writes."""
    roles = {name for name, conf in of_type(doc, "aws_iam_role")
             if str(conf.get("name", "")).endswith(TRAINING_ROLE_SUFFIX)}
    reads: set[str] = set()
    writes: set[str] = set()
    for _, conf in of_type(doc, "aws_iam_role_policy"):
        if not refs(conf.get("role"), "aws_iam_role") & roles:
            continue
        for statement in policy_statements(conf.get("policy")):
            if statement.get("Effect") != "Allow":
                continue
            actions = [str(a) for a in as_list(statement.get("Action"))]
            buckets = bucket_purposes(arch, statement.get("Resource"))
            if "s3:GetObject" in actions:
                reads |= buckets
            if "s3:PutObject" in actions:
                writes |= buckets
    return reads - writes, writes
