"""Who can use each KMS key, evaluated by policies/iam_eval.py on the synthesized documents of all
stacks: the key policy, the caller's inline policies and the permission boundary.

The key policies delegate to IAM (the account-root statement) and deny every other principal of
the account: an administrator whose IAM policy allows everything still cannot use a key, while the
roles that the project grants a key (personas, execution, replication roles) still can, through
their services, and the key stays manageable (no lock-out)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest

from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import as_principal, kms_is_allowed
from tests.synthesized import Synthesized

# Every AWS service a key of the project is used through (kms:ViaService prefixes).
SERVICES = ("backup", "cloudtrail", "dynamodb", "ec2", "ecr", "elasticfilesystem", "lambda", "logs", "s3", "sagemaker",
            "sns", "sqs")
AUTOSCALING_ROLE = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant")
ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ALIAS = re.compile(r"^alias/(?P<prefix>.+)-(?P<cls>training|model|inference|audit|state)(?P<tag>-dr|-edge)?$")
REF = re.compile(r"\$\{(?P<data>data\.)?aws_kms_key\.(?P<name>[A-Za-z0-9_-]+)\.arn\}")


@dataclass(frozen=True)
class Key:
    key_class: str
    region: str
    policy: dict

    def arn(self, account: str) -> str:
        return f"arn:aws:kms:{self.region}:{account}:key/{self.key_class}-{self.region}"


@dataclass
class EnvKeys:
    naming: Naming
    keys: dict[tuple[str, str], Key]  # (class, region) → key
    roles: dict[str, list[dict]]  # role ARN → inline policies, key references made concrete
    boundary: dict

    def alias(self, key: Key) -> str:
        tag = {self.naming.region: "", self.naming.dr_region: "-dr", "us-east-1": "-edge"}[key.region]
        return f"alias/{self.naming.prefix}-{key.key_class}{tag}"


def _region(naming: Naming, tag: str | None, provider_region: str | None) -> str:
    return provider_region or {None: naming.region, "-dr": naming.dr_region, "-edge": "us-east-1"}[tag]


def env_keys(synthesized: Synthesized, env: str) -> EnvKeys:
    naming = Naming.of(load_env(env))
    keys: dict[tuple[str, str], Key] = {}
    by_ref: dict[str, Key] = {}
    for stack in (s for s in synthesized.stack_names if s.startswith(f"{env}-")):
        for name, lookup in synthesized.data_sources(stack, "aws_kms_key").items():
            by_ref["${data.aws_kms_key." + name + ".arn}"] = lookup["key_id"]
        policies = synthesized.resources(stack, "aws_kms_key")
        for alias in synthesized.resources(stack, "aws_kms_alias").values():
            found = ALIAS.match(alias["name"])
            key_name = alias["target_key_id"].split(".")[1]
            key = Key(found["cls"], _region(naming, found["tag"], alias.get("region")),
                      json.loads(policies[key_name]["policy"]))
            keys[(key.key_class, key.region)] = key
            by_ref["${aws_kms_key." + key_name + ".arn}"] = key
    for ref, value in list(by_ref.items()):
        if isinstance(value, str):  # a lookup by alias ARN
            found = ALIAS.match(value.split(":", 5)[5])
            by_ref[ref] = keys[(found["cls"], value.split(":")[3])]

    def concrete(policy: str) -> dict:
        return json.loads(REF.sub(lambda m: by_ref[m.group(0)].arn(naming.account_id), policy))

    roles: dict[str, list[dict]] = {}
    for stack in (s for s in synthesized.stack_names if s.startswith(f"{env}-")):
        names = {f"${{aws_iam_role.{logical}.{attr}}}": conf["name"]
                 for logical, conf in synthesized.resources(stack, "aws_iam_role").items() for attr in ("id", "name")}
        for conf in synthesized.resources(stack, "aws_iam_role").values():
            roles.setdefault(f"arn:aws:iam::{naming.account_id}:role/{conf['name']}", [])
        for conf in synthesized.resources(stack, "aws_iam_role_policy").values():
            roles[f"arn:aws:iam::{naming.account_id}:role/{names[conf['role']]}"].append(concrete(conf["policy"]))
    (boundary,) = [json.loads(p["policy"]) for p in synthesized.resources(f"{env}-bootstrap", "aws_iam_policy").values()
                   if p["name"] == f"{naming.prefix}-permission-boundary"]
    return EnvKeys(naming, keys, roles, boundary)


def via(service: str, region: str) -> dict:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


def use_contexts(key: Key) -> list[dict]:
    """Every way in: directly, and through each service any key class is used through."""
    return [{}, *(via(s, key.region) for s in (*SERVICES, "kms"))]


def request(keys: EnvKeys, principal: str, action: str, key: Key, context: dict):
    extra = {"kms:ResourceAliases": [keys.alias(key)], "kms:CallerAccount": keys.naming.account_id,
             "aws:RequestedRegion": key.region, **context}
    if action == "kms:CreateGrant":
        extra.setdefault("kms:GrantIsForAWSResource", True)
    return as_principal(principal, action, key.arn(keys.naming.account_id), extra)


@pytest.fixture(scope="session")
def _keys_cache() -> dict:
    return {}


@pytest.fixture
def keys(synthesized, env, _keys_cache) -> EnvKeys:
    if env not in _keys_cache:
        _keys_cache[env] = env_keys(synthesized, env)
    return _keys_cache[env]


def test_an_administrator_outside_the_key_users_cannot_use_any_key(keys):
    """IAM `*` (AdministratorAccess) is not enough: the key policy itself refuses every principal of
    the account that it does not name, whatever service the call comes through."""
    n = keys.naming
    outsiders = [f"arn:aws:iam::{n.account_id}:role/Admin",
                 f"arn:aws:iam::{n.account_id}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
                 "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
                 n.role_arn("platform-admin"), n.account_root]
    assert len(keys.keys) >= 5  # four data classes and the state key, at least
    for key in keys.keys.values():
        for principal in outsiders:
            for action in USE:
                for context in use_contexts(key):
                    if _announces_incident(keys, principal, key, context):
                        continue  # platform-admin publishes to the alerts topic (audit key) through SNS
                    assert not kms_is_allowed(key.policy, [ADMINISTRATOR], request(keys, principal, action, key, context)), \
                        (key.key_class, key.region, principal, action, context)


def _announces_incident(keys: EnvKeys, principal: str, key: Key, context: dict) -> bool:
    return (principal == keys.naming.role_arn("platform-admin") and key.key_class == "audit"
            and context == via("sns", key.region))


def test_platform_admin_can_publish_its_incident_announcement_to_the_encrypted_alerts_topic(keys):
    """SNS calls GenerateDataKey and Decrypt on the audit key for the publisher: platform-admin may,
    with its own policies and the boundary, through SNS in its region only — never directly or via S3."""
    admin = keys.naming.role_arn("platform-admin")
    if admin not in keys.roles:
        pytest.skip("platform-admin is not enabled in this environment")
    audit = keys.keys[("audit", keys.naming.region)]
    policies = keys.roles[admin]
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert kms_is_allowed(audit.policy, policies, request(keys, admin, action, audit, via("sns", audit.region)),
                              boundary=keys.boundary), action
        for context in ({}, via("s3", audit.region), via("logs", audit.region)):
            assert not kms_is_allowed(audit.policy, [ADMINISTRATOR], request(keys, admin, action, audit, context)), \
                (action, context)
    for key in keys.keys.values():
        if key.key_class != "audit":
            assert not kms_is_allowed(key.policy, [ADMINISTRATOR], request(
                keys, admin, "kms:GenerateDataKey", key, via("sns", key.region))), key.key_class


def test_every_key_user_can_still_use_its_keys(keys):
    """Every KMS grant in a role's inline policies works against the key policy too (else the
    deployment breaks at run time): the role, through the services its statement or the key allows."""
    checked = 0
    for role, policies in keys.roles.items():
        for policy in policies:
            for stmt in policy["Statement"]:
                for action, key, contexts in _grants(keys, stmt):
                    checked += 1
                    assert any(kms_is_allowed(key.policy, policies, request(keys, role, action, key, c),
                                              boundary=keys.boundary) for c in contexts), \
                        (role, stmt.get("Sid"), action, key.key_class, key.region)
    assert checked >= 10


def _grants(keys: EnvKeys, stmt: dict):
    """(action, key, contexts to try) for each KMS use an Allow statement grants on a known key."""
    if stmt["Effect"] != "Allow":
        return
    actions = [a.replace("*", "") if a.endswith("GenerateDataKey*") else a.replace("ReEncrypt*", "ReEncryptFrom")
               for a in ([stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"])]
    actions = [a for a in actions if a in USE]
    resources = [stmt["Resource"]] if isinstance(stmt["Resource"], str) else stmt["Resource"]
    condition = stmt.get("Condition", {})
    aliases = condition.get("ForAnyValue:StringEquals", {}).get("kms:ResourceAliases", [])
    for key in keys.keys.values():
        arn = key.arn(keys.naming.account_id)
        named = arn in resources or (any(r.endswith(":key/*") and f":{key.region}:" in r for r in resources)
                                     and keys.alias(key) in aliases)
        if not named:
            continue
        services = condition.get("StringEquals", {}).get("kms:ViaService")
        contexts = ([{"kms:ViaService": s} for s in ([services] if isinstance(services, str) else services)]
                    if services else [via(s, key.region) for s in SERVICES])
        for action in actions:
            yield action, key, contexts


def test_the_keys_stay_manageable(keys):
    """No lock-out: the key administrator (named) and the account (delegating to IAM) still manage
    every key, though neither may use it."""
    n = keys.naming
    deployer = load_env(n.env).deployer_role_arn
    for key in keys.keys.values():
        for action in ("kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:DescribeKey"):
            assert kms_is_allowed(key.policy, [], request(keys, deployer, action, key, {})), (key.key_class, action)
            assert kms_is_allowed(key.policy, [ADMINISTRATOR], request(keys, n.account_root, action, key, {}))


def test_the_deployer_provisions_without_reading_data(keys):
    """The deployer creates encrypted resources (grants through SageMaker, ECR, DynamoDB, AWS Backup)
    but cannot decrypt what S3 holds with the data keys, even with IAM `*` — except model artifacts,
    whose SHA-256 the platform plan reads (S3 returns an SSE-KMS object's checksum only to a caller
    that may decrypt it)."""
    deployer = load_env(keys.naming.env).deployer_role_arn
    for (key_class, region), key in keys.keys.items():
        if key_class == "state":
            continue  # Terraform's S3 backend reads the state as the deployer
        assert kms_is_allowed(key.policy, [ADMINISTRATOR], request(
            keys, deployer, "kms:Decrypt", key, via("s3", region))) is (key_class == "model"), key_class
        assert not kms_is_allowed(key.policy, [ADMINISTRATOR],
                                  request(keys, deployer, "kms:Decrypt", key, {})), key_class
    inference = keys.keys[("inference", keys.naming.region)]
    assert kms_is_allowed(inference.policy, [ADMINISTRATOR], request(
        keys, deployer, "kms:CreateGrant", inference, via("sagemaker", keys.naming.region)))
    state = keys.keys[("state", keys.naming.region)]
    assert kms_is_allowed(state.policy, [ADMINISTRATOR],
                          request(keys, deployer, "kms:Decrypt", state, via("s3", keys.naming.region)))


def test_autoscaling_can_use_the_ebs_key_for_the_gpu_fleet(synthesized, env, keys):
    """The launch template and the account's default EBS key use the model key. Auto Scaling launches
    through its service-linked role, whose AWS-managed policy grants nothing on customer managed keys:
    the key policy must name the role (EC2 Auto Scaling user guide), and the role must exist first."""
    n = keys.naming
    role = f"arn:aws:iam::{n.account_id}:{AUTOSCALING_ROLE}"
    model = keys.keys[("model", n.region)]
    ec2 = via("ec2", n.region)
    for action in ("kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:CreateGrant"):
        assert kms_is_allowed(model.policy, [], request(keys, role, action, model, ec2)), action
    assert not kms_is_allowed(model.policy, [], request(keys, role, "kms:CreateGrant", model,
                                                        {**ec2, "kms:GrantIsForAWSResource": False}))
    # EC2 decrypts attached volumes as aws:ec2-infrastructure, through the grant Auto Scaling made:
    # no deny of the key policy may reach that session.
    infrastructure = f"arn:aws:iam::{n.account_id}:role/aws:ec2-infrastructure"
    granted = {**model.policy, "Statement": [*model.policy["Statement"], {
        "Effect": "Allow", "Principal": {"AWS": infrastructure}, "Action": "kms:Decrypt", "Resource": "*"}]}
    assert kms_is_allowed(granted, [], request(keys, infrastructure, "kms:Decrypt", model, {}))
    data = synthesized.stack(f"{env}-data")["resource"]
    (slr,) = [name for name, r in data["aws_iam_service_linked_role"].items()
              if r["aws_service_name"] == "autoscaling.amazonaws.com"]
    (default_key,) = data["aws_ebs_default_kms_key"].values()
    key_name = default_key["key_arn"].split(".")[1]
    assert f"aws_iam_service_linked_role.{slr}" in data["aws_kms_key"][key_name]["depends_on"]
