"""Architecture diagram of one environment, drawn from its synthesized stacks as a self-contained SVG.

Everything shown is read from the `cdk.tf.json` files, never from the environment file, so the
picture is what Terraform would build: the four pillars (data, platform, access, governance) and
the state bucket, the network, each model's serving path, and the data flows between buckets,
serving and monitoring (flows come from the resources themselves: bucket logging and replication
targets, IAM statements of each model's execution role, data-capture destinations, bucket
notifications, trail and Config delivery buckets, alarm and event targets).

`extract` builds the model (`Architecture`), `render_svg` lays it out. Same input, same bytes: no
randomness, no clock, sorted iteration, integer coordinates.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping
from xml.sax.saxutils import escape

from modules.naming import BUCKETS, KEY_CLASSES, STACK_ORDER

Doc = Mapping[str, Any]

# ---------------------------------------------------------------- reading the synthesized stacks


def load_stacks(out_dir: Path) -> dict[str, dict]:
    """Stack name → parsed cdk.tf.json of a synth output folder (via its manifest)."""
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    stacks = {}
    for name, entry in sorted((manifest.get("stacks") or {}).items()):
        stacks[name] = json.loads((out_dir / entry["synthesizedStackPath"]).read_text(encoding="utf-8"))
    return stacks


def split(stack: str) -> tuple[str, str] | None:
    for pillar in STACK_ORDER:
        if stack.endswith("-" + pillar) and len(stack) > len(pillar) + 1:
            return stack[: -len(pillar) - 1], pillar
    return None


def environments(stacks: Mapping[str, Doc]) -> list[str]:
    return sorted({s[0] for s in map(split, stacks) if s})


def resources(doc: Doc, block: str = "resource") -> Iterator[tuple[str, str, dict]]:
    """(type, logical id, config) in a stable order."""
    for rtype, items in sorted((doc.get(block) or {}).items()):
        if not isinstance(items, dict):
            continue
        for name, conf in sorted(items.items()):
            if name != "//" and isinstance(conf, dict):
                yield rtype, name, conf


def of_type(doc: Doc, rtype: str) -> list[tuple[str, dict]]:
    items = (doc.get("resource") or {}).get(rtype) or {}
    return [(n, c) for n, c in sorted(items.items()) if n != "//" and isinstance(c, dict)]


def blocks(value: Any) -> list[dict]:
    """A nested block as CDKTF writes it: an object, or a list of objects."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def first(value: Any) -> dict:
    found = blocks(value)
    return found[0] if found else {}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != "//":
                yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def refs(value: Any, rtype: str) -> set[str]:
    """Logical ids of `rtype` resources this value interpolates (`${rtype.<id>.attr}`)."""
    pattern = re.compile(r"\$\{" + re.escape(rtype) + r"\.([A-Za-z0-9_-]+)\.")
    return {m for s in strings(value) for m in pattern.findall(s)}


def _policy(text: Any) -> list[dict]:
    try:
        doc = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in ([statements] if isinstance(statements, dict) else statements) if isinstance(s, dict)]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def _short_service(service_name: str) -> str:
    """`com.amazonaws.eu-west-1.sagemaker.runtime` → `sagemaker.runtime`."""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 and parts[0] == "com" else service_name


# ---------------------------------------------------------------- the model of the picture


@dataclass
class Bucket:
    purpose: str
    name: str
    encryption: str = "?"  # "KMS <class>" | "SSE-S3"
    lock: str = ""  # "COMPLIANCE 365 d" …
    versioned: bool = False
    logs_to: str = ""  # purpose of the access-log target
    replicated: bool = False


@dataclass
class Stage:
    title: str
    detail: str = ""


@dataclass
class Model:
    name: str
    kind: str  # sagemaker | sagemaker-serverless | lambda | ec2
    stages: list[Stage] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)  # bucket purposes
    writes: set[str] = field(default_factory=set)
    triggers: set[str] = field(default_factory=set)  # buckets whose events invoke it
    alarms: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Network:
    cidr: str = ""
    azs: int = 0
    private_subnets: int = 0
    public_subnets: int = 0
    interface_endpoints: list[str] = field(default_factory=list)
    gateway_endpoints: list[str] = field(default_factory=list)
    nat_gateways: int = 0
    internet_gateway: bool = False
    flow_logs: str = ""
    security_groups: int = 0


@dataclass
class Service:
    key: str
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Flow:
    source: str  # node id: bucket:<purpose> | model:<name> | svc:<key> | dr | storage:<key>
    target: str
    label: str


@dataclass
class Architecture:
    env: str
    project: str = ""
    region: str = ""
    dr_region: str = ""
    account: str = ""
    keys: list[str] = field(default_factory=list)
    dr_keys: list[str] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)
    dr_buckets: list[str] = field(default_factory=list)  # purposes replicated to the DR region
    account_guards: list[str] = field(default_factory=list)
    state: list[str] = field(default_factory=list)
    network: Network | None = None
    models: list[Model] = field(default_factory=list)
    storage: list[Service] = field(default_factory=list)
    access: list[Service] = field(default_factory=list)
    governance: list[Service] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # pillar → resources
    rotated: int = 0  # data-stack KMS keys with rotation enabled

    @property
    def prefix(self) -> str:
        return f"{self.project}-{self.env}" if self.project else self.env


