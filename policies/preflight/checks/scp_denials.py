"""Whether a service control policy (or the deployer role's own policies) already denies what the stacks
create. IAM's policy simulator evaluates the deployer role for the create action of every resource type the
environment's synthesized stacks declare, per region (aws:RequestedRegion), and reports for each whether the
organisation's SCPs allow it (`OrganizationsDecisionDetail`). An SCP denial fails: no permission of the
account can lift it. A denial by the role's own policies is a warning: the simulation sees no resource
ARNs or request tags, so conditions on them can deny here what the apply would be allowed.
"""
from __future__ import annotations

from functools import partial

from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

# The call Terraform makes to create each resource type (the action an SCP would deny).
CREATE_ACTIONS = {
    "aws_accessanalyzer_analyzer": "access-analyzer:CreateAnalyzer",
    "aws_autoscaling_group": "autoscaling:CreateAutoScalingGroup",
    "aws_backup_vault": "backup:CreateBackupVault",
    "aws_ce_anomaly_monitor": "ce:CreateAnomalyMonitor",
    "aws_cloudfront_distribution": "cloudfront:CreateDistribution",
    "aws_cloudtrail": "cloudtrail:CreateTrail",
    "aws_config_configuration_recorder": "config:PutConfigurationRecorder",
    "aws_dynamodb_table": "dynamodb:CreateTable",
    "aws_ecr_repository": "ecr:CreateRepository",
    "aws_efs_file_system": "elasticfilesystem:CreateFileSystem",
    "aws_guardduty_detector": "guardduty:CreateDetector",
    "aws_iam_role": "iam:CreateRole",
    "aws_inspector2_enabler": "inspector2:Enable",
    "aws_kms_key": "kms:CreateKey",
    "aws_lambda_function": "lambda:CreateFunction",
    "aws_lb": "elasticloadbalancing:CreateLoadBalancer",
    "aws_macie2_account": "macie2:EnableMacie",
    "aws_organizations_policy": "organizations:CreatePolicy",
    "aws_s3_bucket": "s3:CreateBucket",
    "aws_sagemaker_endpoint": "sagemaker:CreateEndpoint",
    "aws_securityhub_account": "securityhub:EnableSecurityHub",
    "aws_vpc": "ec2:CreateVpc",
    "aws_wafv2_web_acl": "wafv2:CreateWebACL",
}
TITLE = "No SCP denies what the stacks create"


def actions_by_region(ctx: Context) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for stack, _, conf, rtype in _declared(ctx):
        action = CREATE_ACTIONS.get(rtype)
        if action:
            wanted.setdefault(_region(ctx.stacks[stack], conf, ctx.config.region), set()).add(action)
    return wanted


def _declared(ctx: Context):
    for rtype in CREATE_ACTIONS:
        for stack, name, conf in ctx.stack_resources(rtype):
            yield stack, name, conf, rtype


def _region(doc: dict, conf: dict, default: str) -> str:
    """A resource's region: its own `region` argument, else its provider's (aliases from the stack's providers)."""
    if conf.get("region"):
        return str(conf["region"])
    alias = str(conf.get("provider", "")).removeprefix("aws.") or None
    providers = (doc.get("provider") or {}).get("aws", [])
    return next((str(p.get("region")) for p in providers if p.get("alias") == alias and p.get("region")), default)


def scp_denials(ctx: Context) -> list[Check]:
    checks: list[Check] = []
    for region, actions in sorted(actions_by_region(ctx).items()):
        checks += attempt(f"scp.{region}", TITLE, partial(_simulate, ctx, region, sorted(actions)))
    return checks


def _simulate(ctx: Context, region: str, actions: list[str]) -> list[Check]:
    role = ctx.config.deployer_role_arn
    pages = ctx.aws.client("iam", "us-east-1").get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=role, ActionNames=actions,
        ContextEntries=[{"ContextKeyName": "aws:RequestedRegion", "ContextKeyValues": [region],
                         "ContextKeyType": "string"}])
    results = [r for page in pages for r in page.get("EvaluationResults", [])]
    by_scp = sorted(r["EvalActionName"] for r in results
                    if (r.get("OrganizationsDecisionDetail") or {}).get("AllowedByOrganizations") is False)
    by_role = sorted(r["EvalActionName"] for r in results
                     if r.get("EvalDecision") != "allowed" and r["EvalActionName"] not in by_scp)
    checks = []
    if by_scp:
        checks.append(Check(f"scp.{region}", TITLE, "fail",
                            f"an SCP denies {', '.join(by_scp)} in {region}: the apply fails there",
                            "exempt the deployer role in the SCP (or move the account to an OU whose SCPs allow it), "
                            "or leave the service to its central owner (governance.central)"))
    else:
        checks.append(Check(f"scp.{region}", TITLE, "pass",
                            f"the SCPs allow the {len(actions)} create actions the stacks need in {region}"))
    if by_role:
        checks.append(Check(f"deployer-policy.{region}", "The deployer role's policies allow what the stacks create",
                            "warn", f"{role} is not allowed {', '.join(by_role)} in {region} by its own policies "
                                    "(simulated without resource ARNs or tags)",
                            "grant them to the deployer role, or confirm the conditions that deny them here"))
    return checks


PROBES = [("scp", TITLE, scp_denials)]
