"""Each model's serving path in an environment's platform stack: which models are served and how
(the serving kind), the resources each one owns, the stages a request passes, and its data flows.

Kind detection is `_model_kinds`; the stages drawn per kind are `serving_stages` (by the kind's metrics family).
"""
from __future__ import annotations

import re
from typing import Any

from modules.serving import KINDS
from modules.synth_output import METADATA
from policies.report.diagram.architecture import Architecture, Flow, Model, Stage, bucket_order, bucket_purposes
from policies.report.diagram.stacks import (
    Doc,
    as_list,
    blocks,
    first,
    of_type,
    policy_statements,
    refs,
    resources,
    strings,
)


def _model_kinds(arch: Architecture, doc: Doc) -> dict[str, str]:
    """Model name → serving kind, from the per-model anchors named `<prefix>-<model>`."""
    found: dict[str, str] = {}
    lead = arch.prefix + "-"
    configs = dict(of_type(doc, "aws_sagemaker_endpoint_configuration"))
    for _, conf in of_type(doc, "aws_sagemaker_endpoint"):
        name = str(conf.get("name", ""))
        if name.startswith(lead):
            config_ids = refs(conf.get("endpoint_config_name"), "aws_sagemaker_endpoint_configuration")
            variant = first(next((configs[i] for i in sorted(config_ids) if i in configs), {}).get("production_variants"))
            found[name[len(lead):]] = "sagemaker-serverless" if variant.get("serverless_config") else "sagemaker"
    for _, conf in of_type(doc, "aws_lambda_function"):
        name = str(conf.get("function_name", ""))
        if name.startswith(lead):
            found.setdefault(name[len(lead):], "lambda")
    for _, conf in of_type(doc, "aws_autoscaling_group"):
        name = str(conf.get("name", "") or conf.get("name_prefix", "")).rstrip("-")
        if name.startswith(lead):
            found.setdefault(name[len(lead):], "ec2")
    return dict(sorted(found.items()))


_REF = re.compile(r"\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")
# Resource types that belong to one model's serving path (shared network and keys do not).
_MODEL_TYPES = ("aws_sagemaker_", "aws_lambda_", "aws_iam_role", "aws_iam_instance_profile", "aws_launch_template",
                "aws_lb", "aws_alb", "aws_wafv2_", "aws_cloudfront_", "aws_ecr_", "aws_sqs_", "aws_appautoscaling_",
                "aws_autoscaling_", "aws_cloudwatch_log_group", "aws_security_group", "aws_signer_")


class _ModelNamer:
    """Which model a value names: `<lead><model>` at the start of a string or after '/' or ':', and
    before its end or one of '-/:._'; the longest model name wins. One pass over the value's strings
    however many models there are (a regex per model made the diagram quadratic in models)."""

    _ENDS = frozenset("-/:._")

    def __init__(self, names: list[str], lead: str) -> None:
        self.lead = lead
        # Longest first, then the given order: the first of these a value names is its owner.
        self.rank = {m: i for i, m in enumerate(sorted(names, key=len, reverse=True)) if m}
        self.longest = max(map(len, self.rank), default=0)

    def named(self, text: str) -> set[str]:
        found: set[str] = set()
        lead, at = self.lead, text.find(self.lead)
        while at != -1:
            if at == 0 or text[at - 1] in "/:":
                begin = at + len(lead)
                for end in range(begin + 1, min(len(text), begin + self.longest) + 1):
                    if (end == len(text) or text[end] in self._ENDS) and text[begin:end] in self.rank:
                        found.add(text[begin:end])
            at = text.find(lead, at + 1)
        return found

    def owner(self, value: Any) -> str | None:
        found = {m for text in strings(value) for m in self.named(text)}
        return min(found, key=self.rank.__getitem__) if found else None


