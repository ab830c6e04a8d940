"""CKV_AEGIS_12: a role that people can assume requires MFA.

Human roles (ML engineers, data scientists, administrators, auditors) reach models and data; a
stolen password or access key alone must not be enough. A trust statement is "human" when it lets
an account (`arn:aws:iam::<account>:root`, a bare account id), an IAM user or `*` assume the role,
unless an `aws:PrincipalArn` condition narrows it to roles only (workloads). A human statement
must require `Bool aws:MultiFactorAuthPresent = true` (not BoolIfExists, which lets long-term
access keys through) or bound `aws:MultiFactorAuthAge`.
IAM Identity Center: a statement narrowed by aws:PrincipalArn to the roles of named permission sets
(`role/aws-reserved/sso.amazonaws.com/…AWSReservedSSO_<set>_*`) is human, and its MFA is Identity
Center's, at sign-in: those sessions never carry the MFA key, so the statement passes without it
and fails WITH it (nobody could assume the role), as it fails for a wildcard permission set (every
user of the account). SAML and OIDC federation cannot be judged here (their sessions carry no MFA
key; MFA is the identity provider's) and fail: suppress naming the IdP's MFA enforcement, or that
it is a workload. Roles trusted only by AWS services or by specific roles are not human roles
(UNKNOWN). A non-literal trust policy fails (not judged). Not environment-dependent.
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
# The roles IAM Identity Center creates for a permission set: `AWSReservedSSO_<set>_<suffix>` under
# this path (with a region segment unless the identity source is in us-east-1).
SSO_PATH = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|\*):role/aws-reserved/sso\.amazonaws\.com/")
SSO_NAME = re.compile(r"AWSReservedSSO_(?P<rest>[^/]*)$")


def requires_mfa(stmt: dict) -> bool:
    for operator, key, vals in conditions(stmt):
        key = key.lower()
        if operator == "Bool" and key == "aws:multifactorauthpresent" and [str(v).lower() for v in vals] == ["true"]:
            return True
        if operator == "NumericLessThan" and key == "aws:multifactorauthage":
            return True
    return False


def identity_center_sets(stmt: dict) -> list[str] | None:
    """The permission sets an aws:PrincipalArn condition narrows the statement to, when it names only
    IAM Identity Center roles (None otherwise); a set with a wildcard is listed as it is."""
    for operator, key, vals in conditions(stmt):
        if key.lower() == "aws:principalarn" and operator in ("ArnLike", "ArnEquals", "StringLike", "StringEquals"):
            if not vals or not all(isinstance(v, str) and SSO_PATH.match(v) for v in vals):
                return None
            sets = []
            for arn in vals:
                name = SSO_NAME.search(arn)
                rest = name.group("rest") if name else "*"
                sets.append(rest.rsplit("_", 1)[0] if "_" in rest else "*")  # `<set>_<suffix>`
            return sets
    return None


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
            return self.unreadable(value(conf, "assume_role_policy"), "the trust policy is not a literal JSON document")
        human = False
        for stmt in statements(doc):
            if not is_allow(stmt):
                continue
            p = principals(stmt)
            federated = [f for f in p.get("Federated", []) if ":saml-provider/" in f or ":oidc-provider/" in f]
            if federated:
                return self.fail(f"statement {stmt.get('Sid', '?')} trusts federation ({federated[0]}): MFA cannot be "
                                 "verified in the trust policy")
            permission_sets = identity_center_sets(stmt)
            if permission_sets is not None:
                human = True
                problem = _identity_center_problem(stmt, permission_sets)
                if problem:
                    return self.fail(problem)
                continue
            if ("*" in p or any(HUMAN_AWS_PRINCIPAL.match(a) for a in p.get("AWS", []))) and not roles_only(stmt):
                human = True
                if not requires_mfa(stmt):
                    return self.fail(f"statement {stmt.get('Sid', '?')} lets people assume the role without MFA "
                                     "(need Bool aws:MultiFactorAuthPresent = true)")
        return CheckResult.PASSED if human else self.not_applicable()


def _identity_center_problem(stmt: dict, permission_sets: list[str]) -> str | None:
    sid = stmt.get("Sid", "?")
    wild = [s for s in permission_sets if not s or "*" in s or "?" in s]
    if wild:
        return (f"statement {sid} trusts IAM Identity Center roles of any permission set ({wild[0] or 'empty'}): "
                "name the permission set")
    if requires_mfa(stmt):
        return (f"statement {sid} trusts IAM Identity Center roles but requires the MFA key, which their sessions "
                "never carry (MFA is Identity Center's, at sign-in): nobody can assume the role")
    return None


check = IamHumanRoleRequiresMfa()
