"""Security Hub: standards follow the environment's frameworks; findings of GuardDuty, Inspector,
Macie and Config arrive through the integrations Security Hub activates itself (no subscriptions)."""
from __future__ import annotations

FSBP = "standards/aws-foundational-security-best-practices/v/1.0.0"
CIS = "standards/cis-aws-foundations-benchmark/v/3.0.0"
NIST = "standards/nist-800-53/v/5.0.0"
PCI = "standards/pci-dss/v/4.0.1"


def test_standards_follow_config(gov):
    region = gov.config.region
    expected = {FSBP, CIS}
    if "nist-800-53" in gov.config.compliance:
        expected.add(NIST)
    if "pci-dss" in gov.config.compliance:
        expected.add(PCI)
    arns = sorted(c["standards_arn"] for c in gov.res("aws_securityhub_standards_subscription").values())
    assert arns == sorted(f"arn:aws:securityhub:{region}::{path}" for path in expected)


def test_prod_and_dev_differ_as_configured(synthesized):
    """prod lists nist-800-53 and pci-dss, dev lists neither: their standards must differ accordingly."""
    def paths(env):
        return {c["standards_arn"].split("::", 1)[1]
                for c in synthesized.resources(f"{env}-governance", "aws_securityhub_standards_subscription").values()}
    assert paths("prod") - paths("dev") == {NIST, PCI}
    assert paths("staging") - paths("dev") == {NIST}


def test_account_without_default_standards(gov):
    name, account = gov.one("aws_securityhub_account")
    assert account["enable_default_standards"] is False  # exactly the subscriptions above
    assert account["control_finding_generator"] == "SECURITY_CONTROL"
    for conf in gov.res("aws_securityhub_standards_subscription").values():
        assert f"aws_securityhub_account.{name}" in conf["depends_on"]


def test_no_product_subscriptions_for_aws_integrations(gov):
    """GuardDuty, Inspector, Macie and Config send findings through integrations Security Hub activates by
    itself: a product subscription for them conflicts with the existing integration (was: four subscriptions)."""
    assert gov.res("aws_securityhub_product_subscription") == {}