def _ownership(doc: Doc, names: list[str], lead: str) -> dict[str, list[tuple[str, str, dict]]]:
    """Resources of each model: those naming it (or tagged `Model`), the serving-type resources they
    reference, and those that reference them directly. A resource two models reach is shared (left out)."""
    index = {(t, i): c for t, i, c in resources(doc)}
    forward = {key: {(t, i) for t, i in _REF.findall(" ".join(strings(conf)))} & index.keys()
               for key, conf in index.items()}
    backward: dict[tuple[str, str], set] = {key: set() for key in index}
    for key, targets in forward.items():
        for target in targets:
            backward[target].add(key)
    seeds: dict[str, set] = {m: set() for m in names}
    namer = _ModelNamer(names, lead)
    for key, conf in index.items():
        tags = conf["tags"] if isinstance(conf.get("tags"), dict) else {}
        model = tags.get("Model") if tags.get("Model") in names else None
        model = model or namer.owner({k: v for k, v in conf.items() if k not in ("tags", "tags_all", METADATA)})
        if model:
            seeds[model].add(key)
    seeded = {key for found in seeds.values() for key in found}

    def close(start: set, blocked: set) -> set:
        reach, todo = set(start), sorted(start)
        while todo:
            for other in forward[todo.pop()]:
                if other not in reach and other not in blocked and other[0].startswith(_MODEL_TYPES):
                    reach.add(other)
                    todo.append(other)
        return reach

    reach = {m: close(seeds[m], seeded - seeds[m]) for m in names}
    shared = {key for m in names for key in reach[m] if sum(key in reach[o] for o in names) > 1}
    for m in names:
        own = reach[m] - shared
        extra = {b for key in own for b in backward[key] if b[0].startswith(_MODEL_TYPES)} - seeded - shared
        reach[m] = own | close(extra, seeded | shared)
    owned: dict[str, list[tuple[str, str, dict]]] = {m: [] for m in names}
    for m in names:
        for key in sorted(reach[m]):
            if sum(key in reach[o] for o in names) == 1:
                owned[m].append((key[0], key[1], index[key]))
    return owned


def _notifications(arch: Architecture, doc: Doc, names: list[str], lead: str) -> dict[str, tuple[set[str], str]]:
    """Model → (buckets whose events invoke it, key prefix): one notification resource serves every function."""
    index = {(t, i): c for t, i, c in resources(doc)}
    namer = _ModelNamer(names, lead)
    out: dict[str, tuple[set[str], str]] = {}
    for _, conf in of_type(doc, "aws_s3_bucket_notification"):
        buckets = bucket_purposes(arch, conf.get("bucket"))
        for entry in blocks(conf.get("lambda_function")):
            seen = set()
            todo = [(t, i) for t, i in _REF.findall(" ".join(strings(entry.get("lambda_function_arn"))))]
            model = namer.owner(entry.get("lambda_function_arn"))
            while todo and not model:
                key = todo.pop()
                if key in seen or key not in index:
                    continue
                seen.add(key)
                model = namer.owner(index[key])
                todo += _REF.findall(" ".join(strings(index[key])))
            if model:
                out[model] = (out.get(model, (set(), ""))[0] | buckets, str(entry.get("filter_prefix", "")))
    return out


