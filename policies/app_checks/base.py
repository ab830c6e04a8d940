"""Base of the app-level checks: findings, the registry, and a read-only view of the synthesized app.

An app-level check sees every stack of every environment together with its `EnvConfig`, so it can
judge what checkov cannot: rules that depend on the environment tier or on its config (prod needs
two instances, COMPLIANCE object lock, an On-Demand base), rules across resources and stacks
(which key a bucket's encryption really points at, which scaling target belongs to which
endpoint) and rules about the environment as a whole (a budget exists, Security Hub subscribes to
the standards the config lists).

A check is a generator function `check(app: AppView) -> Iterator[Result]`, registered with
`@app_check(ID, title)`; the runner adds the check ID to each result. A check reports a passed
result for every resource it judged, and a stack-level result (address "") for things that are
missing. It never passes what it could not judge: an unresolvable reference is a failure.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from modules.config import EnvConfig
from modules.naming import STACK_ORDER, Naming


@dataclass(frozen=True)
class AppFinding:
    check_id: str
    stack: str
    address: str  # "<type>.<logical id>" ("data.<type>.<name>" for a data source), "" for the stack
    passed: bool
    message: str


@dataclass(frozen=True)
class Result:
    """What a check yields; the runner turns it into an AppFinding with the check's ID."""

    stack: str
    address: str
    passed: bool
    message: str


def ok(stack: str, address: str, message: str) -> Result:
    return Result(stack, address, True, message)


def fail(stack: str, address: str, message: str) -> Result:
    return Result(stack, address, False, message)


def judge(stack: str, address: str, problems: Iterable[str], passed_message: str) -> Result:
    """One result for a resource: failed with all problems joined, or passed."""
    found = [p for p in problems if p]
    if found:
        return fail(stack, address, "; ".join(found))
    return ok(stack, address, passed_message)


@dataclass(frozen=True)
class AppCheck:
    check_id: str
    title: str
    func: Callable[["AppView"], Iterable[Result]]


REGISTRY: dict[str, AppCheck] = {}


def app_check(check_id: str, title: str):
    """Register a check function under `check_id` (must be unique and match `AEGIS_<NAME>`)."""
    if not re.fullmatch(r"AEGIS_[A-Z0-9_]+", check_id):
        raise ValueError(f"app check ID '{check_id}' must look like AEGIS_<NAME>")

    def register(func):
        if check_id in REGISTRY and REGISTRY[check_id].func is not func:
            raise ValueError(f"app check ID {check_id} is registered twice")
        REGISTRY[check_id] = AppCheck(check_id, title, func)
        return func

    return register


# ---- references ---------------------------------------------------------------------------------

_REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")


def ref(raw: Any) -> tuple[str, str, str] | None:
    """`${type.name.attr}` (exactly) → (type, name, attr); a data source's type is `data.<type>`."""
    if not isinstance(raw, str):
        return None
    match = _REF.fullmatch(raw.strip())
    if not match:
        return None
    data, rtype, name, attr = match.groups()
    return (f"data.{rtype}" if data else rtype), name, attr


def refs_in(raw: Any) -> list[tuple[str, str, str]]:
    """Every `${type.name.attr}` inside a string (or list of strings)."""
    texts = raw if isinstance(raw, list) else [raw]
    out = []
    for text in texts:
        if isinstance(text, str):
            for data, rtype, name, attr in _REF.findall(text):
                out.append(((f"data.{rtype}" if data else rtype), name, attr))
    return out


def nested(conf: Any, key: str) -> list[dict]:
    """A nested block as a list of dicts (CDKTF writes single blocks as objects, repeated ones as lists)."""
    if not isinstance(conf, dict):
        return []
    raw = conf.get(key)
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, dict)]
    return []


def one(conf: Any, key: str) -> dict | None:
    found = nested(conf, key)
    return found[0] if found else None


def as_list(raw: Any) -> list:
    if raw is None:
        return []
    return raw if isinstance(raw, list) else [raw]


def as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    return None


