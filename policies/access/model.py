"""What an environment's access is made of, read once from its synthesized stacks: every role
(identity policies, permission boundary, trust policy), every key, bucket and topic with its resource
policy, and the SCPs the environment attaches.

Terraform references inside policy documents are replaced before parsing by what they stand for:
bucket, role, policy, queue and topic ARNs from the referenced resource's literal name, and keys
(which have no ARN before apply) by a symbolic ARN of the key's own account and region
(`arn:aws:kms:<region>:<account>:key/<stack>.<logical id>`), the same wherever the key is named
(by reference, by a `data.aws_kms_key` lookup or an alias). A reference that resolves to nothing stays
in the text, and the evaluator refuses any statement it meets it in: "cannot judge", never a guess.

Roles are sorted into declared principals by the role-name patterns of the access matrix, in one
place (`Intent.match`): a role no pattern matches is an undeclared principal.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from policies.access.capabilities import DATA_CLASSES
from policies.access.intent import Intent
from policies.app_checks.aws_managed_policies import KNOWN as AWS_MANAGED_DOCUMENTS
from policies.app_checks.iam import role_policies
from policies.app_checks.lookups import alias_info, attached, key_resource, region_of
from policies.app_checks.view import Env, Stack, one
from policies.checks.aegis_values import as_list
from policies.iam_eval import Indexed

_REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")
DEFAULT_KEY_POLICY_SID = "DefaultKeyPolicy"


@dataclass
class Doc:
    """A parsed, reference-resolved policy document and where it comes from (`stack/address`)."""

    label: str
    policy: Indexed


@dataclass
class Role:
    name: str
    arn: str
    stack: str
    address: str
    identity: list[Doc]
    boundary: Doc | None
    trust: Doc | None
    services: tuple[str, ...]  # service principals its trust policy admits
    declared: str | None  # the access-matrix principal it belongs to
    unreadable: list[str] = field(default_factory=list)  # why its permissions cannot be judged

    @property
    def workload(self) -> bool:
        """Assumed by AWS services only (not by people or applications)."""
        return bool(self.services) and not self.human

    human: bool = False


@dataclass
class Key:
    arn: str
    key_class: str | None
    dr: bool
    region: str
    aliases: tuple[str, ...]
    policy: Doc


@dataclass
class Bucket:
    name: str
    data_class: str
    region: str
    policy: Doc | None
    key: Key | None  # SSE-KMS key; None: SSE-S3
    key_problem: str = ""
    bucket_key: bool = False

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


@dataclass
class Topic:
    arn: str
    policy: Doc | None  # None: no topic policy (the default one admits the owner account through IAM)


@dataclass
class AccessModel:
    env: str
    tier: str
    account: str
    region: str
    prefix: str
    roles: list[Role]
    keys: list[Key]
    buckets: list[Bucket]
    scps: list[Doc]
    topics: list[Topic]
    vpc: str | None  # symbolic id of the environment's VPC, for requests its workloads make
    endpoints: dict[str, str]  # service (s3, kms, sts, …) → symbolic VPC endpoint id
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # role name → principals it matches


def build(env: Env, intent: Intent) -> AccessModel:
    naming = env.naming
    resolver = _Resolver(env)
    keys = _keys(env, resolver)
    roles = _roles(env, intent, resolver)
    model = AccessModel(env.name, env.tier, naming.account_id, naming.region, naming.prefix, roles, list(keys.values()),
                        _buckets(env, resolver, keys), _scps(env, resolver), _topics(env, resolver), _vpc(env),
                        _endpoints(env))
    for role in roles:
        matches = intent.match(role.name, naming.prefix)
        if len(matches) > 1:
            model.ambiguous[role.name] = matches
    return model


class _Resolver:
    """Replaces Terraform references in a stack's policy text by what they stand for."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.naming = env.naming

    def key_arn(self, stack: Stack, name: str, conf: dict) -> str:
        region = region_of(stack, conf) or self.naming.region
        return f"arn:aws:kms:{region}:{self.naming.account_id}:key/{stack.name}.{name}"

    def text(self, stack: Stack, raw: str) -> str:
        account, region = self.naming.account_id, self.naming.region

        def replace(match: re.Match) -> str:
            data, rtype, name, attr = match.groups()
            token = match.group(0)
            if rtype == "aws_kms_key":
                found = key_resource(self.env, stack, token)
                if found is None:
                    return token
                arn = self.key_arn(*found)
                return arn if attr == "arn" else arn.rsplit("/", 1)[1]
            conf = stack.lookup(f"data.{rtype}" if data else rtype, name)
            if conf is None:
                return token
            literal = conf.get("bucket") if rtype == "aws_s3_bucket" else conf.get("name")
            if rtype == "aws_vpc_endpoint" and attr == "id":
                return f"vpce-{name}"
            if rtype == "aws_vpc" and attr == "id":
                return f"vpc-{name}"
            if not isinstance(literal, str) or "${" in literal:
                return token
            where = region_of(stack, conf) or region
            arns = {"aws_s3_bucket": f"arn:aws:s3:::{literal}",
                    "aws_iam_role": f"arn:aws:iam::{account}:role/{literal}",
                    "aws_iam_policy": f"arn:aws:iam::{account}:policy{conf.get('path') or '/'}{literal}",
                    "aws_sqs_queue": f"arn:aws:sqs:{where}:{account}:{literal}",
                    "aws_sns_topic": f"arn:aws:sns:{where}:{account}:{literal}"}
            if attr == "arn" and rtype in arns:
                return arns[rtype]
            if attr in ("id", "name", "bucket") and rtype in arns:
                return literal
            return token

        return _REF.sub(replace, raw)

    def doc(self, stack: Stack, address: str, raw: Any) -> Doc | None:
        """The policy at `raw` (JSON text or an object), resolved and parsed; None when it is not a document."""
        if isinstance(raw, dict):
            raw = json.dumps(raw)
        if not isinstance(raw, str):
            return None
        try:
            parsed = json.loads(self.text(stack, raw))
        except ValueError:
            return None
        return Doc(f"{stack.name}/{address}", Indexed(parsed)) if isinstance(parsed, dict) else None


