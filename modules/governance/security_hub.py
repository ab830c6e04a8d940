"""Security Hub: the account and the standards that follow from the environment's frameworks.

Foundational Security Best Practices and the CIS benchmark always; NIST SP 800-53 rev. 5 and
PCI DSS when the environment lists those frameworks (HIPAA and GDPR have no Security Hub
standard: their conformance packs cover them). Controls produce one consolidated finding each
(SECURITY_CONTROL), not one per standard.

No product subscriptions: the AWS services that send findings (GuardDuty, Inspector, Macie, Config)
are integrations Security Hub activates by itself once both are enabled in the account and region;
subscribing to `product/aws/<service>` again conflicts with the integration that already exists.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.singletons import import_existing
from modules.naming import Naming

# Security Hub standard → ARN path (regional ARNs: arn:aws:securityhub:<region>::<path>).
STANDARDS = {
    "aws-foundational-security-best-practices": "standards/aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark": "standards/cis-aws-foundations-benchmark/v/3.0.0",
    "nist-800-53": "standards/nist-800-53/v/5.0.0",
    "pci-dss": "standards/pci-dss/v/4.0.1",
}
ALWAYS = ("aws-foundational-security-best-practices", "cis-aws-foundations-benchmark")
# Compliance framework in the env file → Security Hub standard.
FRAMEWORK_STANDARDS = {"nist-800-53": "nist-800-53", "pci-dss": "pci-dss"}


def standards_for(frameworks: list[str]) -> list[str]:
    return list(ALWAYS) + sorted(FRAMEWORK_STANDARDS[f] for f in frameworks if f in FRAMEWORK_STANDARDS)


def standard_arn(region: str, standard: str) -> str:
    return f"arn:aws:securityhub:{region}::{STANDARDS[standard]}"


class SecurityHub(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, frameworks: list[str],
                 adopt: bool = False):
        """`adopt`: Security Hub is already enabled; import it (by the account ID) instead of enabling it."""
        super().__init__(scope, construct_id)
        self.account = aws.securityhub_account.SecurityhubAccount(
            self, "account", enable_default_standards=False, auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL")
        import_existing(self.account, naming.account_id if adopt else None)
        self.standards = {
            standard: aws.securityhub_standards_subscription.SecurityhubStandardsSubscription(
                self, f"standard-{standard}", standards_arn=standard_arn(naming.region, standard),
                depends_on=[self.account])
            for standard in standards_for(frameworks)
        }
