"""The pack on hand-written Terraform: `aws_iam_policy_document` blocks rendered as Terraform renders
them, references it cannot resolve reported as "could not evaluate" (not as a failure of the resource),
and the shapes module repositories use judged right both ways."""
from __future__ import annotations

import json

from policies.checks import aegis_checklib
from policies.checks.aegis_checklib import NOT_EVALUATED, is_reference
from policies.checks.iam_human_role_mfa import check as human_mfa
from policies.checks.iam_role_permission_boundary import check as boundary
from policies.checks.s3_bucket_policy_tls import check as bucket_tls
from policies.checks.s3_object_lock_retention import check as object_lock
from policies.findings import NOT_EVALUATED_PREFIX
from policies.scan import policy_documents
from tests.policies.checks.helpers import FAILED, PASSED, UNKNOWN

ASSUME = "data.aws_iam_policy_document.assume.json"  # as checkov leaves the HCL reference


def hcl_document(*statements: dict) -> dict:
    """An `aws_iam_policy_document` as checkov's HCL reader gives it: attributes in lists, lists nested."""
    return {"statement": list(statements)}


def service_trust(service: str) -> dict:
    return {"actions": [["sts:AssumeRole"]], "effect": ["Allow"],
            "principals": [{"type": ["Service"], "identifiers": [[service]]}]}


def account_trust(mfa: bool) -> dict:
    stmt = {"sid": ["People"], "actions": [["sts:AssumeRole"]],
            "principals": [{"type": ["AWS"], "identifiers": [["arn:aws:iam::111122223333:root"]]}]}
    if mfa:  # checkov reads the HCL string "true" as a bool
        stmt["condition"] = [{"test": ["Bool"], "variable": ["aws:MultiFactorAuthPresent"], "values": [[True]]}]
    return stmt


def role_with(document: dict) -> dict:
    """An aws_iam_role conf as the gate hands it to the pack: the reference, and the rendered document."""
    return {"assume_role_policy": [ASSUME], "permissions_boundary": ["arn:aws:iam::111122223333:policy/b"],
            policy_documents.DOCUMENTS_KEY: {ASSUME: json.dumps(policy_documents.render(document))}}


def test_the_constants_plain_checkov_needs_match_the_gate():
    assert aegis_checklib.DOCUMENTS_KEY == policy_documents.DOCUMENTS_KEY
    assert NOT_EVALUATED == NOT_EVALUATED_PREFIX


