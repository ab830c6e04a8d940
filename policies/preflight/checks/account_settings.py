"""Account-wide settings the data and governance stacks set, and the one cost monitor AWS allows.

EBS encryption by default, the account's default EBS key and the S3 account public access block are
settings, not resources that can collide: the apply overwrites them. What the account has now is
reported, with a warning where the apply changes something other workloads of the account rely on.
Cost Anomaly Detection allows one AWS-services (DIMENSIONAL SERVICE) monitor per account: an existing
one makes creating another fail. The security contact and the alert subscriptions must name addresses
that can receive AWS's notices, not the shipped examples (the plan gate refuses them too).
"""
from __future__ import annotations

from botocore.exceptions import ClientError

from modules.data.key_users import EBS_KEY_CLASS
from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt, found_in_state
from policies.preflight.model import Check
from policies.reserved_names import endpoint_host, reserved_reason

PUBLIC_ACCESS_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
AWS_MANAGED_EBS_KEY = "alias/aws/ebs"


def ebs_encryption(ctx: Context) -> list[Check]:
    title = "EBS encryption by default and the default EBS key"

    def judge() -> Check:
        ec2 = ctx.aws.client("ec2")
        on = ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]
        key = str(ec2.get_ebs_default_kms_key_id().get("KmsKeyId", ""))
        ours = ctx.naming.kms_alias(EBS_KEY_CLASS)
        now = f"encryption by default {'on' if on else 'off'}, default key {key or AWS_MANAGED_EBS_KEY}"
        if key and not key.endswith(AWS_MANAGED_EBS_KEY) and not key.endswith(ours) \
                and not found_in_state(ctx, "aws_ebs_default_kms_key"):
            return Check("account.ebs-default-encryption", title, "warn",
                         f"{now}: the apply makes the environment's {ours} key the default of every new volume "
                         "in the account and region, replacing that key",
                         "make sure no other workload of the account depends on the current default key")
        return Check("account.ebs-default-encryption", title, "pass",
                     f"{now}: the apply turns encryption on with the environment's {ours} key")

    return attempt("account.ebs-default-encryption", title, judge)


def public_access_block(ctx: Context) -> list[Check]:
    title = "S3 account public access block"

    def judge() -> Check:
        try:
            current = ctx.aws.client("s3control").get_public_access_block(
                AccountId=ctx.account_id)["PublicAccessBlockConfiguration"]
        except ClientError as exc:
            if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
                raise
            current = {}
        off = [s for s in PUBLIC_ACCESS_SETTINGS if not current.get(s)]
        if not off:
            return Check("account.s3-public-access-block", title, "pass", "all four settings are on")
        if not current:
            return Check("account.s3-public-access-block", title, "pass",
                         "not configured: the apply turns all four settings on")
        return Check("account.s3-public-access-block", title, "warn",
                     f"{', '.join(off)} off: the apply turns them on, and buckets of the account that are public "
                     "today stop being public", "check that no bucket of the account must stay public")

    return attempt("account.s3-public-access-block", title, judge)


def cost_monitor(ctx: Context) -> list[Check]:
    title = "One AWS-services cost anomaly monitor per account"
    settings = ctx.config.governance.cost_anomaly

    def judge() -> Check:
        monitors = _monitors(ctx)
        services = [m for m in monitors if m.get("MonitorType") == "DIMENSIONAL"
                    and m.get("MonitorDimension") == "SERVICE"]
        arns = [str(m["MonitorArn"]) for m in services]
        if not settings.service_monitor:
            if settings.monitor_arn in {str(m["MonitorArn"]) for m in monitors}:
                return Check("account.cost-anomaly-monitor", title, "pass",
                             f"the alert watches the existing monitor {settings.monitor_arn}")
            return Check("account.cost-anomaly-monitor", title, "fail",
                         f"governance.cost_anomaly.monitor_arn {settings.monitor_arn} does not exist",
                         "set governance.cost_anomaly.monitor_arn to an existing monitor" +
                         (f" ({arns[0]})" if arns else ", or service_monitor: true to create one"),
                         (("governance.cost_anomaly.monitor_arn", arns[0]),) if arns else ())
        if not arns or found_in_state(ctx, "aws_ce_anomaly_monitor"):
            return Check("account.cost-anomaly-monitor", title, "pass",
                         "no AWS-services monitor yet: Aegis creates it" if not arns
                         else f"{arns[0]}: already in this environment's Terraform state")
        return Check("account.cost-anomaly-monitor", title, "fail",
                     f"the account already has the AWS-services monitor {arns[0]}: creating another fails",
                     f"watch it: governance.cost_anomaly.service_monitor: false and monitor_arn: {arns[0]}",
                     (("governance.cost_anomaly.service_monitor", False), ("governance.cost_anomaly.monitor_arn", arns[0])))

    return attempt("account.cost-anomaly-monitor", title, judge)


def contacts(ctx: Context) -> list[Check]:
    """Config only, no AWS call: the addresses the apply hands AWS for its security notices and alerts."""
    security = ctx.config.governance.security_contact
    named = [("governance.security_contact.email", "email", security.email)] if security else []
    named += [(f"access.alerts.subscriptions[{i}].endpoint", s.protocol, s.endpoint)
              for i, s in enumerate(ctx.config.access.alerts.subscriptions) if s.protocol in ("email", "https")]
    refused = [f"{key} {raw}: {reserved_reason(host)}" for key, protocol, raw in named
               if (host := endpoint_host(protocol, raw)) and reserved_reason(host)]
    title = "The security contact and alert subscriptions can receive AWS's notices"
    if refused:
        return [Check("account.contacts-deliverable", title, "fail", "; ".join(refused),
                      "name a mailbox your security team reads (the shipped files name examples)")]
    return [Check("account.contacts-deliverable", title, "pass", f"{len(named)} address(es), none at a reserved name")]


def _monitors(ctx: Context) -> list[dict]:
    client, monitors, token = ctx.aws.client("ce", "us-east-1"), [], None  # Cost Explorer's endpoint
    while True:
        page = client.get_anomaly_monitors(**({"NextPageToken": token} if token else {}))
        monitors += page.get("AnomalyMonitors", [])
        token = page.get("NextPageToken")
        if not token:
            return monitors


PROBES = [("account.ebs-default-encryption", "EBS encryption by default", ebs_encryption),
          ("account.s3-public-access-block", "S3 account public access block", public_access_block),
          ("account.cost-anomaly-monitor", "Cost anomaly monitor", cost_monitor),
          ("account.contacts-deliverable", "Security contact and alert addresses", contacts)]
