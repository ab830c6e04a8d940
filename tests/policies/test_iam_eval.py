"""The evaluator the separation-of-duties tests (and gate checks) rely on: AWS semantics, fail closed."""
from __future__ import annotations

import pytest

from policies.iam_eval import (
    ALLOW,
    DENY,
    IMPLICIT_DENY,
    Request,
    UnsupportedPolicy,
    as_principal,
    as_service,
    evaluate,
    is_allowed,
    kms_is_allowed,
    may_assume,
    wildcard_match,
)


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


BUCKET = "arn:aws:s3:::data-bucket"


def test_explicit_deny_wins_over_allow_in_any_order():
    for policy in (doc(allow("s3:*"), deny("s3:PutObject")), doc(deny("s3:PutObject"), allow("s3:*"))):
        assert evaluate([policy], Request("s3:PutObject", f"{BUCKET}/k")) == DENY
    # across documents too
    assert not is_allowed([doc(allow("s3:*")), doc(deny("s3:PutObject"))], Request("s3:PutObject", f"{BUCKET}/k"))


def test_no_matching_allow_is_an_implicit_deny():
    assert evaluate([doc(allow("s3:GetObject"))], Request("s3:PutObject")) == IMPLICIT_DENY
    assert not is_allowed([], Request("s3:GetObject"))


@pytest.mark.parametrize("pattern, action, expected", [
    ("s3:Get*", "s3:GetObject", True),
    ("s3:get*", "S3:GETOBJECT", True),  # actions are case-insensitive
    ("s3:Get*", "s3:PutObject", False),
    ("s3:?etObject", "s3:GetObject", True),
    ("s3:?etObject", "s3:GGetObject", False),
    ("sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig", False),  # no implicit prefix match
])
def test_action_wildcards(pattern, action, expected):
    assert (evaluate([doc(allow(pattern))], Request(action)) == ALLOW) is expected


def test_resource_wildcards_are_case_sensitive_and_anchored():
    policy = doc(allow("s3:GetObject", f"{BUCKET}/experiments/*"))
    assert evaluate([policy], Request("s3:GetObject", f"{BUCKET}/experiments/a/b")) == ALLOW
    assert evaluate([policy], Request("s3:GetObject", f"{BUCKET}/Experiments/a")) == IMPLICIT_DENY
    assert evaluate([policy], Request("s3:GetObject", f"{BUCKET}-other/experiments/a")) == IMPLICIT_DENY
    assert not wildcard_match("arn:aws:s3:::b[12]", "arn:aws:s3:::b1")  # no character classes in IAM