# ---------------------------------------------------------------- extraction

_BUCKET_NAME = re.compile(r"^(?P<prefix>.+?)-(?P<purpose>[a-z0-9-]+?)-(?P<account>\d{12})-(?P<region>[a-z]{2}(-[a-z]+)+-\d)$")


def extract(env: str, stacks: Mapping[str, Doc]) -> Architecture:
    """The architecture of `env` from its synthesized stacks (`<env>-<pillar>` → cdk.tf.json)."""
    mine = {split(name)[1]: doc for name, doc in stacks.items() if split(name) and split(name)[0] == env}
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
    _models(arch, platform, mine.get("access", {}))
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


def _purpose(arch: Architecture, bucket_name: str) -> tuple[str, str] | None:
    """(purpose, region) of a bucket named by the convention `<prefix>-<purpose>-<account>-<region>`."""
    match = _BUCKET_NAME.match(bucket_name)
    if not match:
        return None
    purpose = match["purpose"]
    if arch.prefix and bucket_name.startswith(arch.prefix + "-"):
        # The regex cannot tell where a hyphenated prefix ends; the environment's prefix can.
        purpose = bucket_name[len(arch.prefix) + 1:match.start("account") - 1]
    return purpose, match["region"]


def _bucket_purposes(arch: Architecture, value: Any) -> set[str]:
    """Purposes of the environment's primary-region buckets that a value names (by name or ARN)."""
    found = set()
    for text in strings(value):
        for name in re.findall(r"(?:arn:aws:s3:::|s3://|^)([a-z0-9][a-z0-9.-]{2,62})", text):
            hit = _purpose(arch, name)
            if hit and hit[0] in arch.buckets and hit[1] == arch.region:
                found.add(hit[0])
    return found


def _data(arch: Architecture, doc: Doc) -> None:
    by_id: dict[str, str] = {}
    dr_ids: dict[str, str] = {}
    for name, conf in of_type(doc, "aws_s3_bucket"):
        hit = _purpose(arch, str(conf.get("bucket", "")))
        if not hit:
            continue
        purpose, region = hit
        if arch.region and region != arch.region:
            dr_ids[name] = purpose
            continue
        arch.buckets[purpose] = Bucket(purpose, conf["bucket"])
        by_id[name] = purpose
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

    def bucket_of(conf: dict) -> str | None:
        ids = refs(conf.get("bucket"), "aws_s3_bucket")
        return next((by_id[i] for i in sorted(ids) if i in by_id), None)

    for _, conf in of_type(doc, "aws_s3_bucket_server_side_encryption_configuration"):
        purpose = bucket_of(conf)
        if purpose is None:
            continue
        default = first(first(conf.get("rule")).get("apply_server_side_encryption_by_default"))
        if default.get("sse_algorithm") == "AES256":
            arch.buckets[purpose].encryption = "SSE-S3"
        else:
            keys = refs(default.get("kms_master_key_id"), "aws_kms_key")
            classes = sorted(aliases.get(k, "?") for k in keys)
            arch.buckets[purpose].encryption = "KMS " + (", ".join(classes) or "key")
    for _, conf in of_type(doc, "aws_s3_bucket_versioning"):
        purpose = bucket_of(conf)
        if purpose and first(conf.get("versioning_configuration")).get("status") == "Enabled":
            arch.buckets[purpose].versioned = True
    for _, conf in of_type(doc, "aws_s3_bucket_object_lock_configuration"):
        purpose = bucket_of(conf)
        retention = first(first(conf.get("rule")).get("default_retention"))
        if purpose and retention:
            span = f"{retention['days']} d" if "days" in retention else f"{retention.get('years', '?')} y"
            arch.buckets[purpose].lock = f"{retention.get('mode', '?')} {span}"
    for _, conf in of_type(doc, "aws_s3_bucket_logging"):
        purpose = bucket_of(conf)
        target = _purpose(arch, str(conf.get("target_bucket", "")))
        if purpose and target and target[0] in arch.buckets:
            arch.buckets[purpose].logs_to = target[0]
            arch.flows.append(Flow(f"bucket:{purpose}", f"bucket:{target[0]}", "access logs"))
    for _, conf in of_type(doc, "aws_s3_bucket_replication_configuration"):
        purpose = bucket_of(conf)
        if purpose:
            arch.buckets[purpose].replicated = True
            arch.dr_buckets.append(purpose)
    arch.dr_buckets.sort(key=_bucket_order)
    if of_type(doc, "aws_s3_account_public_access_block"):
        arch.account_guards.append("S3 public access block (account)")
    if of_type(doc, "aws_ebs_encryption_by_default"):
        arch.account_guards.append("EBS encryption by default")
    arch.buckets = dict(sorted(arch.buckets.items(), key=lambda kv: _bucket_order(kv[0])))


def _bucket_order(purpose: str) -> tuple[int, str]:
    order = list(BUCKETS)
    # access logs last: every other bucket sends its logs there
    order.remove("access-logs")
    order.append("access-logs")
    return (order.index(purpose) if purpose in order else len(order) - 1, purpose)


def _state(arch: Architecture, doc: Doc) -> None:
    replicas = 0
    for _, conf in of_type(doc, "aws_s3_bucket"):
        name = str(conf.get("bucket", ""))
        hit = _purpose(arch, name)
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
        tags = conf.get("tags") if isinstance(conf.get("tags"), dict) else {}
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