def add_models(arch: Architecture, doc: Doc, access: Doc) -> None:
    """Each model served by the platform stack `doc`, with its alarms (from `access`) and its flows."""
    names = _model_kinds(arch, doc)
    if not names:
        return
    lead = arch.prefix + "-"
    owned = _ownership(doc, list(names), lead)
    triggers = _notifications(arch, doc, list(names), lead)
    alarms: dict[str, int] = {m: 0 for m in names}
    drift: set[str] = set()
    by_alarm_name, by_dimensions = _ModelNamer(list(names), lead + "model-"), _ModelNamer(list(names), lead)
    for rtype, _, conf in resources(access):
        if rtype in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
            owner = by_alarm_name.owner(conf.get("alarm_name")) or by_dimensions.owner(conf.get("dimensions"))
            if owner:
                alarms[owner] += 1
                if rtype == "aws_cloudwatch_metric_alarm" and str(conf.get("alarm_name", "")).endswith(DRIFT_SUFFIX):
                    drift.add(owner)
    for name, kind in names.items():
        model = Model(name=name, kind=kind, alarms=alarms[name], drift_alarm=name in drift)
        items = owned[name]
        by_type: dict[str, list[dict]] = {}
        for rtype, _, conf in items:
            by_type.setdefault(rtype, []).append(conf)
        _model_flows(arch, model, items)
        if name in triggers:
            model.triggers |= triggers[name][0]
            model.reads -= model.triggers
        prefix = triggers.get(name, (set(), ""))[1]
        serving_stages(kind)(arch, model, by_type, prefix)
        if by_type.get("aws_sagemaker_pipeline"):  # its versions come from its pipeline, pending approval
            model.notes.append("pipeline → registry (pending)")
        arch.models.append(model)
        node = f"model:{name}"
        for purpose in sorted(model.triggers, key=bucket_order):
            arch.flows.append(Flow(f"bucket:{purpose}", node, "S3 event"))
        for purpose in sorted(model.reads, key=bucket_order):
            arch.flows.append(Flow(f"bucket:{purpose}", node, "reads"))
        for purpose in sorted(model.writes, key=bucket_order):
            arch.flows.append(Flow(node, f"bucket:{purpose}", "writes"))
        if model.alarms:
            arch.flows.append(Flow(node, "svc:cloudwatch", "metrics"))


# Model Monitor reads SageMaker endpoints' data capture only (README "Model Monitor": the alternative).
NO_MODEL_MONITOR = "no Model Monitor (not a SageMaker endpoint)"
DRIFT_SUFFIX = "-drift"  # the per-model drift alarm `<prefix>-model-<model>-drift` (modules/access/model_alarms.py)
_READ = re.compile(r"^s3:(Get|List)", re.I)
_WRITE = re.compile(r"^s3:(Put|Delete|AbortMultipartUpload|RestoreObject)", re.I)


def _model_flows(arch: Architecture, model: Model, items: list[tuple[str, str, dict]]) -> None:
    for rtype, _, conf in items:
        if rtype in ("aws_iam_role_policy", "aws_iam_policy"):
            for st in policy_statements(conf.get("policy")):
                if st.get("Effect") != "Allow":
                    continue
                actions = [str(a) for a in as_list(st.get("Action"))]
                buckets = bucket_purposes(arch, st.get("Resource"))
                if any(_READ.match(a) or a in ("s3:*", "s3:Get*") for a in actions):
                    model.reads |= buckets
                if any(_WRITE.match(a) or a == "s3:*" for a in actions):
                    model.writes |= buckets
        elif rtype == "aws_sagemaker_model":
            container = first(conf.get("primary_container"))
            model.reads |= bucket_purposes(arch, [container.get("model_data_url"), container.get("model_data_source")])
        elif rtype == "aws_sagemaker_endpoint_configuration":
            capture = first(conf.get("data_capture_config"))
            model.writes |= bucket_purposes(arch, capture.get("destination_s3_uri"))
            output = first(first(conf.get("async_inference_config")).get("output_config"))
            model.writes |= bucket_purposes(arch, output.get("s3_output_path"))


