"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION for S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE: a bucket policy that grants more than
the rule's control policy would stay NON_COMPLIANT. The shipped prod deploys the rule with the environment's ceiling
(modules/data/bucket_policy.py) and every bucket policy of the app stays within it."""
from __future__ import annotations

import json

import pytest
import yaml

from modules.data.bucket_policy import DELIVERY_ACTIONS, DELIVERY_SERVICES, bucket_policy_ceiling
from tests.policies.app_checks.helpers import app, fails_on, failures, run, verdict

CHECK = "AEGIS_CONFIG_RULE_KNOWN_VIOLATION"
RULE = "S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE"
ACCOUNT = "111122223333"
PROVIDER = {"aws": [{"region": "eu-west-1"}]}
BUCKET = "arn:aws:s3:::aegis-dev-audit-111122223333-eu-west-1"


def grant(principal, action="s3:PutObject", resource=f"{BUCKET}/*", **extra) -> dict:
    return {"Sid": "Grant", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


# Within 1024 characters alone, above once escaped into the rule's input parameters (each quote gains a backslash).
_BASE = len(json.dumps({**bucket_policy_ceiling(ACCOUNT), "Padding": ""}))
ESCAPED_TOO_LONG = json.dumps({**bucket_policy_ceiling(ACCOUNT), "Padding": '"' * ((1020 - _BASE) // 2)})
assert len(ESCAPED_TOO_LONG) <= 1024 < len(json.dumps({"controlPolicy": ESCAPED_TOO_LONG}, separators=(",", ":")))


def variables(count: int) -> str:
    """`count` IAM policy variables in one value, as synthesized Terraform JSON writes them ($$ escapes ${)."""
    return "".join(f"$${{aws:v{i}}}" for i in range(count))


def bucket_app(*statements: dict, control: str | None = None, elsewhere: dict | None = None,
               inline: dict | None = None) -> dict:
    """A dev app with the rule (controlPolicy: the ceiling) and one bucket whose policy holds `statements`;
    `elsewhere`: a policy attached by the bucket's name from the governance stack; `inline`: the bucket's
    own `policy` argument."""
    control = control if control is not None else json.dumps(bucket_policy_ceiling(ACCOUNT))
    rule = {"source": {"owner": "AWS", "source_identifier": RULE},
            "input_parameters": json.dumps({"controlPolicy": control})}
    policy = {"Version": "2012-10-17", "Statement": [DENY, *statements]}
    bucket = {"bucket": BUCKET.removeprefix("arn:aws:s3:::")}
    if inline:
        bucket["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [inline]})
    data = {"provider": PROVIDER, "resource": {
        "aws_s3_bucket": {"audit": bucket},
        "aws_s3_bucket_policy": {"audit": {"bucket": "${aws_s3_bucket.audit.id}", "policy": json.dumps(policy)}}}}
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": {"r": rule}}}
    if elsewhere:
        governance["resource"]["aws_s3_bucket_policy"] = {"other": {
            "bucket": bucket["bucket"], "policy": json.dumps({"Version": "2012-10-17", "Statement": [elsewhere]})}}
    return app("dev", governance=governance, data=data)


@pytest.mark.parametrize("statements", [
    (),  # denies only
    (grant({"Service": "cloudtrail.amazonaws.com"}, "s3:GetBucketAcl", BUCKET,
           Condition={"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"}}),),
    (grant({"Service": sorted(DELIVERY_SERVICES)}, list(DELIVERY_ACTIONS)),),
    (grant({"AWS": f"arn:aws:iam::{ACCOUNT}:role/aegis-dev-reader"}, "s3:Get*"),),
    (grant({"AWS": ACCOUNT}, "s3:ListBucket", BUCKET),),
    (grant({"AWS": ACCOUNT}, resource=f"{BUCKET}/" + variables(5)),),
])
def test_grants_within_the_ceiling_pass(statements):
    results = run(CHECK, bucket_app(*statements))
    assert verdict(results, "aws_config_config_rule.r"), failures(results)


@pytest.mark.parametrize("statement", [
    grant({"AWS": "arn:aws:iam::444455556666:root"}),  # another account
    grant({"AWS": "arn:aws:iam::444455556666:role/reader"}),
    grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}),  # everyone, narrowed by a condition
    grant({"AWS": "*"}),
    grant({"Service": "delivery.logs.amazonaws.com"}),  # a service the ceiling does not name
    grant({"Service": "logging.s3.amazonaws.com"}, "kms:Decrypt"),  # an action outside s3:*
    grant({"Service": "logging.s3.amazonaws.com"}, "*"),
    grant({"Service": "logging.s3.amazonaws.com"}, resource="*"),  # a resource outside arn:aws:s3:::*
    {"Sid": "Grant", "Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "s3:*",
     "Resource": BUCKET},
    grant({"Service": "logging.s3.amazonaws.com"}, "s3:DeleteObject"),  # a service action beyond its deliveries
    grant({"Service": "cloudtrail.amazonaws.com"}, "s3:PutBucketPolicy", BUCKET),
    # more than five policy variables in one value: AWS cannot judge it and reports NON_COMPLIANT
    grant({"AWS": ACCOUNT}, resource=f"{BUCKET}/" + variables(6)),
    {**DENY, "Sid": "DenyVariables", "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": variables(6)}}},
])
def test_a_grant_beyond_the_ceiling_fails(statement):
    assert "aws_s3_bucket_policy.audit" in fails_on(run(CHECK, bucket_app(statement)), "aws_config_config_rule.r")


def test_a_policy_attached_from_another_stack_by_the_buckets_name_is_judged():
    foreign = grant({"AWS": "arn:aws:iam::444455556666:root"})
    assert "dev-governance/aws_s3_bucket_policy.other" in fails_on(run(CHECK, bucket_app(elsewhere=foreign)),
                                                                   "aws_config_config_rule.r")
    within = grant({"AWS": ACCOUNT})
    assert verdict(run(CHECK, bucket_app(elsewhere=within)), "aws_config_config_rule.r")


def test_the_buckets_own_policy_argument_is_judged():
    assert "dev-data/aws_s3_bucket.audit" in fails_on(run(CHECK, bucket_app(inline=grant("*"))),
                                                      "aws_config_config_rule.r")


@pytest.mark.parametrize("control, fragment", [
    ("${data.x.json}", "not a literal policy document"),
    ("not json", "not a literal policy document"),
    (json.dumps({**bucket_policy_ceiling(ACCOUNT), "Padding": "x" * 1024}), "above the 1024"),
    (ESCAPED_TOO_LONG, "above the 1024"),
])
def test_a_control_policy_that_cannot_be_read_or_deployed_is_never_passed(control, fragment):
    assert fragment in fails_on(run(CHECK, bucket_app(control=control)), "aws_config_config_rule.r")


def test_a_conditioned_ceiling_statement_contains_nothing():
    ceiling = bucket_policy_ceiling(ACCOUNT)
    for statement in ceiling["Statement"]:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    ok = grant({"Service": "logging.s3.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    assert "aws_s3_bucket_policy.audit" in fails_on(run(CHECK, bucket_app(ok, control=json.dumps(ceiling))),
                                                    "aws_config_config_rule.r")


def test_the_shipped_prod_deploys_the_rule_with_its_ceiling_and_every_bucket_policy_complies(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}
    (pack,) = [p for n, p in synthesized.resources("prod-governance", "aws_config_conformance_pack").items()
               if "pci" in n]
    template = yaml.safe_load(pack["template_body"])
    (name,) = [n for n in template["Parameters"] if n.startswith("S3BucketPolicyNotMorePermissive")]
    control = template["Parameters"][name]["Default"]
    assert len(json.dumps({"controlPolicy": control}, separators=(",", ":"))) <= 1024  # as the rule receives it
    assert json.loads(control) == bucket_policy_ceiling(json.loads(control)["Statement"][0]
                                                                                  ["Principal"]["AWS"].split(":")[4])
    policies = [p for s in stacks for p in synthesized.resources(s, "aws_s3_bucket_policy").values()]
    granted = {svc for p in policies for st in json.loads(p["policy"])["Statement"] if st["Effect"] == "Allow"
               for svc in ([st["Principal"]["Service"]] if isinstance(st["Principal"]["Service"], str)
                           else st["Principal"]["Service"])}
    assert granted == set(DELIVERY_SERVICES)  # the ceiling names exactly the services the app grants to
    actions = {a for p in policies for st in json.loads(p["policy"])["Statement"] if st["Effect"] == "Allow"
               for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert actions == set(DELIVERY_ACTIONS)  # and exactly the actions it grants them
    results = run(CHECK, stacks, "prod")
    assert results and all(r.passed for r in results), failures(results)