def _model_names(arch: Architecture, doc: Doc) -> dict[str, str]:
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
        tags = conf.get("tags") if isinstance(conf.get("tags"), dict) else {}
        model = tags.get("Model") if tags.get("Model") in names else None
        model = model or namer.owner({k: v for k, v in conf.items() if k not in ("tags", "tags_all", "//")})
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
        buckets = _bucket_purposes(arch, conf.get("bucket"))
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


def _models(arch: Architecture, doc: Doc, access: Doc) -> None:
    names = _model_names(arch, doc)
    if not names:
        return
    lead = arch.prefix + "-"
    owned = _ownership(doc, list(names), lead)
    triggers = _notifications(arch, doc, list(names), lead)
    alarms: dict[str, int] = {m: 0 for m in names}
    by_alarm_name, by_dimensions = _ModelNamer(list(names), lead + "model-"), _ModelNamer(list(names), lead)
    for rtype, _, conf in resources(access):
        if rtype in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
            model = by_alarm_name.owner(conf.get("alarm_name")) or by_dimensions.owner(conf.get("dimensions"))
            if model:
                alarms[model] += 1
    for name, kind in names.items():
        model = Model(name=name, kind=kind, alarms=alarms[name])
        items = owned[name]
        by_type: dict[str, list[dict]] = {}
        for rtype, _, conf in items:
            by_type.setdefault(rtype, []).append(conf)
        _model_flows(arch, model, items)
        if name in triggers:
            model.triggers |= triggers[name][0]
            model.reads -= model.triggers
        prefix = triggers.get(name, (set(), ""))[1]
        {"sagemaker": _sagemaker, "sagemaker-serverless": _sagemaker, "lambda": _function, "ec2": _fleet}[kind](
            arch, model, by_type, prefix)
        arch.models.append(model)
        node = f"model:{name}"
        for purpose in sorted(model.triggers, key=_bucket_order):
            arch.flows.append(Flow(f"bucket:{purpose}", node, "S3 event"))
        for purpose in sorted(model.reads, key=_bucket_order):
            arch.flows.append(Flow(f"bucket:{purpose}", node, "reads"))
        for purpose in sorted(model.writes, key=_bucket_order):
            arch.flows.append(Flow(node, f"bucket:{purpose}", "writes"))
        if model.alarms:
            arch.flows.append(Flow(node, "svc:cloudwatch", "metrics"))


_READ = re.compile(r"^s3:(Get|List)", re.I)
_WRITE = re.compile(r"^s3:(Put|Delete|AbortMultipartUpload|RestoreObject)", re.I)


def _model_flows(arch: Architecture, model: Model, items: list[tuple[str, str, dict]]) -> None:
    for rtype, _, conf in items:
        if rtype in ("aws_iam_role_policy", "aws_iam_policy"):
            for st in _policy(conf.get("policy")):
                if st.get("Effect") != "Allow":
                    continue
                actions = [str(a) for a in _as_list(st.get("Action"))]
                buckets = _bucket_purposes(arch, st.get("Resource"))
                if any(_READ.match(a) or a in ("s3:*", "s3:Get*") for a in actions):
                    model.reads |= buckets
                if any(_WRITE.match(a) or a == "s3:*" for a in actions):
                    model.writes |= buckets
        elif rtype == "aws_sagemaker_model":
            container = first(conf.get("primary_container"))
            model.reads |= _bucket_purposes(arch, [container.get("model_data_url"), container.get("model_data_source")])
        elif rtype == "aws_sagemaker_endpoint_configuration":
            capture = first(conf.get("data_capture_config"))
            model.writes |= _bucket_purposes(arch, capture.get("destination_s3_uri"))
            output = first(first(conf.get("async_inference_config")).get("output_config"))
            model.writes |= _bucket_purposes(arch, output.get("s3_output_path"))


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
    if first(config.get("data_capture_config")):
        pct = first(config.get("data_capture_config")).get("initial_sampling_percentage")
        model.notes.append(f"data capture {pct}%" if pct is not None else "data capture")


