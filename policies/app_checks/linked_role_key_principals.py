"""AEGIS_LINKED_ROLE_KEY_PRINCIPALS: a key that Auto Scaling or Macie uses names their
service-linked role as a key principal, and exists only after that role.

EC2 Auto Scaling launches instances, and Macie's classification job reads objects, through
service-linked roles whose AWS-managed policies grant nothing on customer managed keys. A key
policy that only delegates to the account (even with an aws:PrincipalArn condition on the role)
therefore never lets them in: the launch fails, the job reports every object unreadable. AWS
requires the role itself as a principal (EC2 Auto Scaling user guide, "Required AWS KMS key policy
for use with encrypted volumes"; Macie user guide, "Allowing Macie to use a customer managed AWS
KMS key"). KMS also refuses a key policy naming a role that does not exist yet, so the key must
depend on the role: an aws_iam_service_linked_role, or a data.aws_iam_role lookup when the account
already has it.

Judged keys: the account's default EBS key and the keys of launch templates that an Auto Scaling
group uses (Auto Scaling: use, and grants for AWS resources, through EC2), and the keys of the
buckets Macie classification jobs read (Macie: decrypt through S3). Decided by the IAM evaluator,
with no identity policy for the role; a key that cannot be resolved or judged fails.
"""
from __future__ import annotations

import json
from typing import Iterator

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import attached, buckets_named, key_policy, key_resource
from policies.app_checks.view import AppView, Env, Stack, nested, one
from policies.checks.aegis_values import as_list, document
from policies.iam_eval import UnsupportedPolicy, as_principal, kms_is_allowed

AUTOSCALING = ("autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling")
MACIE = ("macie.amazonaws.com", "AWSServiceRoleForAmazonMacie")
# What each role must be able to do with the key, and through which service.
NEEDS = {
    AUTOSCALING: ("ec2", ("kms:Decrypt", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
                          "kms:CreateGrant")),
    MACIE: ("s3", ("kms:Decrypt",)),
}

# (stack and address of what uses the key, the stack its key reference is resolved in, the reference, the role)
KeyUse = tuple[Stack, str, Stack, str, tuple[str, str]]


@app_check("AEGIS_LINKED_ROLE_KEY_PRINCIPALS",
           "Keys used by Auto Scaling and Macie name their service-linked role as principal, created first")
def service_linked_key_principals(app: AppView):
    for env in app.envs:
        keys: dict[tuple[str, str], tuple[Stack, dict]] = {}
        roles: dict[tuple[str, str], set[tuple[str, str]]] = {}  # key (stack, name) → its roles, once each
        for user_stack, user, key_stack, raw, role in [*_ebs_uses(env), *_macie_uses(env)]:
            found = key_resource(env, key_stack, raw)
            if found is None:
                yield fail(user_stack.name, user, f"its KMS key {raw!r} cannot be resolved to a key of {env.name}")
                continue
            stack, name, conf = found
            keys[(stack.name, name)] = (stack, conf)
            roles.setdefault((stack.name, name), set()).add(role)
        for (stack_name, name), (stack, conf) in sorted(keys.items(), key=lambda item: item[0]):
            needed = sorted(roles[(stack_name, name)])
            yield judge(stack_name, f"aws_kms_key.{name}", _problems(env, stack, name, conf, needed),
                        f"names {', '.join(r[1] for r in needed)} as key principal, created first")


def _ebs_uses(env: Env) -> Iterator[KeyUse]:
    """The default EBS key and the keys of launch templates Auto Scaling groups launch."""
    for stack, name, conf in env.resources("aws_ebs_default_kms_key"):
        yield stack, f"aws_ebs_default_kms_key.{name}", stack, conf.get("key_arn"), AUTOSCALING
    for stack, name, conf in env.resources("aws_launch_template"):
        used = any(f"${{aws_launch_template.{name}." in json.dumps(group)
                   for group in stack.resources("aws_autoscaling_group").values())
        if not used:
            continue
        for mapping in nested(conf, "block_device_mappings"):
            ebs = one(mapping, "ebs") or {}
            if ebs.get("kms_key_id") is not None:
                yield stack, f"aws_launch_template.{name}", stack, ebs.get("kms_key_id"), AUTOSCALING


def _macie_uses(env: Env) -> Iterator[KeyUse]:
    """The default keys of the buckets each Macie classification job reads."""
    for stack, name, job in env.resources("aws_macie2_classification_job"):
        for definition in nested(one(job, "s3_job_definition"), "bucket_definitions"):
            for bucket in as_list(definition.get("buckets")):
                for bucket_stack, raw in _bucket_keys(env, bucket):
                    yield stack, f"aws_macie2_classification_job.{name}", bucket_stack, raw, MACIE


def _bucket_keys(env: Env, bucket: str) -> Iterator[tuple[Stack, str]]:
    """(stack, key reference) of a bucket's default KMS encryption."""
    for stack, name, conf in buckets_named(env, bucket):
        for _, sse in attached(stack, "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket",
                               name, conf, "bucket"):
            for rule in nested(sse, "rule"):
                default = one(rule, "apply_server_side_encryption_by_default") or {}
                if default.get("sse_algorithm") in ("aws:kms", "aws:kms:dsse"):
                    yield stack, default.get("kms_master_key_id")


def _problems(env: Env, stack: Stack, name: str, conf: dict, roles: list[tuple[str, str]]) -> Iterator[str]:
    policy = document(key_policy(stack, name, conf))
    if policy is None:
        yield "the key policy is not a literal JSON document and cannot be judged"
        return
    account = env.naming.account_id
    for service, role_name in roles:
        arn = f"arn:aws:iam::{account}:role/aws-service-role/{service}/{role_name}"
        via, actions = NEEDS[(service, role_name)]
        context = {"kms:ViaService": f"{via}.{env.naming.region}.amazonaws.com", "kms:GrantIsForAWSResource": True,
                   "kms:CallerAccount": account}
        try:
            refused = [a for a in actions if not kms_is_allowed(policy, [], as_principal(arn, a, "*", context))]
        except UnsupportedPolicy as exc:
            yield f"the key policy cannot be judged: {exc}"
            return
        if refused:
            yield (f"{role_name} cannot {', '.join(refused)}: its AWS-managed policy grants nothing on customer "
                   f"managed keys, so the key policy must name the role as principal (not the account)")
        if not _created_first(stack, conf, service, role_name):
            yield (f"the key does not depend on {role_name} (aws_iam_service_linked_role or data.aws_iam_role): "
                   "KMS refuses a key policy naming a role that does not exist yet")


def _created_first(stack: Stack, conf: dict, service: str, role_name: str) -> bool:
    for dependency in as_list(conf.get("depends_on")):
        rtype, _, logical = str(dependency).rpartition(".")
        if rtype == "aws_iam_service_linked_role":
            role = stack.resources(rtype).get(logical) or {}
            if role.get("aws_service_name") == service:
                return True
        if rtype == "data.aws_iam_role" and (stack.data("aws_iam_role").get(logical) or {}).get("name") == role_name:
            return True
    return False
