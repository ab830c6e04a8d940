"""RDS enhanced monitoring's `RDSOSMetrics` log group, which `<env>-platform` owns with the data store.

AWS names it once per account and region, and the first RDS instance with enhanced monitoring creates it:
an account that already runs one has it, and creating it again fails the first apply. Adopting it
(`governance.adopt.rds_os_metrics_log_group: true`) imports it instead, and the apply then sets the audit
key and the environment's retention on it. A group already encrypted with this environment's audit key is
its own (an earlier apply).
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from policies.preflight.aws import error_code
from policies.preflight.context import Context, adopt_key, attempt
from policies.preflight.model import Check

GROUP = "RDSOSMetrics"
KEY = "rds_os_metrics_log_group"
CHECK_ID = "singleton.rds_os_metrics_log_group"


def _declared(ctx: Context) -> bool:
    return any(conf.get("name") == GROUP for _, _, conf in ctx.stack_resources("aws_cloudwatch_log_group"))


def _existing(ctx: Context, region: str) -> dict | None:
    pages = ctx.aws.client("logs", region).get_paginator("describe_log_groups").paginate(logGroupNamePrefix=GROUP)
    return next((g for page in pages for g in page.get("logGroups", []) if g.get("logGroupName") == GROUP), None)


def _audit_key_arn(ctx: Context, region: str) -> str | None:
    try:
        return str(ctx.aws.client("kms", region).describe_key(
            KeyId=ctx.naming.kms_alias_arn("audit", region))["KeyMetadata"]["Arn"])
    except ClientError as exc:
        if error_code(exc) == "NotFoundException":
            return None  # before `<env>-data`'s first apply
        raise


def os_metrics_group(ctx: Context) -> list[Check]:
    if not _declared(ctx):
        return []
    region = ctx.config.region
    check_id, title = f"{CHECK_ID}.{region}", f"No conflicting {GROUP} log group in {region}"
    adopted = bool(getattr(ctx.config.governance.adopt, KEY))

    def judge() -> Check:
        group = _existing(ctx, region)
        if group is None:
            if adopted:
                return Check(check_id, title, "fail", f"{adopt_key(KEY)} is set, but {region} has no {GROUP} log "
                                                      "group: the import would fail", f"remove {adopt_key(KEY)}")
            return Check(check_id, title, "pass", f"no {GROUP} in {region}: Aegis creates it")
        key = group.get("kmsKeyId")
        now = (f"{GROUP} exists in {region} ({'key ' + key if key else 'no customer key'}, "
               f"retention {group.get('retentionInDays') or 'never expires'})")
        if adopted:
            return Check(check_id, title, "pass", f"{now}: adopted ({adopt_key(KEY)}); the first apply imports it "
                                                  "and sets the audit key and the environment's retention")
        if key and key == _audit_key_arn(ctx, region):
            return Check(check_id, title, "pass", f"{now}: encrypted with this environment's audit key, its own")
        return Check(check_id, title, "fail",
                     f"{now}, written by the account's other RDS instances with enhanced monitoring: creating it fails",
                     f"adopt it: {adopt_key(KEY)}: true", ((adopt_key(KEY), True),))

    return attempt(check_id, title, judge)


PROBES = [(CHECK_ID, f"{GROUP} log group", os_metrics_group)]
