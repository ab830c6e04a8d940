"""CKV_AEGIS_9: no IAM identity policy allows the `*` action or uses Allow with NotAction.

Personas and service roles in an AI platform reach training data, model artifacts and endpoints;
an `"Action": "*"` (or an Allow with NotAction, which means "everything except") makes separation
of duties meaningless. Service-level wildcards (`s3:*`) are judged per persona by AEGIS_PERSONA_LEAST_PRIVILEGE.
A policy that is not literal JSON fails (not judged). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories

try:
    from policies.checks.aegis_checklib import (
        POLICY_RESOURCES,
        AegisCheck,
        actions,
        is_allow,
        judge_identity_statements,
    )
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import POLICY_RESOURCES, AegisCheck, actions, is_allow, judge_identity_statements


def wildcard_problem(stmt: dict) -> str | None:
    if not is_allow(stmt):
        return None
    if "NotAction" in stmt:
        return f"statement {stmt.get('Sid', '?')} allows NotAction (everything except a list)"
    if "*" in actions(stmt):
        return f"statement {stmt.get('Sid', '?')} allows the '*' action"
    return None


class IamPolicyNoWildcardAction(AegisCheck):
    # checkov's own checks of the same control ("*" actions).
    duplicates = ("CKV_AWS_62", "CKV_AWS_63")

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_9", "IAM policy allows no '*' action and no Allow with NotAction",
            POLICY_RESOURCES + ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        return judge_identity_statements(self, conf, wildcard_problem)


check = IamPolicyNoWildcardAction()
