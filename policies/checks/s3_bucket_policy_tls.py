"""CKV_AEGIS_7: every S3 bucket policy denies requests without TLS and with TLS older than 1.2.

Training data, model artifacts, inference data and audit logs must never cross the network in
clear text, whatever client or role asks. The policy needs a Deny for every principal on `s3:*`
(or `*`) when `aws:SecureTransport` is false, and a Deny when `s3:TlsVersion` is below 1.2.
CKV2_AEGIS_2 makes sure every bucket has a policy, so together they cover every bucket.
A policy that is not literal JSON (a reference to a policy-document data source) fails (not judged).
Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import (
        AegisCheck,
        actions,
        conditions,
        insecure_transport_denies,
        is_deny,
        is_public_principal,
        policy_document,
        resources,
        statements,
        value,
    )
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import (
        AegisCheck,
        actions,
        conditions,
        insecure_transport_denies,
        is_deny,
        is_public_principal,
        policy_document,
        resources,
        statements,
        value,
    )


def covers_bucket_and_objects(stmt: dict) -> bool:
    found = resources(stmt)
    return "*" in found or (any(r.endswith("/*") for r in found) and any(not r.endswith("/*") for r in found))


def denies_old_tls(doc: dict) -> bool:
    for stmt in statements(doc):
        if not (is_deny(stmt) and is_public_principal(stmt)) or "NotAction" in stmt:
            continue
        if not any(a in ("*", "s3:*") for a in actions(stmt)) or not covers_bucket_and_objects(stmt):
            continue
        for operator, key, vals in conditions(stmt):
            if operator == "NumericLessThan" and key.lower() == "s3:tlsversion":
                try:
                    if all(float(v) >= 1.2 for v in vals):
                        return True
                except (TypeError, ValueError):
                    continue
    return False


class S3BucketPolicyDeniesInsecureTransport(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_7", "S3 bucket policy denies non-TLS requests and TLS older than 1.2",
            ["aws_s3_bucket_policy"], [CheckCategories.ENCRYPTION, CheckCategories.NETWORKING])

    def evaluate(self, conf):
        self.evaluated_keys = ["policy"]
        doc = policy_document(value(conf, "policy"))
        if doc is None:
            return self.unreadable(value(conf, "policy"), "the bucket policy is not a literal JSON document")
        if not any(covers_bucket_and_objects(s) for s in insecure_transport_denies(doc, "s3:")):
            return self.fail("no Deny of s3:* on the bucket and its objects for every principal "
                             "when aws:SecureTransport is false")
        if not denies_old_tls(doc):
            return self.fail("no Deny of s3:* for every principal when s3:TlsVersion is below 1.2")
        return CheckResult.PASSED


check = S3BucketPolicyDeniesInsecureTransport()
