"""CKV_AEGIS_23: no Security Hub product subscription for an AWS service integration.

AWS services that send findings to Security Hub (GuardDuty, Inspector, Macie, Config, Access Analyzer,
Firewall Manager, Health, ...) are integrations Security Hub activates by itself once both services are
enabled in the account and region. Their product ARNs are `arn:aws:securityhub:<region>::product/aws/<name>`;
subscribing to one again conflicts with the integration that already exists, and the apply fails. Only
third-party products (`product/<company>/<product>`) take a subscription. A product ARN that is not a
literal (a reference) cannot be judged and fails. Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, value

PRODUCT_ARN = re.compile(r"^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:(?:\d{12})?:product/(?P<owner>[^/]+)/(?P<name>[^/]+)$")


class SecurityHubAwsProductSubscription(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_23", "Security Hub product subscriptions are for third-party products, not AWS integrations",
            ["aws_securityhub_product_subscription"], [CheckCategories.LOGGING])

    def evaluate(self, conf):
        self.evaluated_keys = ["product_arn"]
        arn = value(conf, "product_arn")
        match = PRODUCT_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            return self.unreadable(arn, f"product_arn {arn!r} is not a literal Security Hub product ARN")
        if match["owner"] == "aws":
            return self.fail(f"{match['name']} is an AWS service integration that Security Hub activates by itself; "
                             "a product subscription conflicts with it: remove the subscription")
        return CheckResult.PASSED


check = SecurityHubAwsProductSubscription()
