"""Resources whose names Aegis fixes and that an account may already hold under the same name (left by an
earlier deployment or created by hand): backup vaults (primary and DR region) and the CloudTrail trail.
The names come from the synthesized stacks. Creating them again fails with "already exists"."""
from __future__ import annotations

from botocore.exceptions import ClientError

from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt, found_in_state
from policies.preflight.model import Check

TRAIL_MISSING = {"TrailNotFoundException", "CloudTrailARNInvalidException"}


def _region(ctx: Context, conf: dict) -> str:
    return ctx.config.dr_region if str(conf.get("provider", "")).endswith(".dr") else ctx.config.region


def backup_vaults(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for _, _, conf in ctx.stack_resources("aws_backup_vault"):
        name, region = str(conf["name"]), _region(ctx, conf)
        check_id, title = f"named.backup-vault.{region}", f"No backup vault named {name} in {region}"

        def judge(name=name, region=region, check_id=check_id, title=title) -> Check:
            if name not in _vault_names(ctx, region):
                return Check(check_id, title, "pass", f"no vault {name} in {region}: Aegis creates it")
            if found_in_state(ctx, "aws_backup_vault"):
                return Check(check_id, title, "pass", f"{name}: already in this environment's Terraform state")
            return Check(check_id, title, "fail", f"a backup vault named {name} already exists in {region}",
                         f"if it is left over and empty: aws backup delete-backup-vault --backup-vault-name {name} "
                         f"--region {region}; otherwise rename the environment (a vault lock can make it permanent)")

        checks += attempt(check_id, title, judge)
    return checks


def _vault_names(ctx: Context, region: str) -> set[str]:
    pages = ctx.aws.client("backup", region).get_paginator("list_backup_vaults").paginate()
    return {str(v["BackupVaultName"]) for page in pages for v in page.get("BackupVaultList", [])}


def trails(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for _, _, conf in ctx.stack_resources("aws_cloudtrail"):
        name, region = str(conf["name"]), _region(ctx, conf)
        check_id, title = f"named.trail.{name}", f"No CloudTrail trail named {name}"

        def judge(name=name, region=region, check_id=check_id, title=title) -> Check:
            try:
                trail = ctx.aws.client("cloudtrail", region).get_trail(Name=name)["Trail"]
            except ClientError as exc:
                if error_code(exc) in TRAIL_MISSING:
                    return Check(check_id, title, "pass", f"no trail {name}: Aegis creates it")
                raise
            if found_in_state(ctx, "aws_cloudtrail"):
                return Check(check_id, title, "pass", f"{name}: already in this environment's Terraform state")
            return Check(check_id, title, "fail", f"a trail named {name} already exists ({trail.get('TrailARN')})",
                         f"delete it (aws cloudtrail delete-trail --name {name} --region {region}) once its logs are "
                         "kept elsewhere, or rename the environment")

        checks += attempt(check_id, title, judge)
    return checks


PROBES = [("named.backup-vault", "Backup vault names", backup_vaults),
          ("named.trail", "CloudTrail trail names", trails)]
