"""CKV_AEGIS_6: load balancer listeners in front of inference fleets use a TLS 1.3 policy.

HTTPS/TLS listeners must use an `ELBSecurityPolicy-TLS13-1-2-*` or `-TLS13-1-3-*` policy (TLS 1.3
offered, nothing below 1.2 accepted; checkov's CKV_AWS_103 only asks for 1.2). A plain HTTP
listener may exist only to redirect to HTTPS; any other plaintext listener (HTTP forward, TCP,
UDP) fails. A referenced policy name fails (not judged). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, blocks, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, blocks, value

TLS13_POLICY = re.compile(r"^ELBSecurityPolicy-TLS13-1-[23]-[A-Za-z0-9-]+$")


class LoadBalancerListenerTls13(AegisCheck):
    # checkov's own checks of the same control (TLS version, HTTPS).
    duplicates = ("CKV_AWS_103", "CKV_AWS_2")

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_6", "Load balancer listener uses a TLS 1.3 security policy; HTTP only redirects to HTTPS",
            ["aws_lb_listener", "aws_alb_listener"], [CheckCategories.ENCRYPTION, CheckCategories.NETWORKING])

    def evaluate(self, conf):
        protocol = str(value(conf, "protocol", "HTTP")).upper()
        self.evaluated_keys = ["protocol", "ssl_policy", "default_action"]
        if protocol in ("HTTPS", "TLS"):
            policy = value(conf, "ssl_policy")
            if not isinstance(policy, str) or not TLS13_POLICY.match(policy):
                return self.fail(f"ssl_policy {policy!r} is not a TLS 1.3 policy with a TLS 1.2 minimum "
                                 "(e.g. ELBSecurityPolicy-TLS13-1-2-2021-06)")
            return CheckResult.PASSED
        if protocol == "HTTP":
            actions = blocks(conf, "default_action")
            redirects = [a for a in actions if value(a, "type") == "redirect"
                         and str(value(block(a, "redirect"), "protocol", "")).upper() == "HTTPS"]
            if actions and len(redirects) == len(actions):
                return CheckResult.PASSED
            return self.fail("an HTTP listener must only redirect to HTTPS")
        return self.fail(f"listener protocol {protocol} carries inference traffic without TLS")


check = LoadBalancerListenerTls13()
