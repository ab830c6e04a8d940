"""Organizations service control policies, when the environment's config turns them on.

Two SCPs (an account or OU holds at most five, FullAWSAccess included):
- guardrails: nobody, not even the account's administrators, disables or deletes CloudTrail,
  GuardDuty, Config or Security Hub, disables or schedules deletion of KMS keys, or leaves the
  organisation; configuration changes to those services are left to the deployer role;
- region allow-list: requests outside the allowed regions are denied, except for global services and,
  in each region outside the list where the app itself manages resources (us-east-1 for CloudFront's
  WAF, log groups, log delivery and edge key: modules/edge.py), exactly those resources' services.
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.boundary import GLOBAL_SERVICES
from modules.config import EnvConfig
from modules.edge import managed_outside
from modules.iam_doc import document, statement
from modules.naming import Naming

DISABLE_ACTIONS = (
    "cloudtrail:DeleteTrail", "cloudtrail:StopLogging",
    "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel", "config:StopConfigurationRecorder",
    "guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount",
    "guardduty:DisassociateFromMasterAccount",
    "securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount",
    "securityhub:DisassociateFromMasterAccount",
)
# Reconfiguring (and so possibly weakening) the same services: only the deployer role may.
RECONFIGURE_ACTIONS = (
    "cloudtrail:PutEventSelectors", "cloudtrail:UpdateTrail",
    "config:PutConfigurationRecorder", "config:PutDeliveryChannel",
    "guardduty:UpdateDetector", "securityhub:BatchDisableStandards",
)
KEY_ACTIONS = ("kms:DisableKey", "kms:ScheduleKeyDeletion")
# Global services (IAM, STS, CloudFront, Organizations, Support, billing) have no regional endpoint
# in the env's regions; the allow-list must not break them.
REGION_EXEMPT = tuple(sorted(set(GLOBAL_SERVICES) | {"account:*", "health:*", "route53:*", "shield:*",
                                                       "trustedadvisor:*", "waf:*"}))


@dataclass(frozen=True)
class ScpProps:
    """- `deployer_role_arn`: the only principal that may reconfigure the security services;
    - `allowed_regions`: where requests may go (`access.organization.allowed_regions`, by default
      the environment's region and DR region);
    - `target_ids`: the root, OUs or accounts both SCPs attach to."""

    naming: Naming
    deployer_role_arn: str
    allowed_regions: tuple[str, ...]
    target_ids: tuple[str, ...]
    # Region outside the allow-list → services the app manages there (derived: modules/edge.py).
    managed_outside: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def of(cls, config: EnvConfig) -> "ScpProps":
        allowed = config.access.allowed_regions(config.region, config.dr_region)
        return cls(naming=Naming.of(config), deployer_role_arn=config.deployer_role_arn,
                   allowed_regions=tuple(allowed), target_ids=tuple(config.access.organization.target_ids),
                   managed_outside=tuple(sorted(managed_outside(config, allowed).items())))


def guardrails_document(props: ScpProps) -> str:
    return document(
        statement("DenyDisablingSecurityServices", "Deny", list(DISABLE_ACTIONS), "*"),
        statement("DenyReconfiguringSecurityServicesExceptDeployer", "Deny", list(RECONFIGURE_ACTIONS), "*",
                  condition={"ArnNotLike": {"aws:PrincipalArn": props.deployer_role_arn}}),
        statement("DenyKeyDisablingAndDeletion", "Deny", list(KEY_ACTIONS), "*"),
        statement("DenyLeavingOrganization", "Deny", "organizations:LeaveOrganization", "*"),
    )


def region_document(props: ScpProps) -> str:
    """Deny outside the allowed regions; in a region where the app manages resources itself, deny all but
    the global services and those resources' services."""
    managed_regions = [region for region, _ in props.managed_outside]
    statements = [statement("DenyOutsideAllowedRegions", "Deny", list(REGION_EXEMPT), "*", not_actions=True,
                            condition={"StringNotEquals": {
                                "aws:RequestedRegion": sorted([*props.allowed_regions, *managed_regions])}})]
    for region, services in props.managed_outside:
        sid = "DenyInManagedRegionExceptItsServices" + "".join(p.capitalize() for p in region.split("-"))
        statements.append(statement(
            sid, "Deny", sorted({*REGION_EXEMPT, *(f"{s}:*" for s in services)}), "*", not_actions=True,
            condition={"StringEquals": {"aws:RequestedRegion": region}}))
    return document(*statements)


class ServiceControlPolicies(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ScpProps):
        super().__init__(scope, construct_id)
        naming = props.naming
        self.policies = {
            "guardrails": aws.organizations_policy.OrganizationsPolicy(
                self, "guardrails", name=naming.resource("scp-guardrails"), type="SERVICE_CONTROL_POLICY",
                description="Keep CloudTrail, GuardDuty, Config, Security Hub and KMS keys on; stay in the org",
                content=guardrails_document(props)),
            "regions": aws.organizations_policy.OrganizationsPolicy(
                self, "regions", name=naming.resource("scp-regions"), type="SERVICE_CONTROL_POLICY",
                description="Only the allowed regions (global services exempt)",
                content=region_document(props)),
        }
        for key, policy in self.policies.items():
            for target in props.target_ids:
                aws.organizations_policy_attachment.OrganizationsPolicyAttachment(
                    self, f"{key}-{target}", policy_id=policy.id, target_id=target)