def test_not_action_and_not_resource():
    policy = doc({"Effect": "Deny", "NotAction": ["sagemaker:InvokeEndpoint"], "Resource": "*"},
                 allow(["sagemaker:InvokeEndpoint", "s3:GetObject"]))
    assert evaluate([policy], Request("sagemaker:InvokeEndpoint")) == ALLOW
    assert evaluate([policy], Request("s3:GetObject")) == DENY
    not_resource = doc({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/secret/*"})
    assert evaluate([not_resource], Request("s3:GetObject", f"{BUCKET}/public/x")) == ALLOW
    assert evaluate([not_resource], Request("s3:GetObject", f"{BUCKET}/secret/x")) == IMPLICIT_DENY


def test_conditions_string_arn_bool_numeric():
    policy = doc(allow("iam:PassRole", "arn:aws:iam::111122223333:role/env-*",
                       Condition={"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com"]}}))
    role = "arn:aws:iam::111122223333:role/env-training"
    assert evaluate([policy], Request("iam:PassRole", role, {"iam:PassedToService": "sagemaker.amazonaws.com"})) == ALLOW
    assert evaluate([policy], Request("iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"})) == IMPLICIT_DENY
    assert evaluate([policy], Request("iam:PassRole", role)) == IMPLICIT_DENY  # key missing: positive op is false
    # condition keys are case-insensitive
    assert evaluate([policy], Request("iam:PassRole", role, {"IAM:passedtoservice": "sagemaker.amazonaws.com"})) == ALLOW

    arn = doc(allow("sts:AssumeRole", Condition={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app-*"}}))
    assert evaluate([arn], Request("sts:AssumeRole", context={"aws:PrincipalArn": "arn:aws:iam::1:role/app-x"})) == ALLOW
    assert evaluate([arn], Request("sts:AssumeRole", context={"aws:PrincipalArn": "arn:aws:iam::1:user/app-x"})) \
        == IMPLICIT_DENY

    mfa = doc(allow("s3:GetObject", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}))
    assert evaluate([mfa], Request("s3:GetObject", context={"aws:MultiFactorAuthPresent": True})) == ALLOW
    assert evaluate([mfa], Request("s3:GetObject", context={"aws:MultiFactorAuthPresent": False})) == IMPLICIT_DENY
    assert evaluate([mfa], Request("s3:GetObject")) == IMPLICIT_DENY

    tls = doc(deny("s3:*", Condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}}), allow("s3:*"))
    assert evaluate([tls], Request("s3:GetObject", context={"s3:TlsVersion": "1.1"})) == DENY
    assert evaluate([tls], Request("s3:GetObject", context={"s3:TlsVersion": "1.3"})) == ALLOW


def test_negated_operators_and_if_exists_on_missing_keys():
    region_guard = doc(deny("ec2:*", Condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}),
                       allow("ec2:*"))
    assert evaluate([region_guard], Request("ec2:RunInstances", context={"aws:RequestedRegion": "eu-west-1"})) == ALLOW
    assert evaluate([region_guard], Request("ec2:RunInstances", context={"aws:RequestedRegion": "us-east-1"})) == DENY
    # A negated operator on a missing key is true (AWS behaviour), so the deny applies.
    assert evaluate([region_guard], Request("ec2:RunInstances")) == DENY

    mfa_guard = doc(deny("s3:*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}), allow("s3:*"))
    assert evaluate([mfa_guard], Request("s3:GetObject")) == DENY  # IfExists: missing key → condition true
    assert evaluate([mfa_guard], Request("s3:GetObject", context={"aws:MultiFactorAuthPresent": "true"})) == ALLOW


def test_null_operator():
    vpc = doc(deny("sagemaker:CreateModel", Condition={"Null": {"sagemaker:VpcSubnets": "true"}}),
              allow("sagemaker:CreateModel"))
    assert evaluate([vpc], Request("sagemaker:CreateModel")) == DENY
    assert evaluate([vpc], Request("sagemaker:CreateModel", context={"sagemaker:VpcSubnets": ["subnet-1"]})) == ALLOW


def test_set_qualifiers():
    any_alias = doc(allow("kms:Decrypt", Condition={
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": ["alias/training"]}}))
    assert evaluate([any_alias], Request("kms:Decrypt", context={"kms:ResourceAliases": ["alias/x", "alias/training"]})) \
        == ALLOW
    assert evaluate([any_alias], Request("kms:Decrypt", context={"kms:ResourceAliases": ["alias/x"]})) == IMPLICIT_DENY
    assert evaluate([any_alias], Request("kms:Decrypt")) == IMPLICIT_DENY
    all_tags = doc(allow("s3:PutObject", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))
    assert evaluate([all_tags], Request("s3:PutObject", context={"aws:TagKeys": ["team", "cost"]})) == IMPLICIT_DENY
    assert evaluate([all_tags], Request("s3:PutObject")) == ALLOW  # vacuously true without the key


def test_boundary_and_scps_cap_identity_policies():
    identity = [doc(allow(["s3:GetObject", "iam:CreateUser"]))]
    boundary = doc(allow("s3:*"))
    assert is_allowed(identity, Request("s3:GetObject"), boundary=boundary)
    assert not is_allowed(identity, Request("iam:CreateUser"), boundary=boundary)  # not in the boundary
    assert not is_allowed([doc(allow("s3:PutObject"))], Request("s3:GetObject"), boundary=boundary)  # boundary grants nothing
    scp = doc(deny("s3:GetObject"))
    assert not is_allowed(identity, Request("s3:GetObject"), boundary=boundary, scps=[scp])
    assert is_allowed(identity, Request("s3:GetObject"), boundary=boundary, scps=[doc(deny("ec2:*"))])


def test_trust_principals():
    trust = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:root"},
                 "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
    someone = {"AWS": "arn:aws:iam::999900001111:role/sso-admin"}
    assert may_assume(trust, someone, context={"aws:MultiFactorAuthPresent": True})
    assert not may_assume(trust, someone)
    assert not may_assume(trust, {"AWS": "arn:aws:iam::123456789012:role/sso-admin"},
                          context={"aws:MultiFactorAuthPresent": True})
    assert not may_assume(trust, {"Service": "lambda.amazonaws.com"}, context={"aws:MultiFactorAuthPresent": True})
    service = doc({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert may_assume(service, {"Service": "cloudtrail.amazonaws.com"})
    assert not may_assume(service, {"AWS": "arn:aws:iam::999900001111:root"})


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
     "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
     "Condition": {"ForSomeValues:StringEquals": {"aws:TagKeys": ["a"]}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"},
    {"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "s3:GetObject", "Resource": "*"},
    {"Effect": "Allow", "Resource": "*"},
    {"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"},
])
def test_unsupported_elements_fail_closed(statement):
    with pytest.raises(UnsupportedPolicy):
        evaluate([doc(statement)], Request("s3:GetObject", "arn:aws:s3:::b/k", principal={"AWS": "y"}))


# --- KMS: the key policy decides, IAM only where the key policy delegates to the account -----------

ACCOUNT_ROOT = "arn:aws:iam::111122223333:root"
ADMIN = "arn:aws:iam::111122223333:role/Admin"
USER = "arn:aws:iam::111122223333:role/env-reader"
SLR = "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
EVERYTHING = doc(allow("*"))


def key(*statements):
    return doc({"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "kms:*",
                "Resource": "*"}, *statements)


def test_account_delegation_needs_an_identity_policy_too():
    delegating = key()
    assert kms_is_allowed(delegating, [EVERYTHING], as_principal(ADMIN, "kms:Decrypt"))
    assert not kms_is_allowed(delegating, [], as_principal(ADMIN, "kms:Decrypt"))
    # Another account's administrator is not delegated to.
    assert not kms_is_allowed(delegating, [EVERYTHING], as_principal("arn:aws:iam::444455556666:role/Admin",
                                                                     "kms:Decrypt"))


def test_a_key_policy_that_names_the_caller_needs_no_identity_policy():
    named = key({"Effect": "Allow", "Principal": {"AWS": SLR}, "Action": "kms:Decrypt", "Resource": "*"})
    assert kms_is_allowed(named, [], as_principal(SLR, "kms:Decrypt"))
    assert not kms_is_allowed(named, [], as_principal(SLR, "kms:Encrypt"))
    # Naming the account root with a condition on the role is still only delegation.
    by_condition = key({"Effect": "Allow", "Principal": {"AWS": ACCOUNT_ROOT}, "Action": "kms:Decrypt",
                        "Resource": "*", "Condition": {"ArnEquals": {"aws:PrincipalArn": SLR}}})
    assert not kms_is_allowed(by_condition, [], as_principal(SLR, "kms:Decrypt"))


def test_a_key_policy_deny_binds_administrators_with_kms_star():
    restricted = key(deny(["kms:Decrypt", "kms:GenerateDataKey*"], Principal="*", Condition={
        "StringEquals": {"aws:PrincipalAccount": "111122223333"},
        "ArnNotLike": {"aws:PrincipalArn": [USER]}}))
    assert not kms_is_allowed(restricted, [EVERYTHING], as_principal(ADMIN, "kms:Decrypt"))
    assert kms_is_allowed(restricted, [EVERYTHING], as_principal(USER, "kms:Decrypt"))
    assert kms_is_allowed(restricted, [EVERYTHING], as_principal(ADMIN, "kms:PutKeyPolicy"))  # still manageable
    # A service principal has no account: the deny does not reach it, and no delegation covers it.
    service = as_service("logs.eu-west-1.amazonaws.com", "kms:Decrypt")
    assert not kms_is_allowed(restricted, [], service)
    logs = key({"Effect": "Allow", "Principal": {"Service": "logs.eu-west-1.amazonaws.com"}, "Action": "kms:Decrypt",
                "Resource": "*"}, restricted["Statement"][1])
    assert kms_is_allowed(logs, [], service)


def test_identity_and_boundary_denies_reach_kms_too():
    named = key({"Effect": "Allow", "Principal": {"AWS": USER}, "Action": "kms:Decrypt", "Resource": "*"})
    assert not kms_is_allowed(named, [doc(deny("kms:*"))], as_principal(USER, "kms:Decrypt"))
    # A role named by the key policy is still capped by its permission boundary.
    assert not kms_is_allowed(named, [], as_principal(USER, "kms:Decrypt"), boundary=doc(allow("s3:*")))
    assert kms_is_allowed(named, [], as_principal(USER, "kms:Decrypt"), boundary=doc(allow("kms:*")))


def test_a_kms_request_without_a_principal_cannot_be_judged():
    with pytest.raises(UnsupportedPolicy):
        kms_is_allowed(key(), [EVERYTHING], Request("kms:Decrypt"))


def test_principal_requests_carry_the_keys_aws_sets():
    request = as_principal(USER, "kms:Decrypt", context={"kms:ViaService": "s3.eu-west-1.amazonaws.com"})
    assert request.context["aws:PrincipalArn"] == USER
    assert request.context["aws:PrincipalAccount"] == "111122223333"
    assert request.principal == {"AWS": USER}
    assert as_service("cloudtrail.amazonaws.com", "kms:Decrypt").context["aws:PrincipalIsAWSService"] is True


# --- indexed documents, modelled condition keys, same-account resource policies ------------------

ROLE = "arn:aws:iam::111122223333:role/aegis-dev-data-scientist"
OTHER = "arn:aws:iam::111122223333:role/aegis-dev-ml-engineer"


def test_an_indexed_document_decides_like_the_document_itself():
    from policies.iam_eval import Indexed

    policy = doc(allow("s3:Get*", f"{BUCKET}/*"), deny("s3:GetObject", f"{BUCKET}/secret/*"),
                 {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    indexed = Indexed(policy)
    for action, resource in (("s3:GetObject", f"{BUCKET}/a"), ("s3:GetObject", f"{BUCKET}/secret/a"),
                             ("iam:PassRole", "*"), ("kms:Decrypt", "*")):
        request = Request(action, resource)
        assert evaluate([indexed], request) == evaluate([policy], request)
    assert [s["Action"] for s in indexed.for_action("s3:GetObject")[:2]] == ["s3:Get*", "s3:GetObject"]


def test_a_condition_on_a_key_the_request_does_not_model_cannot_be_judged():
    policy = doc(allow("s3:GetObject", Condition={"IpAddressLike": {"aws:SourceIp": "10.0.0.0/8"}}))
    known = frozenset({"aws:principalarn"})
    with pytest.raises(UnsupportedPolicy, match="aws:SourceIp"):
        evaluate([doc(allow("s3:GetObject", Condition={"StringEquals": {"aws:SourceIp": "10.0.0.1"}}))],
                 Request("s3:GetObject", known_keys=known))
    with pytest.raises(UnsupportedPolicy):
        evaluate([policy], Request("s3:GetObject"))
    # a prefix entry admits a family of keys; absent from the context it reads as absent
    ctx = doc(allow("kms:Decrypt", Condition={"StringEquals": {"kms:EncryptionContext:aws:logs:arn": "x"}}))
    assert evaluate([ctx], Request("kms:Decrypt", known_keys=frozenset({"kms:encryptioncontext:*"}))) == IMPLICIT_DENY


def test_a_bucket_policy_grants_on_its_own_within_the_boundary_and_delegates_for_the_account():
    from policies.iam_eval import same_account_allowed

    names_role = doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "s3:GetObject", "Resource": "*"})
    names_account = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                         "Action": "s3:GetObject", "Resource": "*"})
    request = as_principal(ROLE, "s3:GetObject", f"{BUCKET}/k")
    assert same_account_allowed(names_role, [], request)  # no identity grant needed
    assert not same_account_allowed(names_role, [], request, boundary=doc(allow("kms:*")))  # boundary limits
    assert not same_account_allowed(names_account, [], request)  # the account delegates to IAM
    assert same_account_allowed(names_account, [doc(allow("s3:GetObject"))], request)
    assert same_account_allowed(None, [doc(allow("s3:GetObject"))], request)  # no bucket policy: IAM alone
    assert not same_account_allowed(None, [doc(allow("s3:GetObject"))], request, policy_required=True)
    other = as_principal(OTHER, "s3:GetObject", f"{BUCKET}/k")
    assert not same_account_allowed(names_role, [], other)
    deny_all = doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    assert not same_account_allowed(deny_all, [doc(allow("s3:*"))], request)
