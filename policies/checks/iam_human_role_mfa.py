"""CKV_AEGIS_12: a role that people can assume requires MFA.

Human roles (ML engineers, data scientists, administrators, auditors) reach models and data; a
stolen password or access key alone must not be enough. A trust statement is "human" when it lets
an account (`arn:aws:iam::<account>:root`, a bare account id), an IAM user or `*` assume the role:
it must then require `Bool aws:MultiFactorAuthPresent = true` (not BoolIfExists, which lets
long-term access keys through) or bound `aws:MultiFactorAuthAge`. SAML federation cannot be judged
here (MFA is the identity provider's) and fails: suppress it naming the IdP's MFA policy.
Roles trusted only by AWS services, specific roles (workloads) or OIDC web identities are not
human roles (UNKNOWN). A non-literal trust policy fails (not judged). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, conditions, is_allow, policy_document, principals, statements, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, conditions, is_allow, policy_document, principals, statements, value

HUMAN_AWS_PRINCIPAL = re.compile(r"^(\*|\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|user/.+))$")


def requires_mfa(stmt: dict) -> bool:
    for operator, key, vals in conditions(stmt):
        key = key.lower()
        if operator == "Bool" and key == "aws:multifactorauthpresent" and [str(v).lower() for v in vals] == ["true"]:
            return True
        if operator == "NumericLessThan" and key == "aws:multifactorauthage":
            return True
    return False


class IamHumanRoleRequiresMfa(AegisCheck):
    def __init__(self) -> None:
        super().__init__("CKV_AEGIS_12", "IAM role assumable by people requires MFA",
                         ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        self.evaluated_keys = ["assume_role_policy"]
        doc = policy_document(value(conf, "assume_role_policy"))
        if doc is None:
            return self.fail("the trust policy is not a literal JSON document and cannot be judged")
        human = False
        for stmt in statements(doc):
            if not is_allow(stmt):
                continue
            p = principals(stmt)
            federated = p.get("Federated", [])
            if any(":saml-provider/" in f for f in federated):
                return self.fail(f"statement {stmt.get('Sid', '?')} trusts SAML federation: MFA cannot be verified "
                                 "in the trust policy")
            if "*" in p or any(HUMAN_AWS_PRINCIPAL.match(a) for a in p.get("AWS", [])):
                human = True
                if not requires_mfa(stmt):
                    return self.fail(f"statement {stmt.get('Sid', '?')} lets people assume the role without MFA "
                                     "(need Bool aws:MultiFactorAuthPresent = true)")
        return CheckResult.PASSED if human else self.not_applicable()


check = IamHumanRoleRequiresMfa()
