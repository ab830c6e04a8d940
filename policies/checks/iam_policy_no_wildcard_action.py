"""CKV_AEGIS_9: no IAM identity policy allows the `*` action or uses Allow with NotAction.

Personas and service roles in an AI platform reach training data, model artifacts and endpoints;
an `"Action": "*"` (or an Allow with NotAction, which means "everything except") makes separation
of duties meaningless. Service-level wildcards (`s3:*`) are judged per persona by AEGIS_PERSONA_LEAST_PRIVILEGE.
A policy that is not literal JSON fails (not judged). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import (AegisCheck, POLICY_RESOURCES, actions, identity_documents, is_allow,
                                                policy_document, statements)
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import (AegisCheck, POLICY_RESOURCES, actions, identity_documents, is_allow,
                                policy_document, statements)


class IamPolicyNoWildcardAction(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_9", "IAM policy allows no '*' action and no Allow with NotAction",
            POLICY_RESOURCES + ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        self.evaluated_keys = ["policy", "inline_policy"]
        for label, raw in identity_documents(conf):
            doc = policy_document(raw)
            if doc is None:
                return self.fail(f"{label} is not a literal JSON document and cannot be judged")
            for stmt in statements(doc):
                if not is_allow(stmt):
                    continue
                if "NotAction" in stmt:
                    return self.fail(f"statement {stmt.get('Sid', '?')} allows NotAction (everything except a list)")
                if "*" in actions(stmt):
                    return self.fail(f"statement {stmt.get('Sid', '?')} allows the '*' action")
        return CheckResult.PASSED


check = IamPolicyNoWildcardAction()