def test_a_policy_document_renders_as_terraform_renders_it():
    doc = policy_documents.render(hcl_document(
        account_trust(mfa=True),
        {"effect": ["Deny"], "not_actions": [["s3:GetObject"]],
         "resources": [["arn:${data.aws_partition.current.partition}:s3:::models/*"]]}))
    assert doc == {"Version": "2012-10-17", "Statement": [
        {"Sid": "People", "Effect": "Allow", "Action": ["sts:AssumeRole"],
         "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]},
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": ["true"]}}},
        {"Effect": "Deny", "NotAction": ["s3:GetObject"],
         "Resource": ["arn:${data.aws_partition.current.partition}:s3:::models/*"]}]}


def test_a_document_that_is_not_literal_is_not_rendered():
    assert policy_documents.render({"source_policy_documents": [["${data.x.json}"]], "statement": []}) is None
    assert policy_documents.render(hcl_document({"actions": ["var.actions"], "resources": [["*"]]})) is None
    assert policy_documents.render(hcl_document({"dynamic": [{"statement": {}}]})) is None
    principals_from_variable = {"actions": [["sts:AssumeRole"]],
                                "principals": [{"type": ["AWS"], "identifiers": ["var.trusted"]}]}
    assert policy_documents.render(hcl_document(principals_from_variable)) is None


def test_each_module_instance_gets_its_own_documents():
    class Key:  # checkov's TFDefinitionKey: a file, and the module call it was loaded for
        def __init__(self, file_path: str, caller: str | None) -> None:
            self.file_path, self.tf_source_modules = file_path, caller

    def definition(service: str) -> dict:
        return {"data": [{"aws_iam_policy_document": {"assume": hcl_document(service_trust(service))}}],
                "resource": [{"aws_iam_role": {"this": {"assume_role_policy": [ASSUME]}}}]}

    one, two = definition("lambda.amazonaws.com"), definition("eks.amazonaws.com")
    policy_documents.attach({Key("/m/main.tf", "module.a"): one, Key("/m/main.tf", "module.b"): two})
    rendered = [json.loads(d["resource"][0]["aws_iam_role"]["this"][policy_documents.DOCUMENTS_KEY][ASSUME])
                for d in (one, two)]
    assert [r["Statement"][0]["Principal"]["Service"] for r in rendered] == [["lambda.amazonaws.com"],
                                                                            ["eks.amazonaws.com"]]


def test_human_persona_check_sees_through_policy_documents():
    assert human_mfa.scan_resource_conf(role_with(hcl_document(service_trust("eks.amazonaws.com")))) == UNKNOWN
    assert human_mfa.scan_resource_conf(role_with(hcl_document(account_trust(mfa=True)))) == PASSED
    assert human_mfa.scan_resource_conf(role_with(hcl_document(account_trust(mfa=False)))) == FAILED
    assert "without MFA" in human_mfa.details[0]


def test_an_unresolved_trust_policy_could_not_be_evaluated():
    conf = {"assume_role_policy": [ASSUME]}  # a document the gate could not render
    assert human_mfa.scan_resource_conf(conf) == FAILED  # plain checkov: fail closed …
    assert human_mfa.details[0].startswith(NOT_EVALUATED)  # … saying why, so the gate can tell


def test_a_missing_or_broken_policy_is_a_failure_not_a_doubt():
    assert bucket_tls.scan_resource_conf({"bucket": ["b"]}) == FAILED
    assert not bucket_tls.details[0].startswith(NOT_EVALUATED)
    assert bucket_tls.scan_resource_conf({"policy": ["{not json"]}) == FAILED
    assert not bucket_tls.details[0].startswith(NOT_EVALUATED)
    assert bucket_tls.scan_resource_conf({"policy": ["${data.aws_iam_policy_document.tls.json}"]}) == FAILED
    assert bucket_tls.details[0].startswith(NOT_EVALUATED)


def test_permission_boundary_given_as_variable_or_reference():
    def judge(value: str) -> tuple[object, str]:
        result = boundary.scan_resource_conf({"permissions_boundary": [value]})
        return result, (boundary.details or [""])[0]

    result, why = judge("var.permissions_boundary")
    assert result == FAILED and why.startswith(NOT_EVALUATED) and "var.permissions_boundary" in why
    assert judge("aws_iam_policy.boundary.arn")[0] == PASSED  # a policy of the same configuration
    assert judge("${aws_iam_policy.boundary.arn}")[0] == PASSED  # the same, in Terraform JSON
    result, why = judge("boundary")
    assert result == FAILED and not why.startswith(NOT_EVALUATED)


def test_object_lock_settings_from_expressions_could_not_be_evaluated():
    def conf(mode, days) -> dict:
        return {"object_lock_enabled": ["Enabled"], "rule": [{"default_retention": [{"mode": [mode], "days": [days]}]}]}

    assert object_lock.scan_resource_conf(conf("try(var.object_lock_configuration.mode, null)", 1)) == FAILED
    assert object_lock.details[0].startswith(NOT_EVALUATED)
    assert object_lock.scan_resource_conf(conf({}, 1)) == FAILED  # what checkov makes of try(…) over a map
    assert object_lock.details[0].startswith(NOT_EVALUATED)
    assert object_lock.scan_resource_conf(conf("COMPLIANCE", 0)) == FAILED
    assert not object_lock.details[0].startswith(NOT_EVALUATED)
    assert object_lock.scan_resource_conf(conf("COMPLIANCE", 365)) == PASSED


def test_references_are_told_from_values():
    for raw in ("${aws_kms_key.k.arn}", "var.x", "local.name", "module.m.arn", "data.aws_iam_policy_document.d.json",
                "try(var.x, null)", "base64encode(templatefile(\"a\", {}))"):
        assert is_reference(raw), raw
    for raw in ("arn:aws:iam::111122223333:policy/b", "COMPLIANCE", "variable", None, 3, ""):
        assert not is_reference(raw), raw


def test_settings_given_by_variables_could_not_be_evaluated():
    from policies.checks.securityhub_aws_product_subscription import check as product_subscription

    assert object_lock.scan_resource_conf({"object_lock_enabled": ["var.object_lock_enabled"]}) == FAILED
    assert object_lock.details[0].startswith(NOT_EVALUATED)
    assert object_lock.scan_resource_conf({"object_lock_enabled": ["Disabled"]}) == FAILED
    assert not object_lock.details[0].startswith(NOT_EVALUATED)
    arn = "arn:aws:securityhub:${var.region}:733251395267:product/alertlogic/althreatmanagement"
    assert product_subscription.scan_resource_conf({"product_arn": [arn]}) == FAILED
    assert product_subscription.details[0].startswith(NOT_EVALUATED)
    assert product_subscription.scan_resource_conf({"product_arn": ["not-an-arn"]}) == FAILED
    assert not product_subscription.details[0].startswith(NOT_EVALUATED)


def test_a_document_with_a_count_is_rendered_for_its_instance_reference():
    indexed = "data.aws_iam_policy_document.assume[0].json"  # how module code refers to a counted block
    definition = {"data": [{"aws_iam_policy_document": {"assume": {"count": [1], **hcl_document(
                      service_trust("lambda.amazonaws.com"))}}}],
                  "resource": [{"aws_iam_role": {"this[0]": {"assume_role_policy": [indexed]}}}]}
    policy_documents.attach({"/m/main.tf": definition})
    conf = definition["resource"][0]["aws_iam_role"]["this[0]"]
    assert json.loads(conf[policy_documents.DOCUMENTS_KEY][indexed])["Statement"][0]["Principal"] == {
        "Service": ["lambda.amazonaws.com"]}
    assert human_mfa.scan_resource_conf(conf) == UNKNOWN  # a service role: no human persona check


def test_an_image_given_by_a_variable_could_not_be_evaluated():
    from policies.checks.container_image_digest import check as image_digest

    def judge(uri: str):
        return image_digest.scan_entity_conf({"image_uri": [uri]}, "aws_lambda_function")

    assert judge("var.image_uri") == FAILED and image_digest.details[0].startswith(NOT_EVALUATED)
    assert judge("${aws_ecr_repository.fn.repository_url}:latest") == FAILED  # the tag is right there
    assert not image_digest.details[0].startswith(NOT_EVALUATED)
    assert judge("${aws_ecr_repository.fn.repository_url}@sha256:" + "a" * 64) == PASSED
