"""CKV_AEGIS_10: `iam:PassRole` is granted only on named roles and only to named services.

Whoever can pass any role to SageMaker, Lambda or EC2 can run code (a training job, an inference
container) with that role's data access: the classic privilege escalation. Every Allow that covers
iam:PassRole (directly, through `iam:*`/`iam:Pass*`, or through NotAction) must list role ARNs
(a name prefix like `role/<project>-<env>-*` is fine; `*` or `role/*` is not) and carry an
`iam:PassedToService` condition. Applies to permission boundaries too: they are where the rule is
enforced for every role. A non-literal policy fails (not judged). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories

try:
    from policies.checks.aegis_checklib import (
        POLICY_RESOURCES,
        AegisCheck,
        conditions,
        grants,
        judge_identity_statements,
        resources,
    )
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import POLICY_RESOURCES, AegisCheck, conditions, grants, judge_identity_statements, resources

# A role ARN with a concrete name or a name prefix of at least one character before any wildcard.
SCOPED_ROLE = re.compile(r"^(arn:aws[a-z-]*:iam::\d{12}:role/([\w+=,.@-]+/)*[\w+=,.@-]+\*?"
                         r"|\$\{aws_iam_role\.[\w-]+\.arn\})$")


def passrole_problem(stmt: dict) -> str | None:
    sid = stmt.get("Sid", "?")
    if not grants(stmt, "iam:PassRole"):
        return None
    unscoped = [r for r in resources(stmt) if not SCOPED_ROLE.match(r)]
    if unscoped or not resources(stmt):
        return f"statement {sid} allows iam:PassRole on {unscoped or 'no Resource'}"
    if not any(key.lower() == "iam:passedtoservice" and op.startswith("String") for op, key, _ in conditions(stmt)):
        return f"statement {sid} allows iam:PassRole without an iam:PassedToService condition"
    return None


class IamPassRoleScoped(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_10", "iam:PassRole is limited to named roles and an iam:PassedToService condition",
            POLICY_RESOURCES + ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        return judge_identity_statements(self, conf, passrole_problem)


check = IamPassRoleScoped()
