"""The architecture of one environment, read pillar by pillar from its synthesized stacks.

Everything is read from the `cdk.tf.json` files, never from the environment file, so the model is
what Terraform would build. Each model's serving path is read by `serving`.
"""
from __future__ import annotations

import json
import re
from typing import Mapping

from modules.naming import KEY_CLASSES, STACK_ORDER
from modules.synth_output import METADATA, stack_parts
from policies.report.diagram.architecture import (
    Architecture,
    Bucket,
    Flow,
    Network,
    Service,
    bucket_order,
    bucket_purpose,
    bucket_purposes,
)
from policies.report.diagram.serving import add_models
from policies.report.diagram.stacks import Doc, as_list, blocks, first, of_type, refs, resources
from policies.report.diagram.training import add_training


def extract(env: str, stacks: Mapping[str, Doc]) -> Architecture:
    """The architecture of `env` from its synthesized stacks (`<env>-<pillar>` → cdk.tf.json)."""
    mine = {parts[1]: doc for name, doc in stacks.items() if (parts := stack_parts(name)) and parts[0] == env}
    arch = Architecture(env=env)
    for pillar, doc in mine.items():
        arch.counts[pillar] = sum(1 for _ in resources(doc))
    _provider(arch, mine)
    data = mine.get("data", {})
    _data(arch, data)
    _state(arch, mine.get("bootstrap", {}))
    _boundary(arch, mine)
    platform = mine.get("platform", {})
    _network(arch, platform)
    add_models(arch, platform, mine.get("access", {}))
    add_training(arch, platform, data, mine.get("access", {}))
    _storage(arch, platform)
    _access(arch, mine.get("access", {}))
    _governance(arch, mine.get("governance", {}))
    arch.flows = _dedupe(arch.flows)
    return arch


def _provider(arch: Architecture, mine: Mapping[str, Doc]) -> None:
    for doc in mine.values():
        for provider in blocks((doc.get("provider") or {}).get("aws")):
            tags = first(provider.get("default_tags")).get("tags") or {}
            if provider.get("alias") == "dr":
                arch.dr_region = arch.dr_region or provider.get("region", "")
                continue
            arch.region = arch.region or provider.get("region", "")
            arch.project = arch.project or tags.get("Project", "")
            accounts = provider.get("allowed_account_ids") or []
            arch.account = arch.account or (accounts[0] if accounts else "")


def _data(arch: Architecture, doc: Doc) -> None:
    by_id = _buckets(arch, doc)
    aliases = _keys(arch, doc)
    _bucket_encryption(arch, doc, by_id, aliases)
    _bucket_protection(arch, doc, by_id)
    _bucket_logging(arch, doc, by_id)
    if of_type(doc, "aws_s3_account_public_access_block"):
        arch.account_guards.append("S3 public access block (account)")
    if of_type(doc, "aws_ebs_encryption_by_default"):
        arch.account_guards.append("EBS encryption by default")
    arch.buckets = dict(sorted(arch.buckets.items(), key=lambda kv: bucket_order(kv[0])))


def _buckets(arch: Architecture, doc: Doc) -> dict[str, str]:
    """The environment's own buckets (not their DR replicas); returns each one's purpose by resource name."""
    by_id: dict[str, str] = {}
    for name, conf in of_type(doc, "aws_s3_bucket"):
        hit = bucket_purpose(arch, str(conf.get("bucket", "")))
        if not hit:
            continue
        purpose, region = hit
        if arch.region and region != arch.region:
            continue
        arch.buckets[purpose] = Bucket(purpose, conf["bucket"])
        by_id[name] = purpose
    return by_id


def _keys(arch: Architecture, doc: Doc) -> dict[str, str]:
    """The KMS keys and their rotation; returns each key's class by resource name."""
    arch.rotated = sum(1 for _, conf in of_type(doc, "aws_kms_key") if conf.get("enable_key_rotation") is True)
    aliases = {}
    for _, conf in of_type(doc, "aws_kms_alias"):
        alias = str(conf.get("name", ""))
        key_class = alias.rsplit("/", 1)[-1].removeprefix(arch.prefix + "-")
        for key_id in refs(conf.get("target_key_id"), "aws_kms_key"):
            aliases[key_id] = key_class
        (arch.dr_keys if key_class.endswith("-dr") else arch.keys).append(key_class)
    order = {c: i for i, c in enumerate(KEY_CLASSES)}
    arch.keys.sort(key=lambda c: (order.get(c, 99), c))
    arch.dr_keys.sort(key=lambda c: (order.get(c.removesuffix("-dr"), 99), c))
    return aliases


def _bucket_of(conf: dict, by_id: dict[str, str]) -> str | None:
    """The purpose of the bucket a bucket-level resource configures (None: not one of ours)."""
    ids = refs(conf.get("bucket"), "aws_s3_bucket")
    return next((by_id[i] for i in sorted(ids) if i in by_id), None)


