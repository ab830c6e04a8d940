"""AWS Backup backs up a resource type only where the region is opted in to it.

The governance stack's backup selection picks resources by ARN pattern and the environment's Backup tag;
AWS Backup then skips every resource whose type the region has opted out of (AWS Backup developer guide,
"Getting started: service opt-in"). Nothing in the stacks sets the opt-ins: `aws_backup_region_settings`
takes the whole map and would overrule the account's other services' choices. So preflight reads them
(`DescribeRegionSettings`) wherever a stack declares what a selection picks, and fails while a type is
opted out: the resource would silently go without backups while the plan and the Config rules count on them.

- Aurora: the training data store, picked by `arn:aws:rds:<region>:<account>:cluster:*`, a format Aurora
  shares with RDS Multi-AZ clusters; AWS Backup includes Aurora only with Aurora's opt-in on (shared
  resource types).
- EC2 and EBS: the GPU fleets' instances and volumes, where `governance.backup.gpu_fleets` selects
  `instance/*` and `volume/*` (what a launch template launches).
"""
from __future__ import annotations

from typing import Callable

from policies.checks.aegis_values import as_list
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

CHECK_ID = "account.backup-aurora-opt-in"
TITLE = "AWS Backup is opted in to Aurora (the training data store's backups)"
FLEET_CHECK_ID = "account.backup-ec2-opt-in"
FLEET_TITLE = "AWS Backup is opted in to EC2 and EBS (the GPU fleets' backups)"


def _selected(ctx: Context, resource_type: str, arn_part: str) -> bool:
    declared = any(True for _ in ctx.stack_resources(resource_type))
    by_arn = any(arn_part in str(arn) for _, _, conf in ctx.stack_resources("aws_backup_selection")
                 for arn in as_list(conf.get("resources")))
    return declared and by_arn


def _opted_in(ctx: Context, check_id: str, title: str, types: tuple[str, ...], skipped: str) -> list[Check]:
    region = ctx.config.region

    def judge() -> Check:
        settings = ctx.aws.client("backup", region).describe_region_settings()
        preference = settings.get("ResourceTypeOptInPreference") or {}
        off = [t for t in types if preference.get(t) is not True]
        if not off:
            return Check(check_id, title, "pass", f"{' and '.join(types)} opted in to AWS Backup in {region}")
        states = ", ".join(f"{t} {'opted out' if t in preference else 'not listed'}" for t in off)
        return Check(check_id, title, "fail",
                     f"AWS Backup resource type opt-in in {region}: {states}; the backup plan would skip {skipped}",
                     f"aws backup update-region-settings --region {region} --resource-type-opt-in-preference "
                     + ",".join(f"{t}=true" for t in off))

    return attempt(check_id, title, judge)


def aurora_opt_in(ctx: Context) -> list[Check]:
    if not _selected(ctx, "aws_rds_cluster", ":cluster:"):
        return []
    return _opted_in(ctx, CHECK_ID, TITLE, ("Aurora",), "the training data store (its cluster:* selection)")


def fleet_opt_in(ctx: Context) -> list[Check]:
    if not (_selected(ctx, "aws_launch_template", ":instance/") or _selected(ctx, "aws_launch_template", ":volume/")):
        return []
    return _opted_in(ctx, FLEET_CHECK_ID, FLEET_TITLE, ("EC2", "EBS"), "the GPU fleets' instances and volumes")


PROBES: list[tuple[str, str, Callable[[Context], list[Check]]]] = [
    (CHECK_ID, "AWS Backup opt-in for Aurora", aurora_opt_in),
    (FLEET_CHECK_ID, "AWS Backup opt-in for EC2 and EBS", fleet_opt_in),
]
