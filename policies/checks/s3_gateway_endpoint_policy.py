"""CKV_AEGIS_20: the S3 gateway endpoint only reaches named buckets.

From a private VPC the S3 gateway endpoint is the only path to S3, so its policy is the
data-exfiltration guard: a compromised training or inference workload must not copy datasets or
weights to an attacker's bucket. Required for S3 gateway endpoints: a literal policy whose Allow
statements name bucket ARNs (no `*`, no `arn:aws:s3:::*`, no wildcard in the bucket-name part
before a project prefix). Other endpoints are not judged (UNKNOWN). No policy (full access) fails.
Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, is_allow, policy_document, resources, statements, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, is_allow, policy_document, resources, statements, value

# A bucket ARN with at least three literal name characters before any wildcard (e.g. `aegis-dev-*`).
NAMED_BUCKET = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{2,}")


class S3GatewayEndpointPolicy(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_20", "S3 gateway VPC endpoint policy allows only named buckets",
            ["aws_vpc_endpoint"], [CheckCategories.NETWORKING, CheckCategories.IAM])

    def evaluate(self, conf):
        service = str(value(conf, "service_name", ""))
        endpoint_type = str(value(conf, "vpc_endpoint_type", "Gateway"))
        if not service.endswith(".s3") or endpoint_type != "Gateway":
            return self.not_applicable()
        self.evaluated_keys = ["policy"]
        raw = value(conf, "policy")
        if raw is None:
            return self.fail("no endpoint policy: the endpoint reaches every bucket in every account")
        doc = policy_document(raw)
        if doc is None:
            return self.unreadable(raw, "the endpoint policy is not a literal JSON document")
        for stmt in statements(doc):
            if not is_allow(stmt):
                continue
            if "NotResource" in stmt:
                return self.fail(f"statement {stmt.get('Sid', '?')} uses NotResource")
            wide = [r for r in resources(stmt) if not NAMED_BUCKET.match(r)]
            if wide or not resources(stmt):
                return self.fail(f"statement {stmt.get('Sid', '?')} allows {wide or 'no Resource'}: not named buckets")
        return CheckResult.PASSED


check = S3GatewayEndpointPolicy()