def _keys(env: Env, resolver: _Resolver) -> dict[str, Key]:
    aliases: dict[str, list[str]] = {}
    for stack, _, alias in env.resources("aws_kms_alias"):
        found = key_resource(env, stack, alias.get("target_key_id"))
        if found is not None and isinstance(alias.get("name"), str):
            aliases.setdefault(resolver.key_arn(*found), []).append(alias["name"])
    keys = {}
    for stack, name, conf in env.resources("aws_kms_key"):
        arn = resolver.key_arn(stack, name, conf)
        names = tuple(sorted(aliases.get(arn, [])))
        infos = {info for info in (alias_info(env, a) for a in names) if info is not None}
        key_class: str | None = None
        dr = False
        if len(infos) == 1:
            key_class, dr = next(iter(infos))
        if key_class is None:
            tagged = (conf.get("tags") or {}).get("DataClass")
            key_class = tagged if isinstance(tagged, str) and not infos else None
        raw = _key_policy_raw(stack, name, conf)
        address = f"aws_kms_key.{name}"
        policy = resolver.doc(stack, address, raw) if raw is not None else Doc(
            f"{stack.name}/{address} (default key policy)", Indexed(_default_key_policy(env.naming.account_id)))
        if policy is None:
            policy = Doc(f"{stack.name}/{address}", Indexed({"Statement": [{"Effect": "Allow", "Action": "*",
                                                                             "Resource": "${unreadable key policy}"}]}))
        keys[arn] = Key(arn, key_class, dr, region_of(stack, conf) or env.naming.region, names, policy)
    return keys


def _key_policy_raw(stack: Stack, name: str, conf: dict) -> Any:
    attached_policies = attached(stack, "aws_kms_key_policy", "aws_kms_key", name, conf, "key_id", ("key_id", "id"))
    return attached_policies[0][1].get("policy") if attached_policies else conf.get("policy")


