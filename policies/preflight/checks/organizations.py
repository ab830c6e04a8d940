"""Organizations and Identity Center against what the config assumes.

- The account's place in the organisation: management account, delegated administrator for
  Organizations policies, member, or standalone. SCPs never apply to the management account, so an
  environment there gets no protection from them; managing SCPs (`access.organization.manage_scps`)
  needs the management account or a delegated administrator, the declared `management_account_id`
  must be the real one, and the SCP policy type must be enabled on the root.
- Identity Center: human personas trusted in `identity-center` mode need an Identity Center instance
  (in the identity account); one in this account while personas trust IAM users is worth knowing.
"""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from modules.access.personas import workload_pattern
from modules.access.settings import WORKLOAD_PERSONAS
from policies.preflight.aws import error_code, is_access_denied
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

TITLE = "The account's place in the organisation matches the config"


def organization(ctx: Context) -> list[Check]:
    return attempt("organizations.account", TITLE, lambda: _judge(ctx))


def _judge(ctx: Context) -> list[Check]:
    org_settings = ctx.config.access.organization
    client = ctx.aws.client("organizations")
    try:
        org = client.describe_organization()["Organization"]
    except ClientError as exc:
        if error_code(exc) != "AWSOrganizationsNotInUseException":
            raise
        if org_settings.manage_scps:
            return [Check("organizations.account", TITLE, "fail",
                          f"account {ctx.account_id} is in no organisation, but access.organization.manage_scps is "
                          "true: there are no SCPs to manage", "set access.organization.manage_scps: false")]
        return [Check("organizations.account", TITLE, "pass", "standalone account (no organisation); no SCPs managed")]
    management = str(org["MasterAccountId"])
    checks = [_role(ctx, client, management)]
    declared = org_settings.management_account_id
    if declared is not None and declared != management:
        checks.append(Check("organizations.management-account", "The declared management account is the real one",
                            "fail", f"access.organization.management_account_id is {declared}, the organisation's "
                                    f"management account is {management}",
                            f"set access.organization.management_account_id: \"{management}\"",
                            (("access.organization.management_account_id", management),)))
    if org_settings.manage_scps and checks[0].status == "pass":  # only an administrator may list the roots
        checks.extend(attempt("organizations.scp-policy-type", "SCPs are enabled on the root",
                              lambda: _scp_type(client)))
    return checks


def _role(ctx: Context, client, management: str) -> Check:
    manage = ctx.config.access.organization.manage_scps
    if ctx.account_id == management:
        return Check("organizations.account", TITLE, "fail" if manage else "warn",
                     f"account {ctx.account_id} is the organisation's management account: SCPs never apply to it, so "
                     "no SCP protects this environment",
                     "run the environment in a member account (SCPs apply there)")
    if manage and not _delegated_policy_admin(ctx, client):
        return Check("organizations.account", TITLE, "fail",
                     f"account {ctx.account_id} is a member, not a delegated administrator for Organizations "
                     "policies: creating and attaching SCPs will be denied",
                     f"from the management account {management}, delegate policy management to this account "
                     "(aws organizations put-resource-policy), or set access.organization.manage_scps: false")
    role = "delegated administrator for Organizations policies" if manage else "member"
    return Check("organizations.account", TITLE, "pass", f"account {ctx.account_id} is a {role} of the organisation "
                                                          f"managed by {management}")


def _delegated_policy_admin(ctx: Context, client) -> bool:
    """Organizations delegates policy management through its resource policy; only the management account and
    the delegated administrators may read it (anyone else is denied)."""
    try:
        content = client.describe_resource_policy()["ResourcePolicy"]["Content"]
    except ClientError as exc:
        if is_access_denied(exc) or error_code(exc) == "ResourcePolicyNotFoundException":
            return False
        raise
    statements = json.loads(content).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principals = (statement.get("Principal") or {}).get("AWS", []) if isinstance(statement, dict) else []
        principals = [principals] if isinstance(principals, str) else principals
        if statement.get("Effect") == "Allow" and any(ctx.account_id in str(p) for p in principals):
            return True
    return False


def _scp_type(client) -> Check:
    roots = client.list_roots()["Roots"]
    enabled = any(p.get("Type") == "SERVICE_CONTROL_POLICY" and p.get("Status") == "ENABLED"
                  for root in roots for p in root.get("PolicyTypes", []))
    if enabled:
        return Check("organizations.scp-policy-type", "SCPs are enabled on the root", "pass",
                     "the SERVICE_CONTROL_POLICY policy type is enabled")
    root = roots[0]["Id"] if roots else "<root id>"
    return Check("organizations.scp-policy-type", "SCPs are enabled on the root", "fail",
                 "the SERVICE_CONTROL_POLICY policy type is not enabled on the root: attaching SCPs fails",
                 f"aws organizations enable-policy-type --root-id {root} --policy-type SERVICE_CONTROL_POLICY")


def identity_center(ctx: Context) -> list[Check]:
    title = "Identity Center matches the personas' trust mode"
    access = ctx.config.access
    trusts = [access.trust_of(p, ctx.account_id, workload_pattern(ctx.naming))
              for p in access.enabled_personas() if p not in WORKLOAD_PERSONAS]
    modes = {t.effective_mode for t in trusts}
    identity_accounts = {t.identity_account_id for t in trusts if t.effective_mode == "identity-center"}

    def judge() -> Check:
        instances = ctx.aws.client("sso-admin").list_instances().get("Instances", [])
        here = ", ".join(i["InstanceArn"] for i in instances)
        if "identity-center" in modes:
            others = sorted(a for a in identity_accounts if a and a != ctx.account_id)
            if others:
                return Check("identity-center", title, "warn",
                             f"personas trust Identity Center permission sets of account {', '.join(others)}; that "
                             "account's instance cannot be read from here",
                             "check there that the permission sets exist and require MFA at sign-in")
            if not instances:
                return Check("identity-center", title, "fail",
                             "personas trust Identity Center, but this account has no Identity Center instance",
                             "enable IAM Identity Center, or set access.trust.mode to iam-mfa or saml")
            return Check("identity-center", title, "pass", f"Identity Center instance {here}")
        if instances:
            return Check("identity-center", title, "warn",
                         f"this account has Identity Center ({here}) but no persona trusts it "
                         f"(modes: {', '.join(sorted(modes))})",
                         "to use it, set access.trust.mode: identity-center with identity_account_id")
        return Check("identity-center", title, "pass", f"not in use, as the trust modes expect ({', '.join(sorted(modes))})")

    return attempt("identity-center", title, judge)


PROBES = [("organizations.account", TITLE, organization),
          ("identity-center", "Identity Center matches the personas' trust mode", identity_center)]
