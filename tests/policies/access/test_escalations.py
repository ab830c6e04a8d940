"""Effective access, both ways, for each class of escalation the per-resource checks cannot see."""
from __future__ import annotations

import pytest

from tests.policies.access.small_app import (
    ACCOUNT,
    DATASETS_BUCKET,
    DS,
    EXEC,
    HUMAN_TRUST,
    INFERENCE_BUCKET,
    KEY_REF,
    PREFIX,
    REGION,
    ROOT,
    ROOT_DELEGATION,
    allow,
    analyze,
    cell,
    deny,
    doc,
)

PASS_EXEC = allow("iam:PassRole", EXEC, Condition={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})
DECRYPT_ANY_KEY = allow("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*")
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/{PREFIX}-permission-boundary"


# --- PassRole to a more privileged role ------------------------------------------------------------

def test_passing_the_execution_role_to_its_service_gives_its_data_access_with_the_path(tmp_path):
    access, _ = analyze(tmp_path, ds=(PASS_EXEC,))
    got = cell(access, "data-scientist", "read:inference")
    assert got.effective is True
    assert got.path.startswith(f"data-scientist → iam:PassRole → {PREFIX}-fraud-scorer-exec "
                               "(via sagemaker.amazonaws.com) → s3:GetObject")
    assert "kms:Decrypt on the inference key via S3" in got.path
    assert cell(access, "data-scientist", "pass-role:model-exec").effective is True


def test_passrole_to_a_service_the_role_does_not_trust_gives_nothing(tmp_path):
    to_lambda = allow("iam:PassRole", EXEC, Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}})
    access, _ = analyze(tmp_path, ds=(to_lambda,))
    assert cell(access, "data-scientist", "read:inference").effective is False
    assert cell(access, "data-scientist", "pass-role:model-exec").effective is False


# --- AssumeRole trust chains -----------------------------------------------------------------------

def test_a_trust_policy_naming_the_persona_gives_it_the_role_even_without_an_identity_grant(tmp_path):
    trust = doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": DS}, "Action": "sts:AssumeRole"})
    access, _ = analyze(tmp_path, exec_trust=trust)
    got = cell(access, "data-scientist", "use-key:inference")
    assert got.effective is True and got.path.startswith(f"data-scientist → sts:AssumeRole → {PREFIX}-fraud-scorer-exec")


def test_a_trust_naming_only_the_account_needs_the_callers_own_grant(tmp_path):
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"})
    access, _ = analyze(tmp_path, exec_trust=trust)
    assert cell(access, "data-scientist", "assume-role:model-exec").effective is False
    access, _ = analyze(tmp_path, exec_trust=trust, ds=(allow("sts:AssumeRole", EXEC),))
    assert cell(access, "data-scientist", "assume-role:model-exec").effective is True


def test_chains_are_followed_to_a_fixed_point(tmp_path):
    # data-scientist → assumes helper → passes the execution role → inference data
    helper_trust = doc({"Effect": "Allow", "Principal": {"AWS": DS}, "Action": "sts:AssumeRole"})
    access, _ = analyze(tmp_path, extra_roles={"helper": (helper_trust, (PASS_EXEC,))})
    got = cell(access, "data-scientist", "read:inference")
    assert got.effective is True
    assert got.path.startswith(f"data-scientist → sts:AssumeRole → {PREFIX}-helper → iam:PassRole → "
                               f"{PREFIX}-fraud-scorer-exec (via sagemaker.amazonaws.com)")
    access, _ = analyze(tmp_path, extra_roles={"helper": (doc(HUMAN_TRUST), (PASS_EXEC,))})
    assert cell(access, "data-scientist", "read:inference").effective is False


# --- key policies ----------------------------------------------------------------------------------

def test_a_key_policy_naming_a_principal_grants_it_without_any_identity_policy(tmp_path):
    names_ds = {"Effect": "Allow", "Principal": {"AWS": DS}, "Action": "kms:Decrypt", "Resource": "*"}
    access, _ = analyze(tmp_path, key_policy=(ROOT_DELEGATION, names_ds))
    assert cell(access, "data-scientist", "use-key:inference").path == "data-scientist → kms:Decrypt on the inference key"
    names_exec = {**names_ds, "Principal": {"AWS": EXEC}}
    access, _ = analyze(tmp_path, key_policy=(ROOT_DELEGATION, names_exec))
    assert cell(access, "data-scientist", "use-key:inference").effective is False