def _bucket_encryption(arch: Architecture, doc: Doc, by_id: dict[str, str], aliases: dict[str, str]) -> None:
    for _, conf in of_type(doc, "aws_s3_bucket_server_side_encryption_configuration"):
        purpose = _bucket_of(conf, by_id)
        if purpose is None:
            continue
        default = first(first(conf.get("rule")).get("apply_server_side_encryption_by_default"))
        if default.get("sse_algorithm") == "AES256":
            arch.buckets[purpose].encryption = "SSE-S3"
        else:
            keys = refs(default.get("kms_master_key_id"), "aws_kms_key")
            classes = sorted(aliases.get(k, "?") for k in keys)
            arch.buckets[purpose].encryption = "KMS " + (", ".join(classes) or "key")


def _bucket_protection(arch: Architecture, doc: Doc, by_id: dict[str, str]) -> None:
    """Versioning, object lock and replication to the DR region."""
    for _, conf in of_type(doc, "aws_s3_bucket_versioning"):
        purpose = _bucket_of(conf, by_id)
        if purpose and first(conf.get("versioning_configuration")).get("status") == "Enabled":
            arch.buckets[purpose].versioned = True
    for _, conf in of_type(doc, "aws_s3_bucket_object_lock_configuration"):
        purpose = _bucket_of(conf, by_id)
        retention = first(first(conf.get("rule")).get("default_retention"))
        if purpose and retention:
            span = f"{retention['days']} d" if "days" in retention else f"{retention.get('years', '?')} y"
            arch.buckets[purpose].lock = f"{retention.get('mode', '?')} {span}"
    for _, conf in of_type(doc, "aws_s3_bucket_replication_configuration"):
        purpose = _bucket_of(conf, by_id)
        if purpose:
            arch.buckets[purpose].replicated = True
            arch.dr_buckets.append(purpose)
    arch.dr_buckets.sort(key=bucket_order)


def _bucket_logging(arch: Architecture, doc: Doc, by_id: dict[str, str]) -> None:
    for _, conf in of_type(doc, "aws_s3_bucket_logging"):
        purpose = _bucket_of(conf, by_id)
        target = bucket_purpose(arch, str(conf.get("target_bucket", "")))
        if purpose and target and target[0] in arch.buckets:
            arch.buckets[purpose].logs_to = target[0]
            arch.flows.append(Flow(f"bucket:{purpose}", f"bucket:{target[0]}", "access logs"))


def _state(arch: Architecture, doc: Doc) -> None:
    replicas = 0
    for _, conf in of_type(doc, "aws_s3_bucket"):
        name = str(conf.get("bucket", ""))
        hit = bucket_purpose(arch, name)
        if hit and arch.region and hit[1] != arch.region:
            replicas += 1
            continue
        arch.state.append(hit[0] if hit else name)
    if of_type(doc, "aws_kms_key"):
        arch.state.append("KMS state key")
    if replicas:
        arch.state.append(f"{replicas} DR replica(s)")


def _boundary(arch: Architecture, mine: Mapping[str, Doc]) -> None:
    """The permission boundary every role carries, in whichever stack creates it."""
    for pillar in STACK_ORDER:
        for _, conf in of_type(mine.get(pillar, {}), "aws_iam_policy"):
            if str(conf.get("name", "")).endswith("permission-boundary"):
                arch.account_guards.append(f"permission boundary ({arch.env}-{pillar})")
                return


def _network(arch: Architecture, doc: Doc) -> None:
    vpcs = of_type(doc, "aws_vpc")
    if not vpcs:
        return
    net = Network(cidr=str(vpcs[0][1].get("cidr_block", "")))
    azs = set()
    # A subnet is public when its route table routes to an internet gateway (or it says so).
    igw_tables = {t for _, route in of_type(doc, "aws_route") if refs(route.get("gateway_id"), "aws_internet_gateway")
                  for t in refs(route.get("route_table_id"), "aws_route_table")}
    public_subnets = {s for _, assoc in of_type(doc, "aws_route_table_association")
                      if refs(assoc.get("route_table_id"), "aws_route_table") & igw_tables
                      for s in refs(assoc.get("subnet_id"), "aws_subnet")}
    for name, conf in of_type(doc, "aws_subnet"):
        tags = conf["tags"] if isinstance(conf.get("tags"), dict) else {}
        public = bool(conf.get("map_public_ip_on_launch")) or name in public_subnets or tags.get("Tier") == "public"
        net.public_subnets += public
        net.private_subnets += not public
        az = conf.get("availability_zone")
        azs.add(json.dumps(az, sort_keys=True))
    net.azs = len(azs)
    for _, conf in of_type(doc, "aws_vpc_endpoint"):
        service = _short_service(str(conf.get("service_name", "")))
        kind = str(conf.get("vpc_endpoint_type", "Gateway"))
        (net.gateway_endpoints if kind == "Gateway" else net.interface_endpoints).append(service)
    net.interface_endpoints.sort()
    net.gateway_endpoints.sort()
    net.nat_gateways = len(of_type(doc, "aws_nat_gateway"))
    net.internet_gateway = bool(of_type(doc, "aws_internet_gateway"))
    net.security_groups = len(of_type(doc, "aws_security_group"))
    for _, conf in of_type(doc, "aws_flow_log"):
        destination = conf.get("log_destination_type", "cloud-watch-logs")
        net.flow_logs = f"{conf.get('traffic_type', 'ALL')} → " + ("S3" if destination == "s3" else "CloudWatch Logs")
    arch.network = net


