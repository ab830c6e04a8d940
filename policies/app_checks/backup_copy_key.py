"""AEGIS_BACKUP_COPY_KEY_ADMITS: the key of a backup plan's copy destination lets the plan's role make the copy.

AWS Backup re-encrypts a copy in another region under the destination vault's key, and the KMS requests
come through the service that owns the recovery point there: RDS for RDS and Aurora snapshots, EC2 for
AMIs and EBS snapshots, AWS Backup itself for the types it fully manages (DynamoDB with advanced backup,
EFS, S3). A key policy that denies the plan's role through that service (Aegis's keys deny every role
outside its kms:ViaService list) lets every backup succeed and every copy fail, so the DR copy the plan
promises never exists. For each plan rule's copy action, each selection of the plan and each resource
type it picks, the destination key's policy must allow the role (itself, or its account: delegation to IAM)
every call a copy makes, through `<service>.<destination region>.amazonaws.com`, and deny none. A key, role,
region, selection or resource type this check cannot resolve fails: never passed unjudged.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import key_policy, key_resource, region_of, role_arn
from policies.app_checks.view import AppView, Env, Stack, nested, ref
from policies.checks.aegis_values import as_list
from policies.iam_eval import ALLOW, DENY, UnsupportedPolicy, as_principal, evaluate

# ARN prefix of what a selection picks → the service that owns its recovery points' copies.
COPY_SERVICES = (("arn:aws:rds:", "rds"), ("arn:aws:ec2:", "ec2"), ("arn:aws:dynamodb:", "backup"),
                 ("arn:aws:elasticfilesystem:", "backup"), ("arn:aws:s3:", "backup"))
# The condition keys a copy's requests carry, as far as this check models them (any other key fails closed).
MODELED_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "aws:principalisawsservice", "kms:viaservice",
                          "kms:grantisforawsresource", "kms:calleraccount"})
# What re-encrypting a copy asks of the destination key (the key policies deny these outside ViaService).
COPY_ACTIONS = ("kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo")


@app_check("AEGIS_BACKUP_COPY_KEY_ADMITS",
           "A backup plan's copy destination key lets the plan's role copy what the plan selects")
def backup_copy_key_admits(app: AppView):
    for env in app.envs:
        for stack, name, plan in env.resources("aws_backup_plan"):
            destinations = [c.get("destination_vault_arn") for rule in nested(plan, "rule")
                            for c in nested(rule, "copy_action")]
            if destinations:
                yield judge(stack.name, f"aws_backup_plan.{name}", _problems(env, stack, name, destinations),
                            "the copy destination's key admits the plan's role through each selected type's service")


def _problems(env: Env, stack: Stack, plan_name: str, destinations: list) -> Iterator[str]:
    selections = []
    for selection_stack, _, selection in env.resources("aws_backup_selection"):
        found = ref(selection.get("plan_id"))
        if found is None or found[0] != "aws_backup_plan" or selection_stack.lookup(*found[:2]) is None:
            yield f"selection {selection.get('name')!r}: its plan cannot be resolved, so it may copy: not judged"
        elif selection_stack is stack and found[1] == plan_name:
            selections.append(selection)
    if not selections:
        yield "no aws_backup_selection of this stack references the plan: what it copies is not judged"
    for raw in destinations:
        vault = stack.target(raw, "aws_backup_vault")
        if vault is None:
            yield f"copy destination {raw!r} is not a vault of this stack: not judged"
            continue
        vault_name, vault_conf = vault
        region = region_of(stack, vault_conf)
        key = key_resource(env, stack, vault_conf.get("kms_key_arn"))
        if key is None or region is None:
            yield f"aws_backup_vault.{vault_name}: its key or region cannot be resolved: not judged"
            continue
        key_stack, key_name, key_conf = key
        for selection in selections:
            yield from _selection_problems(env, stack, selection, region,
                                           (f"{key_stack.name}/aws_kms_key.{key_name} (the key of "
                                            f"aws_backup_vault.{vault_name})", key_policy(key_stack, key_name, key_conf)))


def _selection_problems(env: Env, stack: Stack, selection: dict, region: str, key: tuple[str, object]) -> Iterator[str]:
    name = selection.get("name")
    role = role_arn(env, stack, selection.get("iam_role_arn"))
    patterns = [str(p) for p in as_list(selection.get("resources"))]
    if role is None:
        yield f"selection {name!r}: its role cannot be resolved: not judged"
        return
    if nested(selection, "selection_tag") or not patterns:
        yield f"selection {name!r} picks by tag alone (no resource patterns), so what it copies is not judged"
        return
    label, policy = key
    for pattern in patterns:
        service = next((svc for prefix, svc in COPY_SERVICES if pattern.startswith(prefix)), None)
        if service is None:
            yield f"selection {name!r} picks {pattern}, whose copy path is not judged"
            continue
        refused = _refused(policy, role, f"{service}.{region}.amazonaws.com")
        if refused:
            yield f"{label} {refused} to {role} through {service}.{region}.amazonaws.com, which copies {pattern}"


def _refused(policy, role: str, via: str) -> str | None:
    """What the key policy does not allow of a copy's calls (a phrase), or None. The key policy must allow each
    call itself (naming the role, or the account: delegation to IAM, whose AWS managed policy grants it)."""
    if not isinstance(policy, str) or "${" in policy:
        return "has a policy that is not literal (not judged), so it may refuse the copy"
    context = {"kms:ViaService": via, "kms:GrantIsForAWSResource": True, "kms:CallerAccount": role.split(":")[4]}
    try:
        decisions = {a: evaluate([policy], replace(as_principal(role, a, "*", context), known_keys=MODELED_KEYS))
                     for a in COPY_ACTIONS}
    except UnsupportedPolicy as error:
        return f"has a policy this check cannot evaluate ({error}), so it may refuse the copy"
    denied = [a for a, d in decisions.items() if d == DENY]
    if denied:
        return f"denies {', '.join(denied)}"
    unallowed = [a for a, d in decisions.items() if d != ALLOW]
    return f"allows neither the role nor its account {', '.join(unallowed)}" if unallowed else None
