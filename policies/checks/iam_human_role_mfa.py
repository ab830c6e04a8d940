"""CKV_AEGIS_12: a role that people can assume requires MFA.

Human roles (ML engineers, data scientists, administrators, auditors) reach models and data; a
stolen password or access key alone must not be enough. A trust statement is "human" when it lets
an account (`arn:aws:iam::<account>:root`, a bare account id), an IAM user or `*` assume the role,
unless an `aws:PrincipalArn` condition narrows it to roles only (workloads). A human statement
must require `Bool aws:MultiFactorAuthPresent = true` (not BoolIfExists, which lets long-term
access keys through) or bound `aws:MultiFactorAuthAge`.
SAML and OIDC federation cannot be judged here (their sessions carry no MFA key; MFA is the
identity provider's) and fail: suppress naming the IdP's MFA enforcement, or that it is a workload.
Roles trusted only by AWS services or by specific roles are not human roles (UNKNOWN).
A non-literal trust policy fails (not judged). Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import (
        AegisCheck,
        conditions,
        is_allow,
        policy_document,
        principals,
        statements,
        value,
    )
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, conditions, is_allow, policy_document, principals, statements, value

# Roles with at least three literal name characters before any wildcard (`role/aegis-dev-workload-*`).
NAMED_ROLE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@-]{3,}")
HUMAN_AWS_PRINCIPAL = re.compile(r"^(\*|\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|user/.+))$")


def requires_mfa(stmt: dict) -> bool:
    for operator, key, vals in conditions(stmt):
        key = key.lower()
        if operator == "Bool" and key == "aws:multifactorauthpresent" and [str(v).lower() for v in vals] == ["true"]:
            return True
        if operator == "NumericLessThan" and key == "aws:multifactorauthage":
            return True
    return False


def roles_only(stmt: dict) -> bool:
    """An aws:PrincipalArn condition that admits only IAM roles: a workload trust, not people."""
    for operator, key, vals in conditions(stmt):
        if key.lower() == "aws:principalarn" and operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
            return bool(vals) and all(isinstance(v, str) and NAMED_ROLE.match(v) for v in vals)
    return False


class IamHumanRoleRequiresMfa(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_12", "IAM role assumable by people requires MFA",
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
            federated = [f for f in p.get("Federated", []) if ":saml-provider/" in f or ":oidc-provider/" in f]
            if federated:
                return self.fail(f"statement {stmt.get('Sid', '?')} trusts federation ({federated[0]}): MFA cannot be "
                                 "verified in the trust policy")
            if ("*" in p or any(HUMAN_AWS_PRINCIPAL.match(a) for a in p.get("AWS", []))) and not roles_only(stmt):
                human = True
                if not requires_mfa(stmt):
                    return self.fail(f"statement {stmt.get('Sid', '?')} lets people assume the role without MFA "
                                     "(need Bool aws:MultiFactorAuthPresent = true)")
        return CheckResult.PASSED if human else self.not_applicable()


check = IamHumanRoleRequiresMfa()
