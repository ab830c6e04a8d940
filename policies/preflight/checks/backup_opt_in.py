"""AWS Backup backs up the training data store only where the account opted in to Aurora.

The governance stack's backup selection picks the Aurora cluster by `arn:aws:rds:<region>:<account>:cluster:*`,
an ARN format Aurora shares with RDS Multi-AZ clusters; AWS Backup then includes Aurora only when the
region's resource-type opt-in for Aurora is on (AWS Backup developer guide, "Assign resources", shared
resource types). Nothing in the stacks sets it: `aws_backup_region_settings` takes the whole map and would
overrule the account's other services' choices. So preflight reads it (`DescribeRegionSettings`) wherever a
stack declares an Aurora cluster and a selection of `cluster:*`, and fails while Aurora is opted out: the
store would silently go without backups while the plan and the Config rules count on them.
"""
from __future__ import annotations

from policies.checks.aegis_values import as_list
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

CHECK_ID = "account.backup-aurora-opt-in"
TITLE = "AWS Backup is opted in to Aurora (the training data store's backups)"


def _selects_clusters(ctx: Context) -> bool:
    clusters = any(True for _ in ctx.stack_resources("aws_rds_cluster"))
    by_arn = any(":cluster:" in str(arn) for _, _, conf in ctx.stack_resources("aws_backup_selection")
                 for arn in as_list(conf.get("resources")))
    return clusters and by_arn


def aurora_opt_in(ctx: Context) -> list[Check]:
    if not _selects_clusters(ctx):
        return []
    region = ctx.config.region

    def judge() -> Check:
        settings = ctx.aws.client("backup", region).describe_region_settings()
        preference = settings.get("ResourceTypeOptInPreference") or {}
        if preference.get("Aurora") is True:
            return Check(CHECK_ID, TITLE, "pass", f"Aurora is opted in to AWS Backup in {region}")
        state = "opted out" if "Aurora" in preference else "not listed"
        return Check(CHECK_ID, TITLE, "fail",
                     f"AWS Backup resource type opt-in for Aurora is {state} in {region}: the backup plan's "
                     "cluster:* selection would skip the training data store",
                     f"aws backup update-region-settings --region {region} "
                     "--resource-type-opt-in-preference Aurora=true")

    return attempt(CHECK_ID, TITLE, judge)


PROBES = [(CHECK_ID, "AWS Backup opt-in for Aurora", aurora_opt_in)]
