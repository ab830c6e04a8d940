"""CKV_AEGIS_8, 9, 10, 11, 12: key policies, wildcard actions, PassRole, boundaries, MFA."""
from __future__ import annotations

import pytest

from policies.checks.iam_human_role_mfa import check as mfa
from policies.checks.iam_passrole_scoped import check as passrole
from policies.checks.iam_policy_no_wildcard_action import check as wildcard
from policies.checks.iam_role_permission_boundary import check as boundary
from policies.checks.kms_key_policy_no_wildcard import check as key_policy
from tests.policies.checks.helpers import ACCOUNT, FAILED, PASSED, UNKNOWN, doc, scan

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ADMIN = {"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
USERS = {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": ["kms:Decrypt", "kms:Encrypt"],
         "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/aegis-dev-*"}}}


class TestKmsKeyPolicy:
    def test_admin_statement_plus_scoped_use_passes(self):
        assert scan(key_policy, "aws_kms_key", {"policy": doc(ADMIN, USERS)}) == PASSED

    def test_separate_key_policy_resource_is_judged_too(self):
        assert scan(key_policy, "aws_kms_key_policy", {"key_id": "k", "policy": doc(ADMIN, USERS)}) == PASSED

    @pytest.mark.parametrize("extra", [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Role", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/x"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Star", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "*", "Resource": "*"},
        {"Sid": "NotAction", "Effect": "Allow", "Principal": {"AWS": ROOT}, "NotAction": "kms:ScheduleKeyDeletion",
         "Resource": "*"},
    ])
    def test_a_second_all_actions_grant_fails(self, extra):
        assert scan(key_policy, "aws_kms_key", {"policy": doc(ADMIN, extra)}) == FAILED

    def test_kms_star_to_a_non_root_principal_fails_even_alone(self):
        wide = dict(ADMIN, Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/ml-engineer"})
        assert scan(key_policy, "aws_kms_key", {"policy": doc(wide, USERS)}) == FAILED

    @pytest.mark.parametrize("conf", [{}, {"policy": "${data.aws_iam_policy_document.key.json}"}])
    def test_default_or_unresolved_policy_fails(self, conf):
        assert scan(key_policy, "aws_kms_key", conf) == FAILED


ALLOW_S3 = {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": ["arn:aws:s3:::aegis-dev-datasets-111122223333-eu-west-1/*"]}


class TestNoWildcardAction:
    @pytest.mark.parametrize("rtype", ["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                                       "aws_iam_group_policy"])
    def test_named_actions_pass(self, rtype):
        assert scan(wildcard, rtype, {"policy": doc(ALLOW_S3)}) == PASSED

    def test_deny_star_is_fine(self):
        deny = {"Sid": "D", "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        assert scan(wildcard, "aws_iam_policy", {"policy": doc(ALLOW_S3, deny)}) == PASSED

    @pytest.mark.parametrize("stmt", [
        {"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "AllList", "Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": "*"},
        {"Sid": "Not", "Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
    ])
    def test_star_action_or_not_action_fails(self, stmt):
        assert scan(wildcard, "aws_iam_policy", {"policy": doc(ALLOW_S3, stmt)}) == FAILED

    def test_role_inline_policies_are_judged(self):
        role = {"name": "r", "assume_role_policy": doc(), "inline_policy": [
            {"name": "ok", "policy": doc(ALLOW_S3)},
            {"name": "bad", "policy": doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}]}
        assert scan(wildcard, "aws_iam_role", role) == FAILED

    def test_unresolved_document_fails(self):
        assert scan(wildcard, "aws_iam_policy", {"policy": "${data.aws_iam_policy_document.p.json}"}) == FAILED


PASS_SCOPED = {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole",
               "Resource": [f"arn:aws:iam::{ACCOUNT}:role/aegis-dev-*"],
               "Condition": {"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com"]}}}


class TestPassRoleScoped:
    def test_named_roles_and_service_condition_pass(self):
        assert scan(passrole, "aws_iam_policy", {"policy": doc(PASS_SCOPED)}) == PASSED

    def test_reference_to_a_role_of_the_stack_is_scoped(self):
        stmt = dict(PASS_SCOPED, Resource="${aws_iam_role.fraud-execution.arn}")
        assert scan(passrole, "aws_iam_role_policy", {"policy": doc(stmt)}) == PASSED

    def test_policy_without_passrole_passes(self):
        assert scan(passrole, "aws_iam_policy", {"policy": doc(ALLOW_S3)}) == PASSED

    @pytest.mark.parametrize("stmt", [
        dict(PASS_SCOPED, Resource="*"),
        dict(PASS_SCOPED, Resource=f"arn:aws:iam::{ACCOUNT}:role/*"),
        {k: v for k, v in PASS_SCOPED.items() if k != "Condition"},
        dict(PASS_SCOPED, Action="iam:*", Resource="*"),
        {"Sid": "Pass*", "Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"},
        {"Sid": "Not", "Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},   # covers iam:PassRole
    ])
    def test_unscoped_passrole_fails(self, stmt):
        assert scan(passrole, "aws_iam_policy", {"policy": doc(stmt)}) == FAILED

    def test_boundaries_are_held_to_the_same_rule(self):
        boundary_doc = doc({"Sid": "AllowReadIamAndPass", "Effect": "Allow",
                            "Action": ["iam:Get*", "iam:List*", "iam:PassRole"], "Resource": "*"})
        assert scan(passrole, "aws_iam_policy", {"name": "aegis-dev-permission-boundary",
                                                 "policy": boundary_doc}) == FAILED


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/aegis-dev-permission-boundary"
SERVICE_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                     "Action": "sts:AssumeRole"})


class TestPermissionBoundary:
    def test_role_with_boundary_passes(self):
        assert scan(boundary, "aws_iam_role", {"assume_role_policy": SERVICE_TRUST,
                                               "permissions_boundary": BOUNDARY}) == PASSED

    @pytest.mark.parametrize("value", [None, "", "not-an-arn"])
    def test_role_without_boundary_fails(self, value):
        conf = {"assume_role_policy": SERVICE_TRUST}
        if value is not None:
            conf["permissions_boundary"] = value
        assert scan(boundary, "aws_iam_role", conf) == FAILED


MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def trust(principal, condition=None, action="sts:AssumeRole"):
    stmt = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        stmt["Condition"] = condition
    return {"assume_role_policy": doc(stmt), "permissions_boundary": BOUNDARY}


class TestHumanRoleMfa:
    @pytest.mark.parametrize("principal", [{"AWS": ROOT}, {"AWS": "444455556666"},
                                           {"AWS": f"arn:aws:iam::{ACCOUNT}:user/alice"}])
    def test_human_trust_with_mfa_passes(self, principal):
        assert scan(mfa, "aws_iam_role", trust(principal, MFA)) == PASSED

    def test_mfa_age_bound_passes(self):
        assert scan(mfa, "aws_iam_role", trust({"AWS": ROOT},
                                               {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}})) == PASSED

    @pytest.mark.parametrize("condition", [None, {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}},
                                           {"Bool": {"aws:MultiFactorAuthPresent": "false"}}])
    def test_human_trust_without_strict_mfa_fails(self, condition):
        assert scan(mfa, "aws_iam_role", trust({"AWS": ROOT}, condition)) == FAILED

    def test_everyone_without_mfa_fails(self):
        assert scan(mfa, "aws_iam_role", trust("*")) == FAILED

    @pytest.mark.parametrize("federated", [f"arn:aws:iam::{ACCOUNT}:saml-provider/corp",
                                           f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"])
    def test_federation_cannot_be_judged_and_fails(self, federated):
        assert scan(mfa, "aws_iam_role", trust({"Federated": federated}, action="sts:AssumeRoleWithSAML")) == FAILED

    def test_workload_trust_narrowed_to_named_roles_is_not_human(self):
        narrowed = {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/aegis-dev-workload-*"]}}
        assert scan(mfa, "aws_iam_role", trust({"AWS": [ROOT]}, narrowed)) == UNKNOWN

    def test_narrowing_to_any_role_is_still_human(self):
        broad = {"ArnLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/*"]}}
        assert scan(mfa, "aws_iam_role", trust({"AWS": ROOT}, broad)) == FAILED

    def test_service_role_is_not_a_human_role(self):
        assert scan(mfa, "aws_iam_role", {"assume_role_policy": SERVICE_TRUST}) == UNKNOWN

    def test_unresolved_trust_policy_fails(self):
        assert scan(mfa, "aws_iam_role", {"assume_role_policy": "${data.aws_iam_policy_document.t.json}"}) == FAILED


IDENTITY = "999900001111"
SSO = f"arn:aws:iam::{IDENTITY}:role/aws-reserved/sso.amazonaws.com/"


def identity_center(*arns, extra=None):
    return trust({"AWS": f"arn:aws:iam::{IDENTITY}:root"}, {"ArnLike": {"aws:PrincipalArn": list(arns)}, **(extra or {})})


class TestHumanRoleMfaUnderIdentityCenter:
    """identity-center mode: MFA is Identity Center's; its sessions never carry the MFA key."""

    @pytest.mark.parametrize("arn", [f"{SSO}*AWSReservedSSO_AegisDevMlEngineer_*",
                                     f"{SSO}eu-west-1/AWSReservedSSO_AegisDevMlEngineer_0123456789abcdef"])
    def test_trust_of_a_named_permission_set_passes_without_the_mfa_key(self, arn):
        assert scan(mfa, "aws_iam_role", identity_center(arn)) == PASSED

    def test_requiring_the_mfa_key_from_identity_center_sessions_fails(self):
        assert scan(mfa, "aws_iam_role", identity_center(f"{SSO}*AWSReservedSSO_AegisDevMlEngineer_*", extra=MFA)) \
            == FAILED

    @pytest.mark.parametrize("arn", [f"{SSO}*AWSReservedSSO_*", f"{SSO}*", f"{SSO}*AWSReservedSSO_Aegis*_*"])
    def test_any_permission_set_fails(self, arn):
        assert scan(mfa, "aws_iam_role", identity_center(arn)) == FAILED

    def test_an_identity_account_trusted_without_mfa_still_fails(self):
        """iam-mfa mode: the account principal without the MFA condition."""
        assert scan(mfa, "aws_iam_role", trust({"AWS": f"arn:aws:iam::{IDENTITY}:root"})) == FAILED
