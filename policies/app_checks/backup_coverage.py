"""Which resources an AWS Backup plan covers: the judgments behind the `*_IN_BACKUP_PLAN` and
`*_RESOURCES_PROTECTED_BY_BACKUP_PLAN` rules of AEGIS_CONFIG_RULE_KNOWN_VIOLATION.

A resource is covered when an aws_backup_selection of its region names an ARN pattern that matches it,
excludes it with no `not_resources` pattern, and every `string_equals` / `string_like` condition holds on
its tags. A selection this cannot read (tag-based `selection_tag`, other operators, references) makes the
resource "not judged", which fails.

Some resources do not exist when the app is synthesized, so they are judged as AWS Config will see them:
- EC2 instances and EBS volumes an Auto Scaling group launches from a launch template, with the tags they get
  at launch: a volume those of the template's `volume` tag specification (Auto Scaling does not tag
  volumes), an instance those of its `instance` tag specification overridden by the tags its group
  propagates at launch (AWS documents that the group's value wins). Provider default tags reach neither.
- The home file system a SageMaker domain creates, which SageMaker tags `ManagedByAmazonSageMakerResource`
  with the domain's ARN (its id is known only after apply: only a `domain/*` pattern can match it).
Instances and volumes of aws_instance and aws_ebs_volume, file systems and tables are judged with their
effective tags.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from policies.app_checks.deployed_rules import DeployedRule, tags_in_scope, wanted_tags
from policies.app_checks.lookups import attached, effective_tags, region_of
from policies.app_checks.view import Env, Stack, nested, one
from policies.checks.aegis_values import as_list, is_true
from policies.iam_eval import wildcard_match

STUDIO_TAG = "ManagedByAmazonSageMakerResource"  # SageMaker's tag on a domain's home file system
# The id part of an ARN known only after apply: only a wildcard matches it.
UNKNOWN_ID = "created-at-apply"
TEMPLATE_REFERENCE = re.compile(r"(?<![\w.])aws_launch_template\.([A-Za-z0-9_-]+)\.")
READ_OPERATORS = {"string_equals": lambda pattern, value: pattern == value,
                  "string_like": lambda pattern, value: wildcard_match(pattern, value)}


@dataclass(frozen=True)
class Covered:
    """A resource as AWS Config and AWS Backup will see it: where it comes from, its ARN, region and tags."""
    label: str
    cfn_type: str
    region: str | None
    arn: str
    tags: dict[str, str]
    problem: str | None = None  # why it cannot be judged
    name: str | None = None  # its literal identifier (bucket name, cluster identifier, table name), when it has one


def selects(selection: dict, arn: str, tags: dict[str, str]) -> bool | None:
    """Whether an aws_backup_selection picks the resource; None when its shape is not judged here."""
    conditions = [(op, entry) for c in nested(selection, "condition") for op in c for entry in nested(c, op)]
    patterns = [str(p) for key in ("resources", "not_resources") for p in as_list(selection.get(key))]
    literal = [str(v) for _, e in conditions for v in (e.get("key"), e.get("value"))] + patterns
    if (nested(selection, "selection_tag") or any(op not in READ_OPERATORS for op, _ in conditions)
            or any("${" in v for v in literal)):
        return None
    if not any(wildcard_match(str(p), arn) for p in as_list(selection.get("resources"))):
        return False
    if any(wildcard_match(str(p), arn) for p in as_list(selection.get("not_resources"))):
        return False
    for op, entry in conditions:
        key = str(entry.get("key", ""))
        if not key.startswith("aws:ResourceTag/"):
            return None
        value = tags.get(key.split("/", 1)[1])
        if value is None or not READ_OPERATORS[op](str(entry.get("value")), value):
            return False
    return True


def uncovered(env: Env, label: str, region: str | None, arn: str, tags: dict[str, str],
              described: str | None = None) -> Iterator[str]:
    """A finding when no backup selection of `region` picks the resource (or one cannot be read)."""
    if region is None:
        yield f"{label} (its region is not literal: not judged)"
        return
    verdicts = [selects(conf, arn, tags) for stack, _, conf in env.resources("aws_backup_selection")
                if region_of(stack, conf) == region]
    if None in verdicts:
        yield f"{label} (a backup selection uses tags or conditions this check does not read: not judged)"
    elif not any(verdicts):
        yield f"{label} (no AWS Backup selection of its region picks {described or arn})"


# ---- the rules ---------------------------------------------------------------------------------------

def instances_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, launched_resources(env, "instance"))


def volumes_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, launched_resources(env, "volume"))


def buckets_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, buckets(env))


def clusters_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    # Aurora is backed up per cluster; the instance-level RDS_IN_BACKUP_PLAN follows its cluster.
    yield from _outside_backup_plans(env, rule, clusters(env))


def file_systems_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, file_systems(env))


def tables_outside_backup_plans(env: Env, rule: DeployedRule) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, tables(env))


def _outside_backup_plans(env: Env, rule: DeployedRule, resources: Iterator[Covered]) -> Iterator[str]:
    wanted = wanted_tags(rule)
    if wanted is None:
        yield f"resourceTags {rule.parameters.get('resourceTags')!r} is not a literal JSON map of tags: not judged"
        return
    named = rule.resource_id if rule.resource_id is not None else rule.parameters.get("resourceId")
    if named is not None and "${" in str(named):
        yield f"the rule names resource {named!r}, which is not literal: not judged"
        return
    for item in resources:
        if named is not None and item.name != named:
            continue  # one named resource: an id the app's resources get only at apply cannot be it
        if rule.resource_types and item.cfn_type not in rule.resource_types:
            continue
        if item.region is not None and rule.region is not None and item.region != rule.region:
            continue
        if item.problem is not None or item.region is None:
            yield f"{item.label} ({item.problem or 'its region is not literal'}: not judged)"
            continue
        if not tags_in_scope(rule, item.tags) or any(item.tags.get(k) != v for k, v in wanted.items()):
            continue
        described = "it" if UNKNOWN_ID in item.arn else None
        yield from uncovered(env, item.label, item.region, item.arn, item.tags, described)


# ---- what the app creates or launches ----------------------------------------------------------------

def launched_resources(env: Env, kind: str) -> Iterator[Covered]:
    """Every EC2 `kind` (instance or volume) the app's resources create or launch."""
    cfn_type = {"instance": "AWS::EC2::Instance", "volume": "AWS::EC2::Volume"}[kind]
    account = env.config.account_id

    def arn(region: str | None) -> str:
        return f"arn:aws:ec2:{region}:{account}:{kind}/{UNKNOWN_ID}"

    templates = {(id(stack), name): (stack, conf) for stack, name, conf in env.resources("aws_launch_template")}
    used: set[tuple[int, str]] = set()
    for stack, name, group in env.resources("aws_autoscaling_group"):
        label, region = f"{stack.name}/aws_autoscaling_group.{name} ({kind}s it launches)", region_of(stack, group)
        linked = _templates_of(stack, group, templates)
        used.update((id(stack), t) for t in linked)
        if not linked:
            why = ("it launches from a launch configuration" if group.get("launch_configuration")
                   else "its launch template cannot be resolved")
            yield Covered(label, cfn_type, region, arn(region), {}, why)
            continue
        propagated = _propagated_tags(stack, name, group) if kind == "instance" else {}
        for template_name in sorted(linked):
            specified = _specified_tags(templates[(id(stack), template_name)][1], kind)
            tags = None if specified is None or propagated is None else {**specified, **propagated}
            yield _covered(label, cfn_type, region, arn(region), tags)
    for (_, name), (stack, conf) in templates.items():
        if (id(stack), name) not in used:  # launched by hand or by another tool: its own tags only
            region = region_of(stack, conf)
            yield _covered(f"{stack.name}/aws_launch_template.{name} ({kind}s it launches)", cfn_type, region,
                           arn(region), _specified_tags(conf, kind))
    for stack, name, conf in env.resources("aws_instance"):
        label, region = f"{stack.name}/aws_instance.{name}", region_of(stack, conf)
        if kind == "instance":
            yield _covered(label, cfn_type, region, arn(region), effective_tags(stack, conf))
            continue
        # volume_tags reach every volume at creation, a root block device may add its own; default tags do not
        own, root = conf.get("volume_tags") or {}, (one(conf, "root_block_device") or {}).get("tags") or {}
        tags = {**own, **root} if isinstance(own, dict) and isinstance(root, dict) else None
        yield _covered(f"{label} (its volumes)", cfn_type, region, arn(region), tags)
    if kind == "volume":
        for stack, name, conf in env.resources("aws_ebs_volume"):
            region = region_of(stack, conf)
            yield _covered(f"{stack.name}/aws_ebs_volume.{name}", cfn_type, region, arn(region),
                           effective_tags(stack, conf))


