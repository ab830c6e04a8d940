"""CKV_AEGIS_17: an EFS file system policy denies access without TLS.

The shared model cache on EFS holds model weights that every inference host mounts; mounts must
use TLS (`-o tls`). Required: a Deny for every principal of `elasticfilesystem:*` (or `*`) when
`aws:SecureTransport` is false. CKV2_AEGIS_4 makes sure every file system has such a policy.
A non-literal policy fails (not judged). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, insecure_transport_denies, policy_document, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, insecure_transport_denies, policy_document, value


class EfsPolicyDeniesInsecureTransport(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_17", "EFS file system policy denies access without TLS",
            ["aws_efs_file_system_policy"], [CheckCategories.ENCRYPTION, CheckCategories.NETWORKING])

    def evaluate(self, conf):
        self.evaluated_keys = ["policy"]
        doc = policy_document(value(conf, "policy"))
        if doc is None:
            return self.unreadable(value(conf, "policy"), "the file system policy is not a literal JSON document")
        if not insecure_transport_denies(doc, "elasticfilesystem:"):
            return self.fail("no Deny of elasticfilesystem:* for every principal when aws:SecureTransport is false")
        return CheckResult.PASSED


check = EfsPolicyDeniesInsecureTransport()