def test_root_delegation_lets_any_identity_grant_through_and_without_it_nothing_reaches_the_key(tmp_path):
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,))
    assert cell(access, "data-scientist", "use-key:inference").effective is True
    only_exec = {"Effect": "Allow", "Principal": {"AWS": EXEC}, "Action": "kms:*", "Resource": "*"}
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,), key_policy=(only_exec,))
    assert cell(access, "data-scientist", "use-key:inference").effective is False
    assert cell(access, "fraud-scorer-exec", "use-key:inference").effective is True


# --- bucket policies -------------------------------------------------------------------------------

def test_a_bucket_policy_for_everyone_in_the_account_grants_reads_and_its_conditions_count(tmp_path):
    broad = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{DATASETS_BUCKET}/*",
             "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}
    access, _ = analyze(tmp_path, datasets_policy=(broad,))
    got = cell(access, "data-scientist", "read:datasets")
    assert got.effective is True and "s3:GetObject" in got.path
    other_account = {**broad, "Condition": {"StringEquals": {"aws:PrincipalAccount": "444455556666"}}}
    access, _ = analyze(tmp_path, datasets_policy=(other_account,))
    assert cell(access, "data-scientist", "read:datasets").effective is False


def test_a_bucket_policy_deny_without_tls_does_not_block_a_tls_request_but_a_plain_deny_does(tmp_path):
    grant = allow("s3:GetObject", f"arn:aws:s3:::{DATASETS_BUCKET}/*")
    tls = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
           "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    access, _ = analyze(tmp_path, ds=(grant,), datasets_policy=(tls,))
    assert cell(access, "data-scientist", "read:datasets").effective is True
    access, _ = analyze(tmp_path, ds=(grant,), datasets_policy=({**tls, "Condition": {}},))
    assert cell(access, "data-scientist", "read:datasets").effective is False


# --- permission boundaries -------------------------------------------------------------------------

@pytest.mark.parametrize("boundary, expected", [
    (None, True),  # no boundary: the identity policy decides
    ((allow("*"),), True),  # a boundary that limits nothing
    ((allow("s3:*"),), False),  # a boundary without kms
])
def test_a_boundary_limits_only_when_it_leaves_the_action_out(tmp_path, boundary, expected):
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,), ds_boundary=BOUNDARY if boundary else None,
                        boundary_policy=boundary)
    assert cell(access, "data-scientist", "use-key:inference").effective is expected


def test_a_boundary_that_is_not_in_the_app_cannot_be_judged(tmp_path):
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,), ds_boundary=BOUNDARY)
    got = cell(access, "data-scientist", "use-key:inference")
    assert got.effective is None and "permission boundary" in got.problem


# --- SCPs ------------------------------------------------------------------------------------------

def test_an_attached_scp_deny_overrides_every_allow(tmp_path):
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,), scp=(deny("kms:Decrypt"),))
    assert cell(access, "data-scientist", "use-key:inference").effective is False
    access, _ = analyze(tmp_path, ds=(DECRYPT_ANY_KEY,), scp=(deny("kms:Decrypt"),), scp_attached=False)
    assert cell(access, "data-scientist", "use-key:inference").effective is True


# --- conditions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("condition, expected", [
    ({"StringEquals": {"aws:RequestedRegion": "us-west-2"}}, False),
    ({"StringEquals": {"aws:RequestedRegion": REGION}}, True),
    ({"StringEquals": {"kms:ViaService": f"lambda.{REGION}.amazonaws.com"}}, True),  # through Lambda
    ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, False),  # people sign in with MFA
    ({"ForAnyValue:StringEquals": {"kms:ResourceAliases": [f"alias/{PREFIX}-training"]}}, False),
])
def test_a_condition_can_make_a_statement_inapplicable(tmp_path, condition, expected):
    access, _ = analyze(tmp_path, ds=(allow("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*", Condition=condition),))
    assert cell(access, "data-scientist", "use-key:inference").effective is expected


# --- cannot judge, never guess ---------------------------------------------------------------------

@pytest.mark.parametrize("statement, why", [
    (allow("kms:Decrypt", "*", Condition={"StringEquals": {"aws:SourceIp": "10.0.0.1"}}), "aws:SourceIp"),
    (allow("kms:Decrypt", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), "IpAddress"),
    (allow("kms:Decrypt", "${aws_kms_key.elsewhere.arn}"), "${aws_kms_key.elsewhere.arn}"),
])
def test_what_the_evaluator_does_not_model_is_cannot_judge_with_the_document(tmp_path, statement, why):
    access, _ = analyze(tmp_path, ds=(statement,))
    got = cell(access, "data-scientist", "use-key:inference")
    assert got.effective is None
    assert why in got.problem and "dev-access/aws_iam_role_policy.data-scientist" in got.problem
    assert any("use-key:inference" in p for p in access.problems())


def test_the_unchanged_execution_role_keeps_its_grants(tmp_path):
    access, _ = analyze(tmp_path)
    assert cell(access, "fraud-scorer-exec", "read:inference").effective is True
    assert cell(access, "fraud-scorer-exec", "read:inference").path.endswith("kms:Decrypt on the inference key via S3")
    assert cell(access, "data-scientist", "read:inference").effective is False
    assert INFERENCE_BUCKET in cell(access, "fraud-scorer-exec", "read:inference").path


def test_a_role_policy_naming_a_key_of_another_stack_by_reference_cannot_be_judged(tmp_path):
    # CDKTF has no cross-stack references: such a token resolves to nothing and is never guessed.
    access, _ = analyze(tmp_path, exec_grants=(allow("kms:Decrypt", KEY_REF),))
    assert cell(access, "fraud-scorer-exec", "use-key:inference").effective is None


def test_a_bucket_without_an_encryption_configuration_is_read_under_sse_s3(tmp_path):
    from policies.access import access_of, load_intent
    from policies.app_checks.view import AppView
    from tests.policies.access.small_app import intent_file, stacks
    from tests.policies.app_checks.helpers import config

    apps = stacks(ds=(allow("s3:GetObject", f"arn:aws:s3:::{INFERENCE_BUCKET}/*"),))
    del apps["dev-data"]["resource"]["aws_s3_bucket_server_side_encryption_configuration"]["inference"]
    access = access_of(AppView.build(apps, {"dev": config("dev")}), load_intent(intent_file(tmp_path)))["dev"]
    got = cell(access, "data-scientist", "read:inference")
    assert got.effective is True and "kms" not in got.path  # no key to ask: S3 alone decides


def test_a_grant_found_on_one_path_settles_a_cell_another_path_cannot_judge(tmp_path):
    # The persona's own statement cannot be judged, but the role it may pass grants the key for certain.
    odd = allow("kms:Decrypt", "*", Condition={"StringEquals": {"aws:SourceIp": "10.0.0.1"}})
    access, _ = analyze(tmp_path, ds=(odd, PASS_EXEC))
    assert cell(access, "data-scientist", "use-key:inference").effective is True
    access, _ = analyze(tmp_path, ds=(odd,))
    assert cell(access, "data-scientist", "use-key:inference").effective is None  # nothing else decides it


def test_reconfiguring_the_alert_topic_is_disabling_security_unless_its_topic_policy_denies_it(tmp_path):
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:{PREFIX}-alerts"
    access, _ = analyze(tmp_path, ds=(allow("sns:SetTopicAttributes", topic),))
    assert cell(access, "data-scientist", "disable-security").path == f"data-scientist → sns:SetTopicAttributes on {topic}"
    guard = {"Effect": "Deny", "Principal": "*", "Action": ["sns:SetTopicAttributes", "sns:DeleteTopic"], "Resource": topic,
             "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deployer"}}}
    access, _ = analyze(tmp_path, ds=(allow("sns:SetTopicAttributes", topic),), topic_policy=(guard,))
    assert cell(access, "data-scientist", "disable-security").effective is False