def file_systems(env: Env) -> Iterator[Covered]:
    """Every EFS file system of the app: its own, and the home file system of each SageMaker domain."""
    account = env.config.account_id
    for stack, name, conf in env.resources("aws_efs_file_system"):
        region = region_of(stack, conf)
        yield _covered(f"{stack.name}/aws_efs_file_system.{name}", "AWS::EFS::FileSystem", region,
                       f"arn:aws:elasticfilesystem:{region}:{account}:file-system/{UNKNOWN_ID}",
                       effective_tags(stack, conf))
    for stack, name, conf in env.resources("aws_sagemaker_domain"):
        region = region_of(stack, conf)
        yield _covered(f"{stack.name}/aws_sagemaker_domain.{name} (its home file system)", "AWS::EFS::FileSystem",
                       region, f"arn:aws:elasticfilesystem:{region}:{account}:file-system/{UNKNOWN_ID}",
                       {STUDIO_TAG: f"arn:aws:sagemaker:{region}:{account}:domain/{UNKNOWN_ID}"})


def tables(env: Env) -> Iterator[Covered]:
    yield from _named(env, "aws_dynamodb_table", "name", "AWS::DynamoDB::Table",
                      lambda region, table: f"arn:aws:dynamodb:{region}:{env.config.account_id}:table/{table}")