def _sagemaker(arch: Architecture, model: Model, by_type: dict[str, list[dict]], prefix: str) -> None:
    serverless = model.kind == "sagemaker-serverless"
    runtime = arch.network and "sagemaker.runtime" in arch.network.interface_endpoints
    model.stages.append(Stage("SageMaker runtime", "SigV4 via VPC endpoint" if runtime else "SigV4, regional API"))
    config = first(by_type.get("aws_sagemaker_endpoint_configuration"))
    variant = first(config.get("production_variants"))
    sm_model = first(by_type.get("aws_sagemaker_model"))
    isolation = []
    if sm_model.get("vpc_config"):
        isolation.append("in VPC")
    if sm_model.get("enable_network_isolation"):
        isolation.append("network isolated")
    if serverless:
        sc = first(variant.get("serverless_config"))
        detail = f"{sc.get('memory_size_in_mb', '?')} MB, ≤{sc.get('max_concurrency', '?')} concurrent"
        model.stages.append(Stage("Serverless endpoint", detail))
    else:
        detail = f"{variant.get('instance_type', '?')} × {variant.get('initial_instance_count', '?')}"
        model.stages.append(Stage("Real-time endpoint", detail))
    scaling = first(by_type.get("aws_appautoscaling_target"))
    if scaling:
        unit = "provisioned" if serverless else "instances"
        model.stages.append(Stage("Autoscaling", f"{scaling.get('min_capacity', '?')}–{scaling.get('max_capacity', '?')} {unit}"))
    if isolation:
        model.notes.append(", ".join(isolation))
    if config.get("kms_key_arn"):
        model.notes.append("KMS storage")
    release = _release_note(first(first(by_type.get("aws_sagemaker_endpoint")).get("deployment_config")))
    capture = first(config.get("data_capture_config"))
    if serverless:  # AWS offers neither deployment guardrails nor data capture for serverless endpoints
        model.lifecycle.append("all at once; serverless: no guardrails, capture or monitor")
        return
    model.lifecycle.append(release or "all at once")
    if capture:
        pct = capture.get("initial_sampling_percentage")
        model.lifecycle.append(f"capture {pct}%" if pct is not None else "capture")
        model.lifecycle.append(_monitor_note(by_type, model.drift_alarm))


def _monitor_note(by_type: dict[str, list[dict]], drift_alarm: bool) -> str:
    """What reads the captured data: `monitor hourly vs baseline + drift alarm`."""
    schedule = first(by_type.get("aws_sagemaker_monitoring_schedule"))
    if not schedule:
        return "not monitored"
    config = first(schedule.get("monitoring_schedule_config"))
    expression = str(first(config.get("schedule_config")).get("schedule_expression", ""))
    hour = expression.split(" ")[1] if expression.startswith("cron(") and " " in expression else ""
    cadence = "hourly" if hour == "*" else f"every {hour.split('/')[1]} h" if "/" in hour else "daily" if hour else expression
    job = first(by_type.get("aws_sagemaker_data_quality_job_definition"))
    baseline = "vs baseline" if first(job.get("data_quality_baseline_config")) else "profile only"
    return f"monitor {cadence} {baseline}" + (" + drift alarm" if drift_alarm else "")


def _release_note(deployment: dict) -> str:
    """How an endpoint update reaches traffic: `canary, 3 rollback alarms`."""
    routing = first(first(deployment.get("blue_green_update_policy")).get("traffic_routing_configuration"))
    alarms = as_list(first(deployment.get("auto_rollback_configuration")).get("alarms"))
    parts = [str(routing["type"]).lower().replace("_", "-")] if routing.get("type") else []
    if alarms:
        parts.append(f"{len(alarms)} rollback alarm{'s' if len(alarms) > 1 else ''}")
    return ", ".join(parts)