def _default_key_policy(account: str) -> dict:
    """The key policy AWS gives a key created without one: the account, through IAM."""
    return {"Statement": [{"Sid": DEFAULT_KEY_POLICY_SID, "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                           "Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}


def _roles(env: Env, intent: Intent, resolver: _Resolver) -> list[Role]:
    naming = env.naming
    policies_by_arn: dict[str, tuple[Stack, str, dict]] = {}
    for stack, name, conf in env.resources("aws_iam_policy"):
        if isinstance(conf.get("name"), str):
            arn = f"arn:aws:iam::{naming.account_id}:policy{conf.get('path') or '/'}{conf['name']}"
            policies_by_arn[arn] = (stack, name, conf)
    roles = []
    for stack, name, conf in env.resources("aws_iam_role"):
        role_name = conf.get("name")
        address = f"aws_iam_role.{name}"
        if not isinstance(role_name, str) or "${" in role_name:
            roles.append(Role(str(role_name), "", stack.name, address, [], None, None, (), None,
                              [f"{stack.name}/{address}: its name is not literal"]))
            continue
        role = Role(role_name, f"arn:aws:iam::{naming.account_id}:role/{role_name}", stack.name, address, [], None,
                    None, (), None)
        matches = intent.match(role_name, naming.prefix)
        role.declared = matches[0] if len(matches) == 1 else None
        for label, raw, managed in role_policies(stack, name, conf):
            _identity(role, stack, label, raw, managed, resolver, policies_by_arn, intent)
        boundary = conf.get("permissions_boundary")
        if boundary is not None:
            found = policies_by_arn.get(resolver.text(stack, boundary) if isinstance(boundary, str) else "")
            role.boundary = resolver.doc(found[0], f"aws_iam_policy.{found[1]}", found[2].get("policy")) if found else None
            if role.boundary is None:
                role.unreadable.append(f"{stack.name}/{address}: permission boundary {boundary} is not a policy of "
                                       "this environment with a literal document")
        role.trust = resolver.doc(stack, address + " (trust)", conf.get("assume_role_policy"))
        if role.trust is None:
            role.unreadable.append(f"{stack.name}/{address}: its trust policy is not literal JSON")
        else:
            role.services, role.human = _trusted(role.trust)
        roles.append(role)
    return roles


def _identity(role: Role, stack: Stack, label: str, raw: Any, managed: str | None, resolver: _Resolver,
              policies_by_arn: dict, intent: Intent) -> None:
    where = f"{stack.name}/{label}"
    if managed is None:
        doc = resolver.doc(stack, label, raw)
        if doc is None:
            role.unreadable.append(f"{where}: not literal JSON")
        else:
            role.identity.append(doc)
        return
    arn = resolver.text(stack, managed)
    if arn in policies_by_arn:
        other, name, conf = policies_by_arn[arn]
        doc = resolver.doc(other, f"aws_iam_policy.{name}", conf.get("policy"))
        if doc is not None:
            role.identity.append(doc)
            return
    known = AWS_MANAGED_DOCUMENTS.get(arn)
    if known is not None:  # the vendored document of its default version (policies/app_checks/aws_managed_policies.py)
        role.identity.append(Doc(f"{where}: AWS managed {arn}", Indexed(known)))
        return
    bound = intent.managed.get(arn)
    if bound is not None:
        role.identity.append(Doc(f"{intent.where} aws_managed_policies {arn}", Indexed(
            {"Statement": [{"Effect": "Allow", "Action": list(bound.grants_at_most), "Resource": "*"}]})))
        return
    role.unreadable.append(f"{where}: managed policy {arn} is neither in this environment nor bounded in "
                           f"{intent.where} (aws_managed_policies)")


def _trusted(trust: Doc) -> tuple[tuple[str, ...], bool]:
    services: set[str] = set()
    human = False
    for stmt in trust.policy.statements:
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        if isinstance(principal, dict):
            services |= {s for s in as_list(principal.get("Service")) if isinstance(s, str)}
            human |= bool(set(principal) - {"Service"})
        elif principal is not None:
            human = True
    return tuple(sorted(services)), human


def _buckets(env: Env, resolver: _Resolver, keys: dict[str, Key]) -> list[Bucket]:
    naming = env.naming
    wanted = {}
    for data_class, purpose in DATA_CLASSES.items():
        for region in (naming.region, naming.dr_region):
            wanted[naming.bucket(purpose, region)] = (data_class, region)
    out = []
    for stack, name, conf in env.resources("aws_s3_bucket"):
        if conf.get("bucket") not in wanted:
            continue
        data_class, region = wanted[conf["bucket"]]
        policies = attached(stack, "aws_s3_bucket_policy", "aws_s3_bucket", name, conf, "bucket")
        policy = None
        if policies:
            policy = resolver.doc(stack, f"aws_s3_bucket_policy.{policies[0][0]}", policies[0][1].get("policy"))
        bucket = Bucket(conf["bucket"], data_class, region, policy, None)
        if policies and policy is None:
            bucket.key_problem = f"{stack.name}/aws_s3_bucket_policy.{policies[0][0]}: not literal JSON"
        encryption = attached(stack, "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket", name,
                              conf, "bucket")
        rule = one(encryption[0][1], "rule") if encryption else None
        default = one(rule, "apply_server_side_encryption_by_default") if rule else None
        # Without a configuration S3 encrypts with SSE-S3 (every bucket since January 2023): no key to ask.
        if default is not None and default.get("sse_algorithm") in ("aws:kms", "aws:kms:dsse"):
            found = key_resource(env, stack, default.get("kms_master_key_id"))
            bucket.key = keys.get(resolver.key_arn(*found)) if found else None
            bucket.bucket_key = bool((rule or {}).get("bucket_key_enabled"))
            if bucket.key is None:
                bucket.key_problem = (f"{stack.name}/aws_s3_bucket.{name}: its KMS key "
                                      f"{default.get('kms_master_key_id')} is not a key of this environment")
        out.append(bucket)
    return out


def _scps(env: Env, resolver: _Resolver) -> list[Doc]:
    """SCPs the environment attaches (to its account, an OU or the root it sits under)."""
    out = []
    for stack, name, conf in env.resources("aws_organizations_policy"):
        if conf.get("type", "SERVICE_CONTROL_POLICY") != "SERVICE_CONTROL_POLICY":
            continue
        if attached(stack, "aws_organizations_policy_attachment", "aws_organizations_policy", name, conf, "policy_id",
                    ("id",)):
            doc = resolver.doc(stack, f"aws_organizations_policy.{name}", conf.get("content"))
            out.append(doc or Doc(f"{stack.name}/aws_organizations_policy.{name}", Indexed(
                {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "${unreadable SCP}"}]})))
    return out


