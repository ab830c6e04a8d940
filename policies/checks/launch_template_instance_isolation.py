"""CKV_AEGIS_5: GPU fleet instances get IMDSv2 with hop limit 1 and no public IP.

A compromised inference container must not reach the instance role's credentials: IMDSv2 only
(`http_tokens = required`) with `http_put_response_hop_limit = 1`, so a container behind an extra
network hop cannot fetch tokens. Fleet instances serve behind the load balancer and never get a
public IP. (checkov's CKV_AWS_79/341 judge IMDS; this check keeps the fleet rule in one place.)
An unset or referenced hop limit fails (not judged), and so does a public-IP setting that is not
known to be off (a reference). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, block, blocks, is_true, unset_or_false, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, block, blocks, is_true, unset_or_false, value


class LaunchTemplateInstanceIsolation(AegisCheck):
    # checkov's own checks of the same control (IMDSv1, hop limit, public IP).
    duplicates = ("CKV_AWS_79", "CKV_AWS_341", "CKV_AWS_88")

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_5", "Launch template requires IMDSv2 with hop limit 1 and assigns no public IP",
            ["aws_launch_template"], [CheckCategories.NETWORKING, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["metadata_options", "network_interfaces"]
        metadata = block(conf, "metadata_options")
        if metadata is None:
            return self.fail("no metadata_options: IMDSv1 stays available")
        if value(metadata, "http_endpoint") != "disabled":
            if value(metadata, "http_tokens") != "required":
                return self.fail("IMDSv1 is allowed: metadata_options.http_tokens must be 'required'")
            if as_int(value(metadata, "http_put_response_hop_limit")) != 1:
                return self.fail("metadata_options.http_put_response_hop_limit must be 1")
        for interface in blocks(conf, "network_interfaces"):
            public = value(interface, "associate_public_ip_address")
            if is_true(public):
                return self.fail("a network interface associates a public IP address")
            if not unset_or_false(public):
                return self.fail("network_interfaces.associate_public_ip_address is not a literal false (a reference "
                                 "cannot be judged)")
        return CheckResult.PASSED


check = LaunchTemplateInstanceIsolation()