def _function(arch: Architecture, model: Model, by_type: dict[str, list[dict]], prefix: str) -> None:
    fn = first(by_type.get("aws_lambda_function"))
    if model.triggers:
        model.stages.append(Stage("S3 event", f"{sorted(model.triggers)[0]}/{prefix}" if prefix else sorted(model.triggers)[0]))
    if by_type.get("aws_lambda_function_url"):
        model.stages.append(Stage("Function URL", "AWS_IAM auth"))
    alias_conf = first(by_type.get("aws_lambda_alias"))
    alias = alias_conf.get("name", "")
    weights = first(alias_conf.get("routing_config")).get("additional_version_weights")
    if isinstance(weights, dict) and weights:
        share = next(iter(weights.values()))
        model.lifecycle.append(f"canary {share:.0%} beside v{alias_conf.get('function_version', '?')}"
                               if isinstance(share, (int, float)) else "weighted alias")
    else:
        model.lifecycle.append(f"alias {alias or '?'} takes a new version at once")
    model.lifecycle.append(NO_MODEL_MONITOR)
    detail = f"{fn.get('memory_size', '?')} MB, {fn.get('timeout', '?')} s"
    model.stages.append(Stage(f"Lambda{':' + alias if alias else ''}", detail))
    provisioned = first(by_type.get("aws_appautoscaling_target"))
    if provisioned:
        model.stages.append(Stage("Provisioned conc.", f"{provisioned.get('min_capacity', '?')}–{provisioned.get('max_capacity', '?')}"))
    elif fn.get("reserved_concurrent_executions") is not None:
        model.stages.append(Stage("Concurrency", f"reserved {fn['reserved_concurrent_executions']}"))
    if fn.get("vpc_config"):
        model.notes.append("in VPC")
    if fn.get("kms_key_arn"):
        model.notes.append("KMS env")
    if by_type.get("aws_sqs_queue"):
        model.notes.append("DLQ (SQS, KMS)")
    if fn.get("code_signing_config_arn"):
        model.notes.append("code signing")


def _fleet(arch: Architecture, model: Model, by_type: dict[str, list[dict]], prefix: str) -> None:
    if by_type.get("aws_cloudfront_distribution"):
        model.stages.append(Stage("CloudFront", "TLS, WAF (global)"))
    if by_type.get("aws_wafv2_web_acl") or by_type.get("aws_wafv2_web_acl_association"):
        model.stages.append(Stage("WAF", "rate limit, managed rules"))
    lb = first(by_type.get("aws_lb") or by_type.get("aws_alb"))
    listener = first(by_type.get("aws_lb_listener") or by_type.get("aws_alb_listener"))
    if lb:
        scheme = "internal" if lb.get("internal") else "internet-facing"
        policy = str(listener.get("ssl_policy", ""))
        tls = " TLS 1.3" if "TLS13" in policy else (" TLS" if policy else "")
        model.stages.append(Stage("ALB", f"{scheme}{tls}"))
    asg = first(by_type.get("aws_autoscaling_group"))
    mixed = first(asg.get("mixed_instances_policy"))
    types = [t for o in blocks(first(mixed.get("launch_template")).get("override")) if (t := o.get("instance_type"))]
    detail = f"{asg.get('min_size', '?')}–{asg.get('max_size', '?')} instances"
    model.stages.append(Stage("GPU fleet (ASG)", detail))
    if types:
        model.notes.append("types " + ", ".join(types[:3]) + ("…" if len(types) > 3 else ""))
    dist = first(mixed.get("instances_distribution"))
    if dist:
        model.notes.append(f"on-demand base {dist.get('on_demand_base_capacity', 0)}")
    model.lifecycle.append(_refresh_note(first(first(asg.get("instance_refresh")).get("preferences"))))
    model.lifecycle.append(NO_MODEL_MONITOR)


def _refresh_note(preferences: dict) -> str:
    """How a new launch template reaches the fleet: `refresh 20/50/100 %, rollback on 3 alarms`."""
    if not preferences:
        return "no instance refresh"
    steps = "/".join(str(p) for p in as_list(preferences.get("checkpoint_percentages"))) or "100"
    alarms = as_list(first(preferences.get("alarm_specification")).get("alarms"))
    rollback = (f", rollback on {len(alarms)} alarm{'s' if len(alarms) != 1 else ''}"
                if preferences.get("auto_rollback") and alarms else ", no rollback")
    return f"refresh {steps} %{rollback}"


# The stages drawn for a model, by the metrics family of its serving kind (modules/serving.py): kinds
# that serve the same way (a SageMaker endpoint, a function, a fleet behind a load balancer) draw alike.
SERVING_STAGES = {"endpoint": _sagemaker, "function": _function, "load-balancer": _fleet}


def serving_stages(kind: str):
    return SERVING_STAGES[KINDS[kind].metrics.family]