def _function(arch: Architecture, model: Model, by_type: dict[str, list[dict]], prefix: str) -> None:
    fn = first(by_type.get("aws_lambda_function"))
    if model.triggers:
        model.stages.append(Stage("S3 event", f"{sorted(model.triggers)[0]}/{prefix}" if prefix else sorted(model.triggers)[0]))
    if by_type.get("aws_lambda_function_url"):
        model.stages.append(Stage("Function URL", "AWS_IAM auth"))
    alias = first(by_type.get("aws_lambda_alias")).get("name", "")
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
    types = [o.get("instance_type") for o in blocks(first(mixed.get("launch_template")).get("override"))]
    types = [t for t in types if t]
    detail = f"{asg.get('min_size', '?')}–{asg.get('max_size', '?')} instances"
    model.stages.append(Stage("GPU fleet (ASG)", detail))
    if types:
        model.notes.append("types " + ", ".join(types[:3]) + ("…" if len(types) > 3 else ""))
    dist = first(mixed.get("instances_distribution"))
    if dist:
        model.notes.append(f"on-demand base {dist.get('on_demand_base_capacity', 0)}")


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
                if "/personas/" in (c.get("//") or {}).get("metadata", {}).get("path", "/personas/")]
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
            data |= _bucket_purposes(arch, selector)
        if data:
            lines.append("data events: " + ", ".join(sorted(data, key=_bucket_order)))
        arch.access.append(Service("trail", "CloudTrail", [" · ".join(lines[:2])] + lines[2:]))
        for purpose in sorted(_bucket_purposes(arch, conf.get("s3_bucket_name"))):
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
    if of_type(doc, "aws_config_configuration_recorder"):
        packs = sorted(str(c.get("name", "")).removeprefix(arch.prefix + "-") for _, c in of_type(doc, "aws_config_conformance_pack"))
        lines = [f"recorder, {_count(doc, 'aws_config_config_rule')} rules"]
        if packs:
            lines.append("packs: " + ", ".join(packs))
        arch.governance.append(Service("config", "AWS Config", lines))
        for _, conf in of_type(doc, "aws_config_delivery_channel"):
            for purpose in sorted(_bucket_purposes(arch, conf.get("s3_bucket_name"))):
                arch.flows.append(Flow("svc:config", f"bucket:{purpose}", "config history"))
    if of_type(doc, "aws_securityhub_account"):
        standards = []
        for _, conf in of_type(doc, "aws_securityhub_standards_subscription"):
            arn = str(conf.get("standards_arn", ""))
            match = re.search(r"standards/([^/]+)", arn)
            name = match.group(1) if match else arn.rsplit("/", 1)[-1]
            standards.append({"aws-foundational-security-best-practices": "FSBP",
                              "cis-aws-foundations-benchmark": "CIS", "nist-800-53": "NIST 800-53",
                              "pci-dss": "PCI DSS"}.get(name, name))
        arch.governance.append(Service("securityhub", "Security Hub", [", ".join(sorted(standards)) or "enabled"]))
    if of_type(doc, "aws_inspector2_enabler"):
        types = sorted({t for _, c in of_type(doc, "aws_inspector2_enabler") for t in _as_list(c.get("resource_types"))})
        arch.governance.append(Service("inspector", "Inspector", [", ".join(t.lower() for t in types) or "enabled"]))
    if of_type(doc, "aws_macie2_account"):
        scanned = set()
        for _, conf in of_type(doc, "aws_macie2_classification_job"):
            scanned |= _bucket_purposes(arch, conf.get("s3_job_definition"))
        arch.governance.append(Service("macie", "Macie", ["scans " + ", ".join(sorted(scanned, key=_bucket_order))
                                                          if scanned else "enabled"]))
        for purpose in sorted(scanned, key=_bucket_order):
            arch.flows.append(Flow("svc:macie", f"bucket:{purpose}", "scans"))
    if of_type(doc, "aws_accessanalyzer_analyzer"):
        kinds = sorted(str(c.get("type", "")).lower().replace("_", " ") for _, c in of_type(doc, "aws_accessanalyzer_analyzer"))
        arch.governance.append(Service("analyzer", "Access Analyzer", [", ".join(kinds)]))
    if of_type(doc, "aws_backup_vault"):
        lines = [f"{_count(doc, 'aws_backup_vault')} vault(s), {_count(doc, 'aws_backup_vault_lock_configuration')} locked"]
        if any(c.get("provider") == "aws.dr" for _, c in of_type(doc, "aws_backup_vault")):
            lines.append("copy to DR region")
        arch.governance.append(Service("backup", "AWS Backup", lines))
        for item in arch.storage:
            arch.flows.append(Flow("svc:backup", f"storage:{item.key}", "backup"))
    budgets = _count(doc, "aws_budgets_budget")
    anomaly = _count(doc, "aws_ce_anomaly_monitor")
    if budgets or anomaly:
        arch.governance.append(Service("cost", "Cost guardrails", [f"{budgets} budget(s), {anomaly} anomaly monitor(s)"]))
    if of_type(doc, "aws_cloudwatch_event_target"):
        arch.flows.append(Flow("svc:governance", "svc:alerts", "security events"))


def _dedupe(flows: list[Flow]) -> list[Flow]:
    seen = set()
    out = []
    for flow in flows:
        key = (flow.source, flow.target, flow.label)
        if key not in seen:
            seen.add(key)
            out.append(flow)
    return out


# ---------------------------------------------------------------- drawing

WIDTH = 1320
PAD = 16
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK = "#1f2933"
MUTED = "#52606d"
COLOURS = {  # pillar → (stroke, band fill)
    "data": ("#1d4ed8", "#eff6ff"),
    "platform": ("#047857", "#ecfdf5"),
    "access": ("#6d28d9", "#f5f3ff"),
    "governance": ("#b45309", "#fffbeb"),
    "bootstrap": ("#475569", "#f1f5f9"),
}
PILLAR_TITLES = {
    "data": "Secure data handling",
    "platform": "Scalable infrastructure",
    "access": "Access control & monitoring",
    "governance": "Continuous security enhancement",
}
FLOW_COLOURS = {"reads": "#0369a1", "writes": "#b91c1c", "S3 event": "#7c3aed", "metrics": "#047857",
                "logs": "#64748b", "audit": "#6d28d9", "alerts": "#b45309"}