def as_float(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def is_true(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.lower() == "true")


def document(raw: Any) -> dict | None:
    """A literal JSON policy document, or None (a reference, `jsonencode`, or not JSON)."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


# ---- the app --------------------------------------------------------------------------------------

# Attributes that hold a resource's name (what `.id` resolves to for named resources).
NAME_ATTRIBUTES = ("name", "function_name", "bucket")


@dataclass
class Stack:
    name: str
    pillar: str
    doc: dict

    def resources(self, rtype: str) -> dict[str, dict]:
        items = (self.doc.get("resource") or {}).get(rtype) or {}
        return {n: c for n, c in items.items() if n != "//" and isinstance(c, dict)}

    def data(self, dtype: str) -> dict[str, dict]:
        items = (self.doc.get("data") or {}).get(dtype) or {}
        return {n: c for n, c in items.items() if n != "//" and isinstance(c, dict)}

    def resource_types(self) -> list[str]:
        return sorted((self.doc.get("resource") or {}).keys())

    def lookup(self, rtype: str, name: str) -> dict | None:
        if rtype.startswith("data."):
            return self.data(rtype[5:]).get(name)
        return self.resources(rtype).get(name)

    def target(self, raw: Any, rtype: str | None = None) -> tuple[str, dict] | None:
        """The resource a `${type.name.attr}` reference points at in this stack, as (name, conf)."""
        found = ref(raw)
        if found is None or (rtype and found[0] != rtype):
            return None
        conf = self.lookup(found[0], found[1])
        return (found[1], conf) if conf is not None else None

    def resolve(self, raw: Any) -> Any:
        """Replace `${type.name.id|name|function_name|bucket}` by the referenced resource's literal name.

        Used for identifiers built from other resources (`endpoint/${aws_sagemaker_endpoint.x.name}/…`).
        A reference that cannot be replaced stays in the text, so callers see it did not resolve.
        """
        if not isinstance(raw, str):
            return raw

        def replace(match: re.Match) -> str:
            data, rtype, name, attr = match.groups()
            conf = self.lookup(f"data.{rtype}" if data else rtype, name)
            keys = NAME_ATTRIBUTES if attr == "id" else ((attr,) if attr in NAME_ATTRIBUTES else ())
            for key in keys:
                literal = (conf or {}).get(key)
                if isinstance(literal, str) and "${" not in literal:
                    return literal
            return match.group(0)

        return _REF.sub(replace, raw)


@dataclass
class Env:
    config: EnvConfig
    stacks: dict[str, Stack] = field(default_factory=dict)  # pillar → stack

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def tier(self) -> str:
        return self.config.tier

    @property
    def prod(self) -> bool:
        return self.config.tier == "prod"

    @property
    def naming(self) -> Naming:
        return Naming.of(self.config)

    def stack(self, pillar: str) -> Stack | None:
        return self.stacks.get(pillar)

    def home_stack(self, pillar: str) -> str:
        """Name of the stack where a finding about something missing from `pillar` belongs."""
        if pillar in self.stacks:
            return self.stacks[pillar].name
        return next(iter(self.stacks.values())).name

    def resources(self, rtype: str) -> Iterator[tuple[Stack, str, dict]]:
        """Every resource of a type in any of the environment's stacks, in apply order."""
        for pillar in STACK_ORDER:
            stack = self.stacks.get(pillar)
            if stack is not None:
                for name, conf in sorted(stack.resources(rtype).items()):
                    yield stack, name, conf


@dataclass
class AppView:
    envs: list[Env]
    orphans: list[str]  # stacks that belong to no configured environment

    @classmethod
    def build(cls, stacks: dict[str, dict], configs: dict[str, EnvConfig]) -> "AppView":
        envs: dict[str, Env] = {}
        claimed: set[str] = set()
        for env_name, config in sorted(configs.items()):
            naming = Naming.of(config)
            env = Env(config)
            for pillar in STACK_ORDER:
                stack_name = naming.stack(pillar)
                if stack_name in stacks:
                    env.stacks[pillar] = Stack(stack_name, pillar, stacks[stack_name])
                    claimed.add(stack_name)
            if env.stacks:
                envs[env_name] = env
        orphans = sorted(set(stacks) - claimed)
        return cls(list(envs.values()), orphans)


# ---- shared lookups -------------------------------------------------------------------------------

def attached(stack: Stack, rtype: str, target_type: str, target_name: str, target_conf: dict,
             attribute: str, literal_keys: tuple[str, ...] = NAME_ATTRIBUTES) -> list[tuple[str, dict]]:
    """Resources of `rtype` in `stack` whose `attribute` points at the target resource, by reference
    (`${target_type.target_name.*}`) or by the target's literal name."""
    literals = {target_conf.get(k) for k in literal_keys if isinstance(target_conf.get(k), str)}
    out = []
    for name, conf in sorted(stack.resources(rtype).items()):
        raw = conf.get(attribute)
        found = ref(raw)
        if (found and found[0] == target_type and found[1] == target_name) or (raw in literals and raw):
            out.append((name, conf))
    return out


def buckets_named(env: Env, bucket_name: str) -> list[tuple[Stack, str, dict]]:
    return [(s, n, c) for s, n, c in env.resources("aws_s3_bucket") if c.get("bucket") == bucket_name]


def alias_info(env: Env, alias: Any) -> tuple[str, bool] | None:
    """(class, is DR alias) of `alias/<prefix>-<class>[-dr]` (or its ARN) when it is one of this
    environment's aliases in the right account and region, else None."""
    if not isinstance(alias, str):
        return None
    naming = env.naming
    match = re.fullmatch(rf"(?:arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{{12}}):)?alias/{re.escape(naming.prefix)}-"
                         r"([a-z0-9]+)(-dr)?", alias.strip())
    if not match:
        return None
    region, account, key_class, dr = match.groups()
    if account is not None and account != naming.account_id:
        return None
    expected_region = naming.dr_region if dr else naming.region
    if region is not None and region != expected_region:
        return None
    return key_class, bool(dr)


def alias_class(env: Env, alias: Any) -> str | None:
    info = alias_info(env, alias)
    return info[0] if info else None


def key_class_of(env: Env, stack: Stack, raw: Any) -> str | None:
    """The data class of the KMS key a value points at, resolved through aliases, or None.

    - `${aws_kms_key.K.arn|id|key_id}`: the class of the alias (in the same stack) targeting K;
    - `${data.aws_kms_key.L.arn|id}`: the class of the alias the lookup L is keyed by;
    - a literal alias name or alias ARN of this environment.
    """
    found = ref(raw)
    if found is None:
        return alias_class(env, raw)
    rtype, name, _attr = found
    if rtype == "aws_kms_key":
        classes = {alias_class(env, a.get("name")) for _, a in attached(stack, "aws_kms_alias", "aws_kms_key", name,
                                                                        {}, "target_key_id", ())}
        classes.discard(None)
        return classes.pop() if len(classes) == 1 else None
    if rtype == "data.aws_kms_key":
        lookup = stack.data("aws_kms_key").get(name)
        return alias_class(env, (lookup or {}).get("key_id"))
    return None


def endpoint_variants(stack: Stack, config_raw: Any) -> tuple[str | None, list[dict]]:
    """(endpoint config logical id, its production variants) for an endpoint's `endpoint_config_name`."""
    found = ref(config_raw)
    configs = stack.resources("aws_sagemaker_endpoint_configuration")
    if found and found[0] == "aws_sagemaker_endpoint_configuration" and found[1] in configs:
        return found[1], nested(configs[found[1]], "production_variants")
    for name, conf in sorted(configs.items()):
        if isinstance(config_raw, str) and conf.get("name") == config_raw:
            return name, nested(conf, "production_variants")
    return None, []


def is_serverless(variant: dict) -> bool:
    return one(variant, "serverless_config") is not None


def scaling_problems(stack: Stack, namespace: str, resource_id: str, dimension: str, *, prod: bool,
                     prod_min: int = 2) -> list[str]:
    """Problems with the Application Auto Scaling of one scalable resource: a target (min ≤ max,
    min ≥ 1, min ≥ `prod_min` in prod) and a scaling policy attached to it."""
    targets = []
    for name, conf in sorted(stack.resources("aws_appautoscaling_target").items()):
        if (conf.get("service_namespace") == namespace and stack.resolve(conf.get("resource_id")) == resource_id
                and conf.get("scalable_dimension") == dimension):
            targets.append((name, conf))
    if not targets:
        return [f"no autoscaling target for {resource_id} ({dimension})"]
    problems = []
    target_name, target = targets[0]
    low, high = as_int(target.get("min_capacity")), as_int(target.get("max_capacity"))
    if low is None or high is None:
        problems.append(f"{resource_id}: min/max capacity are not literal numbers")
    else:
        if low > high:
            problems.append(f"{resource_id}: min capacity {low} exceeds max capacity {high}")
        if low < 1:
            problems.append(f"{resource_id}: min capacity {low} lets the model scale to zero")
        if prod and low < prod_min:
            problems.append(f"{resource_id}: prod needs min capacity of at least {prod_min} (have {low})")
    policies = []
    for name, conf in sorted(stack.resources("aws_appautoscaling_policy").items()):
        rid, dim, ns = conf.get("resource_id"), conf.get("scalable_dimension"), conf.get("service_namespace")
        points_at_target = all(
            (ref(v) or ("", "", ""))[:2] == ("aws_appautoscaling_target", target_name) or stack.resolve(v) == want
            for v, want in ((rid, resource_id), (dim, dimension), (ns, namespace)))
        if points_at_target:
            policies.append(conf)
    if not policies:
        problems.append(f"no scaling policy for {resource_id}")
    elif not any(_policy_configured(p) for p in policies):
        problems.append(f"the scaling policy of {resource_id} has no target-tracking or step configuration")
    return problems


def _policy_configured(policy: dict) -> bool:
    kind = policy.get("policy_type", "StepScaling")
    if kind == "TargetTrackingScaling":
        config = one(policy, "target_tracking_scaling_policy_configuration") or {}
        value = as_float(config.get("target_value"))
        return value is not None and value > 0 and bool(
            one(config, "predefined_metric_specification") or one(config, "customized_metric_specification"))
    if kind == "StepScaling":
        return bool(nested(one(policy, "step_scaling_policy_configuration"), "step_adjustment"))
    return kind == "PredictiveScaling" and one(policy, "predictive_scaling_policy_configuration") is not None


def role_policies(stack: Stack, role_name: str, role: dict) -> list[tuple[str, Any, str | None]]:
    """Everything that grants a role permissions, as (label, document or None, managed ARN or None).

    Inline policies (`inline_policy` blocks, aws_iam_role_policy), customer-managed policies of the
    stack attached to it (aws_iam_role_policy_attachment, aws_iam_policy_attachment,
    `managed_policy_arns`) and any other managed policy ARN (document None, ARN set).
    """
    out: list[tuple[str, Any, str | None]] = []
    for block in nested(role, "inline_policy"):
        out.append((f"inline policy {block.get('name', '?')}", block.get("policy"), None))
    for name, _ in attached(stack, "aws_iam_role_policy", "aws_iam_role", role_name, role, "role"):
        out.append((f"aws_iam_role_policy.{name}", stack.resources("aws_iam_role_policy")[name].get("policy"), None))
    arns = list(as_list(role.get("managed_policy_arns")))
    arns += [c.get("policy_arn") for _, c in attached(stack, "aws_iam_role_policy_attachment", "aws_iam_role",
                                                      role_name, role, "role")]
    for _, conf in sorted(stack.resources("aws_iam_policy_attachment").items()):
        for member in as_list(conf.get("roles")):
            found = ref(member)
            if (found and found[:2] == ("aws_iam_role", role_name)) or member == role.get("name"):
                arns.append(conf.get("policy_arn"))
    for arn in arns:
        policy = stack.target(arn, "aws_iam_policy")
        if policy is not None:
            out.append((f"aws_iam_policy.{policy[0]}", policy[1].get("policy"), None))
        else:
            out.append((f"managed policy {arn}", None, arn if isinstance(arn, str) else repr(arn)))
    return out


def allow_statements(doc: dict) -> list[dict]:
    """The Allow statements of a policy document (its Statement is one statement or a list)."""
    statements = doc.get("Statement", [])
    return [stmt for stmt in (statements if isinstance(statements, list) else [statements])
            if isinstance(stmt, dict) and stmt.get("Effect") == "Allow"]


def trusted_principal_kinds(role: dict) -> set[str]:
    """Principal kinds (AWS, Service, Federated, *) that the role's trust policy allows."""
    doc = document(role.get("assume_role_policy"))
    kinds: set[str] = set()
    if doc is None:
        return {"unknown"}
    for stmt in allow_statements(doc):
        principal = stmt.get("Principal")
        if principal == "*":
            kinds.add("*")
        elif isinstance(principal, dict):
            kinds.update(principal)
    return kinds


def is_persona(role: dict) -> bool:
    """A role for people or applications: its trust admits something other than AWS services."""
    return bool(trusted_principal_kinds(role) - {"Service"})