def buckets(env: Env) -> Iterator[Covered]:
    yield from _named(env, "aws_s3_bucket", "bucket", "AWS::S3::Bucket", lambda _, bucket: f"arn:aws:s3:::{bucket}")


def clusters(env: Env) -> Iterator[Covered]:
    yield from _named(env, "aws_rds_cluster", "cluster_identifier", "AWS::RDS::DBCluster",
                      lambda region, cluster: f"arn:aws:rds:{region}:{env.config.account_id}:cluster:{cluster}")


def _named(env: Env, rtype: str, attribute: str, cfn_type: str, arn_of) -> Iterator[Covered]:
    """The resources of `rtype`, named by their literal `attribute` (which their ARN carries)."""
    for stack, name, conf in env.resources(rtype):
        region, identifier = region_of(stack, conf), conf.get(attribute)
        label = f"{stack.name}/{rtype}.{name}"
        if not isinstance(identifier, str) or "${" in identifier:
            yield Covered(label, cfn_type, region, "", {}, f"{attribute} is not literal")
            continue
        yield _covered(label, cfn_type, region, arn_of(region, identifier), effective_tags(stack, conf), identifier)


def _covered(label: str, cfn_type: str, region: str | None, arn: str, tags: dict | None,
             name: str | None = None) -> Covered:
    if tags is None or not all(isinstance(k, str) and isinstance(v, str) and "${" not in k + v
                               for k, v in tags.items()):
        return Covered(label, cfn_type, region, arn, {}, "its tags are not literal", name)
    return Covered(label, cfn_type, region, arn, dict(tags), None, name)


def _specified_tags(template: dict, kind: str) -> dict | None:
    tags: dict = {}
    for spec in nested(template, "tag_specifications"):
        if spec.get("resource_type") == kind:
            own = spec.get("tags")
            if not isinstance(own, dict):
                return None
            tags.update(own)
    return tags


def _propagated_tags(stack: Stack, name: str, group: dict) -> dict | None:
    """The tags a group propagates to its instances: its `tag` blocks, then aws_autoscaling_group_tag."""
    blocks = nested(group, "tag")
    blocks += [one(conf, "tag") or {} for _, conf in attached(stack, "aws_autoscaling_group_tag",
                                                              "aws_autoscaling_group", name, group,
                                                              "autoscaling_group_name")]
    if any(not isinstance(b.get("propagate_at_launch"), (bool, str)) for b in blocks):
        return None  # propagate_at_launch is an expression
    return {str(b.get("key")): b.get("value") for b in blocks if is_true(b.get("propagate_at_launch"))}


def _templates_of(stack: Stack, group: dict, templates: dict) -> set[str]:
    """Names of the launch templates (of the group's stack) the group launches from, by reference or literal
    name; empty when any specification cannot be resolved."""
    specs = nested(group, "launch_template")
    for policy in nested(group, "mixed_instances_policy"):
        for template in nested(policy, "launch_template"):
            specs += nested(template, "launch_template_specification")
            specs += [s for o in nested(template, "override") for s in nested(o, "launch_template_specification")]
    by_name = {conf.get("name"): name for (owner, name), (_, conf) in templates.items() if owner == id(stack)}
    names: set[str] = set()
    for spec in specs:
        found = set()
        for attribute in ("id", "launch_template_id", "name", "launch_template_name"):
            raw = spec.get(attribute)
            found.update(TEMPLATE_REFERENCE.findall(str(raw or "")))
            if isinstance(raw, str) and "${" not in raw and raw in by_name:
                found.add(by_name[raw])
        found = {n for n in found if (id(stack), n) in templates}
        if not found:
            return set()
        names |= found
    return names

