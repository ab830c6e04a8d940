"""AEGIS_STUDIO_PRIVATE_SPACES both ways: the synthesized Studio roles pass; the domain-wide grants they
had before (any app or space of the domain, shared spaces included) fail, and so does a role that
cannot open its own private space."""
from __future__ import annotations

import copy
import json

import pytest

from tests.policies.app_checks.helpers import failures, run

CHECK = "AEGIS_STUDIO_PRIVATE_SPACES"
DS_ROLE = "aws_iam_role.studio_role-data-scientist_role_814CC9A2"
OWN = ("OwnPrivateStudioApps", "OwnPrivateStudioSpaces")


@pytest.fixture(scope="module")
def dev_app(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("dev-")}


def _edit_data_scientist(stacks: dict, edit) -> dict:
    stacks = copy.deepcopy(stacks)
    for policy in stacks["dev-platform"]["resource"]["aws_iam_role_policy"].values():
        if "studio_role-data-scientist" in policy["role"]:
            document = json.loads(policy["policy"])
            document["Statement"] = edit(document["Statement"])
            policy["policy"] = json.dumps(document)
    return stacks


def _message(results, address: str = DS_ROLE) -> str:
    (found,) = [r for r in results if r.address == address]
    assert not found.passed
    return found.message


def test_the_default_app_passes_for_both_studio_roles(dev_app):
    results = run(CHECK, dev_app, "dev")
    assert len(results) == 2 and failures(results) == []


def test_the_domain_wide_grants_of_before_fail(dev_app):
    """OwnStudioApps / OwnStudioSpaces as they were: every app and space of the domain, no conditions."""
    def domain_wide(statements):
        for statement in statements:
            if statement.get("Sid") in OWN:
                statement.pop("Condition")
        return statements
    message = _message(run(CHECK, _edit_data_scientist(dev_app, domain_wide), "dev"))
    assert "may CreateApp a app of ml-engineer's profile" in message
    assert "may CreateSpace a shared space" in message and "may DeleteSpace a space that names no owner" in message


def test_an_owner_condition_without_the_sharing_type_still_opens_shared_spaces(dev_app):
    def owner_only(statements):
        for statement in statements:
            if statement.get("Sid") in OWN:
                del statement["Condition"]["StringEquals"]
        return statements
    message = _message(run(CHECK, _edit_data_scientist(dev_app, owner_only), "dev"))
    assert "may CreateSpace a shared space" in message and "ml-engineer's profile" not in message


def test_a_role_that_cannot_open_its_own_space_fails(dev_app):
    def none(statements):
        return [s for s in statements if s.get("Sid") not in OWN]
    message = _message(run(CHECK, _edit_data_scientist(dev_app, none), "dev"))
    assert "cannot CreateSpace its own private space: Studio does not work for data-scientist" in message


def test_a_missing_studio_role_fails(dev_app):
    stacks = copy.deepcopy(dev_app)
    del stacks["dev-platform"]["resource"]["aws_iam_role"]["studio_role-data-scientist_role_814CC9A2"]
    results = run(CHECK, stacks, "dev")
    assert any(not r.passed and "no Studio role for data-scientist" in r.message for r in results)