def _topics(env: Env, resolver: _Resolver) -> list[Topic]:
    out = []
    for stack, name, conf in env.resources("aws_sns_topic"):
        if not isinstance(conf.get("name"), str):
            continue
        arn = resolver.text(stack, f"${{aws_sns_topic.{name}.arn}}")
        policies = attached(stack, "aws_sns_topic_policy", "aws_sns_topic", name, conf, "arn", ())
        policy = None
        if policies:
            policy = resolver.doc(stack, f"aws_sns_topic_policy.{policies[0][0]}", policies[0][1].get("policy"))
            if policy is None:  # unreadable: any question about the topic cannot be judged
                policy = Doc(f"{stack.name}/aws_sns_topic_policy.{policies[0][0]}", Indexed(
                    {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "${unreadable topic policy}"}]}))
        out.append(Topic(arn, policy))
    return out


def _vpc(env: Env) -> str | None:
    vpcs = [name for _, name, _ in env.resources("aws_vpc")]
    return f"vpc-{vpcs[0]}" if len(vpcs) == 1 else None


def _endpoints(env: Env) -> dict[str, str]:
    out = {}
    for _, name, conf in env.resources("aws_vpc_endpoint"):
        service = conf.get("service_name")
        if isinstance(service, str) and service.startswith("com.amazonaws."):
            out[service.split(".", 3)[3].split(".")[0]] = f"vpce-{name}"
    return out


__all__ = ["AccessModel", "Bucket", "Doc", "Key", "Role", "Topic", "build"]
