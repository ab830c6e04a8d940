"""Who preflight runs as: the caller's account is the environment's, the deployer role can be assumed,
and the environment's regions are enabled for the account (opt-in regions are off until enabled)."""
from __future__ import annotations

from policies.preflight.aws import Caller
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

ENABLED = ("opt-in-not-required", "opted-in")


def account_check(caller: Caller, env: str, account_id: str) -> Check:
    title = "The credentials belong to the environment's account"
    if caller.account_id == account_id:
        return Check("identity.account", title, "pass", f"{caller.arn} is in account {account_id}")
    return Check("identity.account", title, "fail",
                 f"the credentials are for account {caller.account_id} ({caller.arn}), but environment {env} is "
                 f"account {account_id}: every call would read (and an apply would change) the wrong account",
                 f"use credentials of account {account_id} (e.g. AWS_PROFILE of that account), or pick the "
                 "environment of this account with --env")


def role_check(role_arn: str, assumed: bool, problem: str = "") -> Check:
    title = "The deployer role can be assumed"
    if problem:
        return Check("identity.deployer-role", title, "fail", f"assuming {role_arn} failed: {problem}",
                     f"let the caller assume {role_arn} (its trust policy and the caller's sts:AssumeRole), or run "
                     "preflight with --no-assume to read as the caller")
    if not assumed:
        return Check("identity.deployer-role", title, "warn",
                     f"not tried (--no-assume): the checks ran as the caller, Terraform will run as {role_arn}")
    return Check("identity.deployer-role", title, "pass", f"assumed {role_arn}")


def regions(ctx: Context) -> list[Check]:
    wanted = sorted({ctx.config.region, ctx.config.dr_region})
    title = "The environment's regions are enabled"

    def judge() -> list[Check]:
        listed = ctx.aws.client("ec2").describe_regions(AllRegions=True, RegionNames=wanted)["Regions"]
        status = {r["RegionName"]: r.get("OptInStatus", "opt-in-not-required") for r in listed}
        checks = []
        for region in wanted:
            state = status.get(region, "unknown")
            check_id = f"identity.region.{region}"
            if state in ENABLED:
                checks.append(Check(check_id, title, "pass", f"{region} is enabled ({state})"))
            elif state == "opting-in":
                checks.append(Check(check_id, title, "warn", f"{region} is being enabled (opting-in)",
                                    "wait until the region shows opted-in, then apply"))
            else:
                checks.append(Check(check_id, title, "fail", f"{region} is not enabled for the account ({state})",
                                    f"aws account enable-region --region-name {region}"))
        return checks

    return attempt("identity.regions", title, judge)


PROBES = [("identity.regions", "The environment's regions are enabled", regions)]
