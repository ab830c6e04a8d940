"""The gate's access checks on a small app: violations with their path, missing must-haves, and roles no
principal declares (found, reported with what they can do, never a crash)."""
from __future__ import annotations

import pytest

from policies.access import access_of, load_intent
from policies.app_checks import all_checks
from policies.app_checks.base import CannotJudge
from policies.app_checks.view import AppView
from tests.policies.access.small_app import INTENT, PREFIX, allow, intent_file, service_trust, stacks
from tests.policies.app_checks.helpers import config

PASS_ANY = allow("iam:PassRole", "*")


def results(tmp_path, check_id: str, text: str = INTENT, **kwargs):
    from policies.app_checks import REGISTRY

    all_checks()
    view = AppView.build(stacks(**kwargs), {"dev": config("dev")})
    access_of(view, load_intent(intent_file(tmp_path, text)))  # the checks reuse what this view computed
    return {r.address.split(".")[1]: r for r in REGISTRY[check_id].func(view)}


def test_a_violation_names_the_capability_and_its_path(tmp_path):
    found = results(tmp_path, "AEGIS_ACCESS_WITHIN_INTENT", ds=(PASS_ANY,))
    assert not found["data-scientist"].passed
    assert (f"read:inference: data-scientist → iam:PassRole → {PREFIX}-fraud-scorer-exec (via sagemaker.amazonaws.com)"
            in found["data-scientist"].message)
    assert found["fraud-scorer-exec"].passed


def test_a_must_have_that_is_denied_fails_and_one_that_is_granted_passes(tmp_path):
    text = INTENT.replace("    may: [read:datasets]", "    must_have: [read:datasets]")
    found = results(tmp_path, "AEGIS_ACCESS_MUST_HAVE", text)
    assert not found["data-scientist"].passed and "read:datasets" in found["data-scientist"].message
    grant = allow("s3:GetObject", f"arn:aws:s3:::{PREFIX}-datasets-111122223333-eu-west-1/*")
    found = results(tmp_path, "AEGIS_ACCESS_MUST_HAVE", text, ds=(grant,))
    assert found["data-scientist"].passed


def test_a_new_role_is_an_undeclared_principal_with_its_capabilities(tmp_path):
    roles = {"training-job": (service_trust(), (allow("kms:Decrypt", "${data.aws_kms_key.inference.arn}"),))}
    found = results(tmp_path, "AEGIS_ACCESS_DECLARED", extra_roles=roles)
    assert not found["training-job"].passed
    assert "undeclared principal" in found["training-job"].message and "use-key:inference" in found["training-job"].message
    assert found["data-scientist"].passed
    within = results(tmp_path, "AEGIS_ACCESS_WITHIN_INTENT", extra_roles=roles)
    assert "training-job" not in within  # judged by DECLARED only, not a crash


def test_a_role_two_principals_match_is_reported(tmp_path):
    text = INTENT + '  everyone:\n    roles: ["{prefix}-*"]\n'
    found = results(tmp_path, "AEGIS_ACCESS_DECLARED", text)
    assert not found["data-scientist"].passed and "several principals" in found["data-scientist"].message


def test_a_cell_that_cannot_be_judged_raises_for_the_gate(tmp_path):
    odd = allow("kms:Decrypt", "*", Condition={"StringLike": {"aws:UserAgent": "*"}})
    with pytest.raises(CannotJudge, match="aws:UserAgent"):
        results(tmp_path, "AEGIS_ACCESS_WITHIN_INTENT", ds=(odd,))