CHAR = 6.1  # average glyph width at 11 px, for fitting text into boxes
# Column layout: data (left) → platform (centre) → access and monitoring (right); governance below.
DATA_W, CHANNEL, PLAT_W, GAP = 236, 64, 684, 28
ACCESS_W = WIDTH - 2 * PAD - DATA_W - CHANNEL - PLAT_W - GAP


def _fit(text: str, width: float, size: float = 11) -> str:
    limit = max(3, int(width / (CHAR * size / 11)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> int:
        return self.x + self.w // 2

    @property
    def cy(self) -> int:
        return self.y + self.h // 2

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def right(self) -> int:
        return self.x + self.w


class _Canvas:
    """SVG elements in three layers: bands, then boxes and arrows, then labels on top."""

    def __init__(self, uid: str):
        self.uid = uid
        self.bands: list[str] = []
        self.parts: list[str] = []
        self.labels: list[str] = []
        self.colours: set[str] = set()

    def band(self, box: Box, pillar: str, title: str, subtitle: str) -> None:
        stroke, fill = COLOURS[pillar]
        self.bands.append(f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="10" fill="{fill}" '
                          f'stroke="{stroke}" stroke-width="1"/>')
        self.bands.append(self._text(box.x + 10, box.y + 18, _fit(title, box.w - 20, 12), 12, "700", stroke, "start"))
        self.bands.append(self._text(box.x + 10, box.y + 32, _fit(subtitle, box.w - 20, 10), 10, "normal", stroke,
                                     "start"))

    def wrapped(self, x: int, y: int, text: str, width: int, *, size: float = 10, colour: str = MUTED) -> int:
        """Text wrapped to `width`; returns the y below it."""
        limit = max(10, int(width / (CHAR * size / 11)))
        line = ""
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > limit:
                self.text(x, y, line, size=size, colour=colour, width=width)
                y += int(size * 1.35)
                line = word
            else:
                line = f"{line} {word}".strip()
        if line:
            self.text(x, y, line, size=size, colour=colour, width=width)
            y += int(size * 1.35)
        return y

    def rect(self, box: Box, *, stroke: str, fill: str = "#ffffff", dash: bool = False, width: float = 1.2,
             title: str = "", radius: int = 6) -> None:
        dashed = ' stroke-dasharray="5 3"' if dash else ""
        tip = f"<title>{escape(title)}</title>" if title else ""
        self.parts.append(f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="{radius}" '
                          f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"{dashed}>{tip}</rect>')

    @staticmethod
    def _text(x: float, y: float, text: str, size: float, weight: str, colour: str, anchor: str) -> str:
        return (f'<text x="{int(x)}" y="{int(y)}" font-size="{size}" font-weight="{weight}" fill="{colour}" '
                f'text-anchor="{anchor}">{escape(text)}</text>')

    def text(self, x: float, y: float, text: str, *, size: float = 11, weight: str = "normal", colour: str = INK,
             anchor: str = "start", width: float | None = None, top: bool = False) -> None:
        shown = _fit(text, width, size) if width else text
        (self.labels if top else self.parts).append(self._text(x, y, shown, size, weight, colour, anchor))

    def box(self, box: Box, title: str, lines: list[str], pillar: str, *, dash: bool = False, strong: bool = False) -> None:
        stroke = COLOURS[pillar][0]
        self.rect(box, stroke=stroke, dash=dash, width=2 if strong else 1.2, title=" · ".join([title, *lines]))
        self.text(box.x + 8, box.y + 16, title, weight="600", width=box.w - 14)
        for i, line in enumerate(lines):
            if box.y + 31 + 13 * i > box.bottom - 3:
                break
            self.text(box.x + 8, box.y + 30 + 13 * i, line, size=10, colour=MUTED, width=box.w - 14)

    def path(self, d: str, colour: str, *, dash: bool = False, arrow: bool = True) -> None:
        self.colours.add(colour)
        dashed = ' stroke-dasharray="4 3"' if dash else ""
        marker = f' marker-end="url(#{self.uid}-{colour.lstrip("#")})"' if arrow else ""
        self.parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.4" stroke-opacity="0.9"'
                          f'{dashed}{marker}/>')

    def label(self, x: int, y: int, text: str, colour: str) -> None:
        w = int(len(text) * CHAR * 0.88) + 8
        self.labels.append(f'<rect x="{x - w // 2}" y="{y - 9}" width="{w}" height="13" rx="3" fill="#ffffff" '
                           f'fill-opacity="0.92"/>')
        self.text(x, y + 1, text, size=9.5, colour=colour, anchor="middle", top=True)

    def curve(self, start: tuple[int, int], end: tuple[int, int], colour: str, label: str = "", *,
              horizontal: bool = True, dash: bool = False, label_at: float = 0.5) -> None:
        (x1, y1), (x2, y2) = start, end
        if horizontal:
            mx = (x1 + x2) // 2
            d = f"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}"
        else:
            my = (y1 + y2) // 2
            d = f"M{x1},{y1} C{x1},{my} {x2},{my} {x2},{y2}"
        self.path(d, colour, dash=dash)
        if label:
            self.label(int(x1 + (x2 - x1) * label_at), int(y1 + (y2 - y1) * label_at), label, colour)

    def line(self, points: list[tuple[int, int]], colour: str, label: str = "", *, dash: bool = False,
             arrow: bool = True, label_pos: tuple[int, int] | None = None) -> None:
        self.path("M" + " L".join(f"{x},{y}" for x, y in points), colour, dash=dash, arrow=arrow)
        if label:
            self.label(*(label_pos or points[len(points) // 2]), label, colour)

    def defs(self) -> str:
        return "".join(
            f'<marker id="{self.uid}-{col.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{col}"/></marker>'
            for col in sorted(self.colours))


def render_svg(arch: Architecture, *, standalone: bool = True) -> str:
    """The diagram as SVG text. `standalone` adds the XML declaration (a file); inline use leaves it out."""
    uid = "aegis-" + re.sub(r"[^A-Za-z0-9_-]", "-", arch.env)
    c = _Canvas(uid)
    nodes: dict[str, Box] = {}

    header = f"{arch.env} · {arch.region or '?'}" + (f" (DR {arch.dr_region})" if arch.dr_region else "")
    if arch.account:
        header += f" · account {arch.account}"
    c.text(PAD, PAD + 14, f"Aegis architecture — {header}", size=15, weight="700")
    c.text(WIDTH - PAD, PAD + 14, f"{sum(arch.counts.values())} resources in {len(arch.counts)} stacks, "
           "drawn from the synthesized Terraform", size=10, colour=MUTED, anchor="end")
    top = PAD + 48  # room above the bands for the routes that cross them

    data_x = PAD
    plat_x = data_x + DATA_W + CHANNEL
    access_x = plat_x + PLAT_W + GAP
    bottom = max(_data_column(c, arch, nodes, data_x, top), _platform(c, arch, nodes, plat_x, top),
                 _access_column(c, arch, nodes, access_x, top))
    for pillar, bx, bw in (("data", data_x, DATA_W), ("platform", plat_x, PLAT_W), ("access", access_x, ACCESS_W)):
        c.band(Box(bx, top, bw, bottom - top), pillar, PILLAR_TITLES[pillar],
               f"stack {arch.env}-{pillar} · {arch.counts.get(pillar, 0)} resources")
    gov_top = bottom + 34
    gov_bottom = _governance_band(c, arch, nodes, gov_top)
    c.band(Box(PAD, gov_top, WIDTH - 2 * PAD, gov_bottom - gov_top), "governance", PILLAR_TITLES["governance"],
           f"stack {arch.env}-governance · {arch.counts.get('governance', 0)} resources")
    _flows(c, arch, nodes, top=top, gov_top=gov_top, channel_x=data_x + DATA_W)

    legend_y = gov_bottom + 20
    legend = [("reads", "reads"), ("writes", "writes"), ("S3 event", "S3 event trigger"),
              ("metrics", "metrics → alarms"), ("alerts", "alerts"), ("audit", "audit logs"),
              ("logs", "access logs")]
    x = PAD
    for key, text in legend:
        colour = FLOW_COLOURS[key]
        c.parts.append(f'<path d="M{x},{legend_y - 4} L{x + 22},{legend_y - 4}" stroke="{colour}" stroke-width="2"/>')
        c.text(x + 27, legend_y, text, size=10, colour=MUTED)
        x += 40 + int(len(text) * CHAR)
    c.text(WIDTH - PAD, legend_y, "dashed: deliveries and scans by governance services", size=10, colour=MUTED,
           anchor="end")
    height = legend_y + 12

    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    return (f'{head}<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
            f'height="{height}" role="img" aria-labelledby="{uid}-title" font-family="{escape(FONT)}" '
            f'class="aegis-diagram" data-env="{escape(arch.env)}">'
            f'<title id="{uid}-title">{escape("Aegis architecture of " + arch.env)}</title><defs>{c.defs()}</defs>'
            f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
            + "".join(c.bands) + "".join(c.parts) + "".join(c.labels) + "</svg>\n")


def _data_column(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 50
    inner = DATA_W - 20
    rotation = " (rotation on)" if arch.keys and arch.rotated >= len(arch.keys) + len(arch.dr_keys) else ""
    y = c.wrapped(x + 10, y, f"KMS keys{rotation}: " + (", ".join(arch.keys) or "none"), inner)
    if arch.account_guards:
        y = c.wrapped(x + 10, y, "Account: " + ", ".join(arch.account_guards), inner)
    y += 4
    bx = x + 22  # room on the left for the access-log bus
    bw = DATA_W - 32
    for b in arch.buckets.values():
        lines = [b.encryption + (" · versioned" if b.versioned else ""),
                 f"object lock {b.lock}" if b.lock else ("log target" if any(o.logs_to == b.purpose
                                                                            for o in arch.buckets.values()) else "")]
        box = Box(bx, y, bw, 50)
        c.box(box, b.purpose + ("  ⇄ DR" if b.replicated else ""), [line for line in lines if line], "data")
        nodes[f"bucket:{b.purpose}"] = box
        y += 60
    if not arch.buckets:
        c.text(x + 10, y + 12, "no data stack in this output", size=10, colour=MUTED)
        y += 24
    loggers = [b for b in arch.buckets.values() if b.logs_to and f"bucket:{b.logs_to}" in nodes]
    if loggers:
        target = nodes[f"bucket:{loggers[0].logs_to}"]
        bus = x + 10
        colour = FLOW_COLOURS["logs"]
        ys = [nodes[f"bucket:{b.purpose}"].cy for b in loggers]
        for by in ys:
            c.line([(bx, by), (bus, by)], colour, arrow=False)
        c.line([(bus, min(ys)), (bus, target.cy), (bx - 1, target.cy)], colour)
    if arch.dr_buckets:
        box = Box(bx, y + 4, bw, 50)
        c.box(box, f"DR region {arch.dr_region}".strip(), [f"{len(arch.dr_buckets)} replicas, {len(arch.dr_keys)} keys",
                                                           "CRR with replication time control"], "data", dash=True)
        nodes["dr"] = box
        y += 62
    if arch.state:
        box = Box(bx, y + 4, bw, 50)
        c.box(box, f"Terraform state ({arch.env}-bootstrap)", [", ".join(arch.state)], "bootstrap")
        y += 62
    return y + 6


def _platform(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 42
    stroke = COLOURS["platform"][0]
    inner_x, inner_w = x + 10, PLAT_W - 20
    net = arch.network
    vpc_top = y
    if net:
        edge = "no internet gateway" if not net.internet_gateway else f"internet gateway, {net.nat_gateways} NAT"
        c.text(inner_x + 10, y + 16, f"VPC {net.cidr} · {net.azs} AZs · {net.private_subnets} private"
               + (f" / {net.public_subnets} public" if net.public_subnets else "") + f" subnets · {edge}",
               weight="600", width=inner_w - 20)
        endpoints = net.interface_endpoints + [f"{g} (gateway)" for g in net.gateway_endpoints]
        c.text(inner_x + 10, y + 31, f"{len(endpoints)} endpoints: " + ", ".join(endpoints), size=10, colour=MUTED,
               width=inner_w - 20)
        c.text(inner_x + 10, y + 45, f"flow logs {net.flow_logs or 'off'} · {net.security_groups} security groups",
               size=10, colour=MUTED, width=inner_w - 20)
        y += 58
    else:
        c.text(inner_x, y + 12, "No VPC in this environment's platform stack.", size=10, colour=MUTED)
        y += 24
    lane_x = inner_x + 10
    label_w = 128
    for model in arch.models:
        stages = model.stages or [Stage(model.kind)]
        label = Box(lane_x, y, label_w, 46)
        lines = [model.kind] + ([f"{model.alarms} alarms"] if model.alarms else [])
        c.box(label, model.name, lines, "platform", strong=True)
        nodes[f"model:{model.name}"] = label
        sx = label.right + 20
        avail = inner_x + inner_w - 10 - sx
        sgap = 16
        sw = int((avail - sgap * (len(stages) - 1)) / len(stages)) if len(stages) > 1 else min(avail, 200)
        sw = min(sw, 200)
        boxes = []
        c.line([(label.right + 1, label.cy), (sx - 2, label.cy)], stroke)
        for i, stage in enumerate(stages):
            box = Box(sx + i * (sw + sgap), y + 3, sw, 40)
            c.box(box, stage.title, [stage.detail] if stage.detail else [], "platform")
            if i:
                prev = boxes[-1]
                c.line([(prev.right + 1, prev.cy), (box.x - 2, box.cy)], stroke)
            boxes.append(box)
        nodes[f"model-last:{model.name}"] = boxes[-1]
        if model.notes:
            c.text(sx, y + 58, " · ".join(model.notes), size=9.5, colour=MUTED, width=avail)
        y += 68
    if not arch.models:
        c.text(lane_x, y + 12, "No model is served in this environment.", size=10, colour=MUTED)
        y += 24
    if net:
        c.parts.insert(0, f'<rect x="{inner_x}" y="{vpc_top}" width="{inner_w}" height="{y - vpc_top + 4}" rx="8" '
                          f'fill="#ffffff" fill-opacity="0.55" stroke="{stroke}" stroke-width="1" '
                          f'stroke-dasharray="6 3"/>')
        y += 14
    if arch.storage:
        sw = min(220, int((inner_w - 12 * (len(arch.storage) - 1)) / len(arch.storage)))
        for i, item in enumerate(arch.storage):
            box = Box(inner_x + i * (sw + 12), y, sw, 44)
            c.box(box, item.title, item.lines, "platform")
            nodes[f"storage:{item.key}"] = box
        y += 54
    return y + 6


def _access_column(c: _Canvas, arch: Architecture, nodes: dict[str, Box], x: int, top: int) -> int:
    y = top + 42
    for svc in arch.access:
        h = 22 + 13 * max(1, len(svc.lines))
        box = Box(x + 10, y, ACCESS_W - 20, h)
        c.box(box, svc.title, svc.lines, "access")
        nodes[f"svc:{svc.key}"] = box
        y += h + 12
    if not arch.access:
        c.text(x + 10, y + 12, "no access stack in this output", size=10, colour=MUTED)
        y += 24
    return y + 6


GOVERNANCE_ORDER = ("config", "backup", "securityhub", "macie", "inspector", "analyzer", "cost")


def _governance_band(c: _Canvas, arch: Architecture, nodes: dict[str, Box], top: int) -> int:
    y = top + 42
    rank = {k: i for i, k in enumerate(GOVERNANCE_ORDER)}
    services = sorted(arch.governance, key=lambda s: (rank.get(s.key, len(rank)), s.key))
    if not services:
        c.text(PAD + 10, y + 12, "no governance stack in this output", size=10, colour=MUTED)
        return y + 30
    per_row = min(len(services), 4)
    gw = int((WIDTH - 2 * PAD - 20 - 12 * (per_row - 1)) / per_row)
    for start in range(0, len(services), per_row):
        row = services[start:start + per_row]
        h = 22 + 13 * max(len(s.lines) for s in row)
        for i, svc in enumerate(row):
            box = Box(PAD + 10 + i * (gw + 12), y, gw, h)
            c.box(box, svc.title, svc.lines, "governance")
            nodes[f"svc:{svc.key}"] = box
        y += h + 10
    return y + 2


def _spread(n: int, i: int, length: int, margin: int = 8) -> int:
    """Offset of the i-th of n attachment points along a side of `length`."""
    if n <= 1:
        return length // 2
    return margin + (length - 2 * margin) * i // (n - 1)


def _flows(c: _Canvas, arch: Architecture, nodes: dict[str, Box], *, top: int, gov_top: int, channel_x: int) -> None:
    # bucket ↔ model: S-curves through the channel between the data column and the platform band
    pairs = [f for f in arch.flows if (f.source.startswith("bucket:") and f.target.startswith("model:"))
             or (f.source.startswith("model:") and f.target.startswith("bucket:"))]
    at_bucket: dict[str, list] = {}
    at_model: dict[str, list] = {}
    for f in pairs:
        bucket, model = (f.source, f.target) if f.source.startswith("bucket:") else (f.target, f.source)
        if bucket in nodes and model in nodes:
            at_bucket.setdefault(bucket, []).append(f)
            at_model.setdefault(model, []).append(f)
    for f in pairs:
        bucket, model = (f.source, f.target) if f.source.startswith("bucket:") else (f.target, f.source)
        if bucket not in at_bucket or f not in at_bucket[bucket]:
            continue
        b, m = nodes[bucket], nodes[model]
        by = b.y + _spread(len(at_bucket[bucket]), at_bucket[bucket].index(f), b.h)
        my = m.y + _spread(len(at_model[model]), at_model[model].index(f), m.h)
        colour = FLOW_COLOURS.get(f.label, FLOW_COLOURS["reads"])
        if f.source == bucket:
            c.curve((b.right + 1, by), (m.x - 2, my), colour)
        else:
            c.curve((m.x - 1, my), (b.right + 2, by), colour)
    # model → CloudWatch (metrics), into the access column
    cw = nodes.get("svc:cloudwatch")
    metric_flows = [f for f in arch.flows if f.target == "svc:cloudwatch" and f"model-last:{f.source[6:]}" in nodes]
    for i, f in enumerate(metric_flows):
        last = nodes[f"model-last:{f.source[6:]}"]
        if cw:
            c.curve((last.right + 1, last.cy), (cw.x - 2, cw.y + _spread(len(metric_flows), i, cw.h)),
                    FLOW_COLOURS["metrics"])
    # monitoring → alerts, routed in the access column's right margin
    alerts = nodes.get("svc:alerts")
    margin = 0
    for f in arch.flows:
        if f.target != "svc:alerts" or not alerts or f.source not in nodes or f.source == "svc:governance":
            continue
        s = nodes[f.source]
        x = alerts.right + 4 + 3 * margin
        margin += 1
        c.line([(s.right + 1, s.cy), (x, s.cy), (x, alerts.cy + 4 * margin), (alerts.right + 2, alerts.cy + 4 * margin)],
               FLOW_COLOURS["alerts"])
    if alerts and any(f.source == "svc:governance" and f.target == "svc:alerts" for f in arch.flows):
        x = alerts.x + 24
        c.line([(x, gov_top), (x, alerts.bottom + 1)], FLOW_COLOURS["alerts"], "security events (EventBridge)",
               label_pos=(x + 80, gov_top - 12))
    # deliveries into buckets: trail (access, from above) and Config (governance, from below), orthogonal routes
    lane = 0
    for f in arch.flows:
        if not (f.source in ("svc:trail", "svc:config") and f.target in nodes and f.source in nodes):
            continue
        s, b = nodes[f.source], nodes[f.target]
        x = channel_x + 12 + 10 * lane
        lane += 1
        if f.source == "svc:trail":
            # out of the trail's left side, up the access column's margin, over the bands, down the channel
            y, margin = top - 14, s.x - 5
            c.line([(s.x, s.cy), (margin, s.cy), (margin, y), (x, y), (x, b.y + 12), (b.right + 2, b.y + 12)],
                   FLOW_COLOURS["audit"], f.label, label_pos=((margin + x) // 2, y))
        else:
            y, sx = gov_top - 16, s.right - 24
            c.line([(sx, s.y), (sx, y), (x, y), (x, b.bottom - 12), (b.right + 2, b.bottom - 12)],
                   FLOW_COLOURS["alerts"], f.label, dash=True, label_pos=((sx + x) // 2, y))
    # Backup protects platform storage
    for f in arch.flows:
        if f.source == "svc:backup" and f.source in nodes and f.target in nodes:
            s, t = nodes[f.source], nodes[f.target]
            c.curve((s.cx, s.y), (t.cx, t.bottom + 2), FLOW_COLOURS["alerts"], f.label, horizontal=False, dash=True,
                    label_at=0.8)


def environment_svg(env: str, stacks: Mapping[str, Doc], *, standalone: bool = True) -> str:
    return render_svg(extract(env, stacks), standalone=standalone)
