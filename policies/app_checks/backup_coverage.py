"""Which resources an AWS Backup plan covers: the judgments behind the `*_IN_BACKUP_PLAN` and
`*_RESOURCES_PROTECTED_BY_BACKUP_PLAN` rules of AEGIS_CONFIG_RULE_KNOWN_VIOLATION.

A resource is covered when an aws_backup_selection of its region names an ARN pattern that matches it,
excludes it with no `not_resources` pattern, and every `string_equals` condition holds on its tags.

EC2 instances and EBS volumes do not exist when the app is synthesized: an Auto Scaling group launches
them from a launch template. What AWS Config will judge is what the template launches, with the tags the
instance and the volume get at launch:
- volume: the template's `volume` tag specification (Auto Scaling does not tag volumes);
- instance: the template's `instance` tag specification, overridden by the tags each Auto Scaling group
  that uses the template propagates at launch (AWS documents that the group's value wins).
Provider default tags reach neither, so they are not counted. Instances and volumes of aws_instance
and aws_ebs_volume resources are judged too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator, Protocol

from policies.app_checks.lookups import effective_tags, region_of
from policies.app_checks.view import Env, nested, one
from policies.checks.aegis_values import as_list, document, is_true
from policies.iam_eval import wildcard_match

# The resource type AWS Config records for each launched kind, and the ARN AWS Backup matches (an id that
# only a wildcard matches: a launched resource's id is not known before launch).
LAUNCHED = {"instance": ("AWS::EC2::Instance", "arn:aws:ec2:{region}:{account}:instance/i-launched"),
            "volume": ("AWS::EC2::Volume", "arn:aws:ec2:{region}:{account}:volume/vol-launched")}
TEMPLATE_REFERENCE = re.compile(r"\baws_launch_template\.([A-Za-z0-9_-]+)\.")


class RuleScope(Protocol):
    identifier: str
    region: str | None
    resource_types: tuple[str, ...]
    tag_key: str | None
    tag_value: str | None
    resource_id: str | None
    parameters: dict[str, Any]


def selects(selection: dict, arn: str, tags: dict[str, str]) -> bool | None:
    """Whether an aws_backup_selection picks the resource; None when its shape is not judged here."""
    if nested(selection, "selection_tag") or any(k != "string_equals" for c in nested(selection, "condition") for k in c
                                                 if nested(c, k)):
        return None
    if not any(wildcard_match(str(p), arn) for p in as_list(selection.get("resources"))):
        return False
    if any(wildcard_match(str(p), arn) for p in as_list(selection.get("not_resources"))):
        return False
    wanted = [(str(e.get("key", "")), e.get("value")) for c in nested(selection, "condition")
              for e in nested(c, "string_equals")]
    return all(k.startswith("aws:ResourceTag/") and tags.get(k.split("/", 1)[1]) == v for k, v in wanted)


def uncovered(env: Env, label: str, region: str | None, arn: str, tags: dict[str, str]) -> Iterator[str]:
    """A finding when no backup selection of `region` picks the resource (or one cannot be read)."""
    verdicts = [selects(conf, arn, tags) for stack, _, conf in env.resources("aws_backup_selection")
                if region_of(stack, conf) == region]
    if None in verdicts:
        yield f"{label} (a backup selection uses tags or conditions this check does not read: not judged)"
    elif not any(verdicts):
        yield f"{label} (no AWS Backup selection of its region picks {arn})"


@dataclass(frozen=True)
class Launched:
    """An instance or volume as AWS Config will record it: where it comes from, its region and tags."""
    label: str
    kind: str  # instance | volume
    region: str | None
    tags: dict[str, str]
    problem: str | None = None  # why its tags cannot be read


def instances_outside_backup_plans(env: Env, rule: RuleScope) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, "instance")


def volumes_outside_backup_plans(env: Env, rule: RuleScope) -> Iterator[str]:
    yield from _outside_backup_plans(env, rule, "volume")


def _outside_backup_plans(env: Env, rule: RuleScope, kind: str) -> Iterator[str]:
    raw = rule.parameters.get("resourceTags")
    wanted = document(raw) if raw is not None else {}
    if not isinstance(wanted, dict) or not all(isinstance(v, str) for v in wanted.values()):
        yield f"resourceTags {raw!r} is not a literal JSON map of tags: not judged"
        return
    if rule.resource_id is not None or rule.parameters.get("resourceId") is not None:
        return  # one named resource: nothing launched or created here has an id before apply
    cfn_type, arn_pattern = LAUNCHED[kind]
    if rule.resource_types and cfn_type not in rule.resource_types:
        return
    for launched in launched_resources(env, kind):
        if launched.region != rule.region:
            continue
        if launched.problem is not None:
            yield f"{launched.label} ({launched.problem}: not judged)"
            continue
        tags = launched.tags
        if rule.tag_key is not None and (rule.tag_key not in tags or
                                         (rule.tag_value is not None and tags[rule.tag_key] != rule.tag_value)):
            continue
        if any(tags.get(k) != v for k, v in wanted.items()):
            continue
        arn = arn_pattern.format(region=launched.region, account=env.config.account_id)
        yield from uncovered(env, launched.label, launched.region, arn, tags)


def launched_resources(env: Env, kind: str) -> Iterator[Launched]:
    """Every `kind` (instance or volume) the app's resources create or launch."""
    groups = list(env.resources("aws_autoscaling_group"))
    for stack, name, conf in env.resources("aws_launch_template"):
        label, region = f"{stack.name}/aws_launch_template.{name}", region_of(stack, conf)
        specified = _specified_tags(conf, kind)
        users = [(s, n, c) for s, n, c in groups if s is stack and name in _templates_of(c)]
        if kind == "volume" or not users:
            yield _launched(f"{label} ({kind}s it launches)", kind, region, specified)
            continue
        for group_stack, group_name, group in users:
            propagated = {str(t.get("key")): t.get("value") for t in nested(group, "tag")
                          if is_true(t.get("propagate_at_launch"))}
            tags = None if specified is None else {**specified, **propagated}
            yield _launched(f"{group_stack.name}/aws_autoscaling_group.{group_name} (instances it launches)",
                            kind, region, tags)
    for stack, name, conf in env.resources("aws_instance"):
        label, region = f"{stack.name}/aws_instance.{name}", region_of(stack, conf)
        if kind == "instance":
            yield _launched(label, kind, region, effective_tags(stack, conf))
        else:  # volume_tags reach every volume at creation; a root block device may add its own
            root = one(conf, "root_block_device") or {}
            own = conf.get("volume_tags") or {}
            tags = {**own, **(root.get("tags") or {})} if isinstance(own, dict) else None
            yield _launched(f"{label} (its volumes)", kind, region, tags)
    if kind == "volume":
        for stack, name, conf in env.resources("aws_ebs_volume"):
            yield _launched(f"{stack.name}/aws_ebs_volume.{name}", kind, region_of(stack, conf),
                            effective_tags(stack, conf))


def _launched(label: str, kind: str, region: str | None, tags: dict | None) -> Launched:
    if tags is None or not all(isinstance(v, str) and "${" not in v for v in tags.values()):
        return Launched(label, kind, region, {}, "its tags are not literal")
    return Launched(label, kind, region, dict(tags))


def _specified_tags(template: dict, kind: str) -> dict | None:
    tags: dict = {}
    for spec in nested(template, "tag_specifications"):
        if spec.get("resource_type") == kind:
            own = spec.get("tags")
            if not isinstance(own, dict):
                return None
            tags.update(own)
    return tags


def _templates_of(group: dict) -> set[str]:
    """Names of the aws_launch_template resources an Auto Scaling group launches from (by reference)."""
    specs = nested(group, "launch_template")
    for policy in nested(group, "mixed_instances_policy"):
        for template in nested(policy, "launch_template"):
            specs += nested(template, "launch_template_specification")
    return {name for spec in specs for attribute in ("id", "launch_template_id", "name", "launch_template_name")
            for name in TEMPLATE_REFERENCE.findall(str(spec.get(attribute) or ""))}