def _short_service(service_name: str) -> str:
    """`com.amazonaws.eu-west-1.sagemaker.runtime` → `sagemaker.runtime`."""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 and parts[0] == "com" else service_name


def _storage(arch: Architecture, doc: Doc) -> None:
    for _, conf in of_type(doc, "aws_dynamodb_table"):
        lines = ["KMS" if first(conf.get("server_side_encryption")).get("enabled") else "AWS-owned key"]
        if first(conf.get("point_in_time_recovery")).get("enabled"):
            lines.append("PITR")
        arch.storage.append(Service(f"dynamodb-{len(arch.storage)}", f"DynamoDB {conf.get('name', '')}".strip(), lines))
    for _, conf in of_type(doc, "aws_efs_file_system"):
        lines = ["encrypted" if conf.get("encrypted") else "unencrypted"]
        arch.storage.append(Service(f"efs-{len(arch.storage)}", "EFS " + str(conf.get("creation_token", "")).strip(), lines))


def _count(doc: Doc, *types: str) -> int:
    return sum(len(of_type(doc, t)) for t in types)


def _access(arch: Architecture, doc: Doc) -> None:
    if not doc:
        return
    personas = [str(c.get("name", "")).removeprefix(arch.prefix + "-") for _, c in of_type(doc, "aws_iam_role")
                if "/personas/" in (c.get(METADATA) or {}).get("metadata", {}).get("path", "/personas/")]
    if personas:
        mfa = any("aws:MultiFactorAuthPresent" in str(c.get("assume_role_policy", "")) for _, c in of_type(doc, "aws_iam_role"))
        arch.access.append(Service("personas", f"Persona roles ({len(personas)})",
                                   [", ".join(sorted(personas))] + (["MFA, permission boundary"] if mfa else ["permission boundary"])))
    for _, conf in of_type(doc, "aws_cloudtrail"):
        lines = []
        if conf.get("is_multi_region_trail"):
            lines.append("multi-region")
        if conf.get("enable_log_file_validation"):
            lines.append("log file validation")
        data = set()
        for selector in blocks(conf.get("advanced_event_selector")):
            data |= bucket_purposes(arch, selector)
        if data:
            lines.append("data events: " + ", ".join(sorted(data, key=bucket_order)))
        arch.access.append(Service("trail", "CloudTrail", [" · ".join(lines[:2])] + lines[2:]))
        for purpose in sorted(bucket_purposes(arch, conf.get("s3_bucket_name"))):
            arch.flows.append(Flow("svc:trail", f"bucket:{purpose}", "trail logs"))
        break
    logs = _count(doc, "aws_cloudwatch_log_group")
    filters = _count(doc, "aws_cloudwatch_log_metric_filter")
    alarms = _count(doc, "aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm")
    if logs or filters or alarms:
        lines = [f"{alarms} alarms, {filters} metric filters", f"{logs} log group{'s' if logs != 1 else ''}"
                 + (", dashboard" if of_type(doc, "aws_cloudwatch_dashboard") else "")]
        arch.access.append(Service("cloudwatch", "CloudWatch", lines))
        if alarms:
            arch.flows.append(Flow("svc:cloudwatch", "svc:alerts", "alarm actions"))
    if of_type(doc, "aws_guardduty_detector"):
        features = sorted({str(c.get("name", "")).replace("_", " ").lower()  # once, also when the DR region has them
                           for _, c in of_type(doc, "aws_guardduty_detector_feature") if c.get("status") == "ENABLED"})
        arch.access.append(Service("guardduty", "GuardDuty", [", ".join(features) or "detector"]))
        if of_type(doc, "aws_cloudwatch_event_target"):
            arch.flows.append(Flow("svc:guardduty", "svc:alerts", "findings"))
    for _, conf in of_type(doc, "aws_sns_topic"):
        subs = sorted({str(c.get("protocol", "")) for _, c in of_type(doc, "aws_sns_topic_subscription")})
        n = _count(doc, "aws_sns_topic_subscription")
        lines = [f"{n} subscription(s): {', '.join(subs)}" if n else "no subscription",
                 "KMS audit key" if conf.get("kms_master_key_id") else "unencrypted"]
        arch.access.append(Service("alerts", f"Alerts (SNS {conf.get('name', '')})", lines))
        break
    if of_type(doc, "aws_organizations_policy"):
        arch.access.append(Service("scps", "Service control policies", [f"{_count(doc, 'aws_organizations_policy')} SCPs"]))


