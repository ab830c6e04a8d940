"""CKV_AEGIS_8: no KMS key policy grants `kms:*` beyond the account admin statement.

The data keys separate training, model, inference and audit data; a second statement with `kms:*`
(or `*`, or an Allow with NotAction) would hand some principal full control of a data class,
including decrypt and policy changes. Exactly one statement may allow all KMS actions: the admin
statement that delegates to the account's IAM (`Principal.AWS = arn:aws:iam::<account>:root`),
as AWS recommends. A missing or non-literal policy fails (not judged). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import (
        AegisCheck,
        actions,
        is_allow,
        policy_document,
        principals,
        statements,
        value,
    )
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, actions, is_allow, policy_document, principals, statements, value

ACCOUNT_ROOT = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:root|\d{12})$")


def grants_all(stmt: dict) -> bool:
    return is_allow(stmt) and ("NotAction" in stmt or any(a in ("*", "kms:*") for a in actions(stmt)))


def is_admin_statement(stmt: dict) -> bool:
    p = principals(stmt)
    roots = p.get("AWS", [])
    return (set(p) == {"AWS"} and len(roots) == 1 and bool(ACCOUNT_ROOT.match(roots[0]))
            and "NotAction" not in stmt and actions(stmt) == ["kms:*"])


class KmsKeyPolicyNoWildcard(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_8", "KMS key policy grants kms:* only in the account admin statement",
            ["aws_kms_key", "aws_kms_key_policy"], [CheckCategories.ENCRYPTION, CheckCategories.IAM])

    def evaluate(self, conf):
        self.evaluated_keys = ["policy"]
        raw = value(conf, "policy")
        if raw is None:
            return self.fail("no explicit key policy: the data key's users and administrators are not named")
        doc = policy_document(raw)
        if doc is None:
            return self.unreadable(raw, "the key policy is not a literal JSON document")
        wide = [s for s in statements(doc) if grants_all(s)]
        admin = next((s for s in wide if is_admin_statement(s)), None)
        extra = [s for s in wide if s is not admin]
        if extra:
            sids = ", ".join(str(s.get("Sid", "?")) for s in extra)
            return self.fail(f"statement(s) {sids} grant all KMS actions beyond the account admin statement")
        return CheckResult.PASSED


check = KmsKeyPolicyNoWildcard()