def _governance(arch: Architecture, doc: Doc) -> None:
    if not doc:
        return
    _config(arch, doc)
    _security_hub(arch, doc)
    if of_type(doc, "aws_inspector2_enabler"):
        types = sorted({t for _, c in of_type(doc, "aws_inspector2_enabler") for t in as_list(c.get("resource_types"))})
        arch.governance.append(Service("inspector", "Inspector", [", ".join(t.lower() for t in types) or "enabled"]))
    _macie(arch, doc)
    if of_type(doc, "aws_accessanalyzer_analyzer"):
        kinds = sorted(str(c.get("type", "")).lower().replace("_", " ") for _, c in of_type(doc, "aws_accessanalyzer_analyzer"))
        arch.governance.append(Service("analyzer", "Access Analyzer", [", ".join(kinds)]))
    _backup(arch, doc)
    budgets = _count(doc, "aws_budgets_budget")
    anomaly = _count(doc, "aws_ce_anomaly_monitor")
    if budgets or anomaly:
        arch.governance.append(Service("cost", "Cost guardrails", [f"{budgets} budget(s), {anomaly} anomaly monitor(s)"]))
    if of_type(doc, "aws_cloudwatch_event_target"):
        arch.flows.append(Flow("svc:governance", "svc:alerts", "security events"))


def _config(arch: Architecture, doc: Doc) -> None:
    if not of_type(doc, "aws_config_configuration_recorder"):
        return
    packs = sorted(str(c.get("name", "")).removeprefix(arch.prefix + "-") for _, c in of_type(doc, "aws_config_conformance_pack"))
    lines = [f"recorder, {_count(doc, 'aws_config_config_rule')} rules"]
    if packs:
        lines.append("packs: " + ", ".join(packs))
    arch.governance.append(Service("config", "AWS Config", lines))
    for _, conf in of_type(doc, "aws_config_delivery_channel"):
        for purpose in sorted(bucket_purposes(arch, conf.get("s3_bucket_name"))):
            arch.flows.append(Flow("svc:config", f"bucket:{purpose}", "config history"))


_STANDARDS = {"aws-foundational-security-best-practices": "FSBP", "cis-aws-foundations-benchmark": "CIS",
              "nist-800-53": "NIST 800-53", "pci-dss": "PCI DSS"}


def _security_hub(arch: Architecture, doc: Doc) -> None:
    if not of_type(doc, "aws_securityhub_account"):
        return
    standards = []
    for _, conf in of_type(doc, "aws_securityhub_standards_subscription"):
        arn = str(conf.get("standards_arn", ""))
        match = re.search(r"standards/([^/]+)", arn)
        name = match.group(1) if match else arn.rsplit("/", 1)[-1]
        standards.append(_STANDARDS.get(name, name))
    arch.governance.append(Service("securityhub", "Security Hub", [", ".join(sorted(standards)) or "enabled"]))


def _macie(arch: Architecture, doc: Doc) -> None:
    if not of_type(doc, "aws_macie2_account"):
        return
    scanned: set[str] = set()
    for _, conf in of_type(doc, "aws_macie2_classification_job"):
        scanned |= bucket_purposes(arch, conf.get("s3_job_definition"))
    arch.governance.append(Service("macie", "Macie", ["scans " + ", ".join(sorted(scanned, key=bucket_order))
                                                      if scanned else "enabled"]))
    for purpose in sorted(scanned, key=bucket_order):
        arch.flows.append(Flow("svc:macie", f"bucket:{purpose}", "scans"))


def _backup(arch: Architecture, doc: Doc) -> None:
    if not of_type(doc, "aws_backup_vault"):
        return
    lines = [f"{_count(doc, 'aws_backup_vault')} vault(s), {_count(doc, 'aws_backup_vault_lock_configuration')} locked"]
    if any(c.get("provider") == "aws.dr" for _, c in of_type(doc, "aws_backup_vault")):
        lines.append("copy to DR region")
    arch.governance.append(Service("backup", "AWS Backup", lines))
    for item in arch.storage:
        arch.flows.append(Flow("svc:backup", f"storage:{item.key}", "backup"))


def _dedupe(flows: list[Flow]) -> list[Flow]:
    seen = set()
    out = []
    for flow in flows:
        key = (flow.source, flow.target, flow.label)
        if key not in seen:
            seen.add(key)
            out.append(flow)
    return out
