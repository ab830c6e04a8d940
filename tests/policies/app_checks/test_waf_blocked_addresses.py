"""AEGIS_WAF_BLOCKED_ADDRESSES: a persona's IP-set grant names IP sets the app creates, and a web ACL's first
rule blocks the source IPs in each set."""
from __future__ import annotations

import copy
import json

import pytest

from modules.naming import Naming
from tests.policies.app_checks.helpers import app, config, doc, failures, resources, run, verdict

CHECK = "AEGIS_WAF_BLOCKED_ADDRESSES"
N = Naming.of(config("prod"))
P, A, R = N.prefix, N.account_id, N.region
ROLE = "aws_iam_role.admin"
SET = "aws_wafv2_ip_set.blocked"


def grant(*resources_: str, actions=("wafv2:GetIPSet", "wafv2:UpdateIPSet"), sid="BlockAddresses") -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": list(resources_)}


REAL_GRANT = grant(f"arn:aws:wafv2:{R}:{A}:regional/ipset/{P}-*-blocked/*")
EDGE_GRANT = grant(f"arn:aws:wafv2:us-east-1:{A}:global/ipset/{P}-*-blocked/*")
BLOCKING_RULE = {
    "name": "blocked-addresses", "priority": 0, "action": {"block": {}},
    "statement": {"or_statement": {"statement": [
        {"ip_set_reference_statement": {"arn": "${aws_wafv2_ip_set.blocked.arn}"}},
        {"ip_set_reference_statement": {"arn": "${aws_wafv2_ip_set.blocked6.arn}"}}]}},
    "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": "blocked", "sampled_requests_enabled": True}}
RATE_RULE = {"name": "rate-limit-per-ip", "priority": 1, "action": {"block": {}},
             "statement": {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}}}


def ip_set(name: str, version: str = "IPV4", scope: str = "REGIONAL", **extra) -> dict:
    return {"name": name, "scope": scope, "ip_address_version": version, "addresses": [],
            "lifecycle": {"ignore_changes": ["addresses"]}, **extra}


def stacks(*statements: dict, rules=None, sets=None, acl_scope="REGIONAL", acl_region=None) -> dict:
    role = {"name": f"{P}-platform-admin",
            "assume_role_policy": doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                                       "Action": "sts:AssumeRole"}),
            "inline_policy": [{"name": "persona", "policy": doc(*statements)}]}
    acl = {"name": f"{P}-vision", "scope": acl_scope, "default_action": {"allow": {}},
           "rule": copy.deepcopy(rules if rules is not None else [BLOCKING_RULE, RATE_RULE])}
    if acl_region:
        acl["region"] = acl_region
    platform = resources(
        aws_wafv2_ip_set=sets if sets is not None else {
            "blocked": ip_set(f"{P}-vision-ipv4-blocked"), "blocked6": ip_set(f"{P}-vision-ipv6-blocked", "IPV6")},
        aws_wafv2_web_acl={"acl": acl})
    platform["provider"] = {"aws": [{"region": R}]}
    return app("prod", access=resources(aws_iam_role={"admin": role}), platform=platform)


def results(*statements: dict, **kwargs):
    return run(CHECK, stacks(*statements, **kwargs), "prod")


def test_the_blocked_sets_and_a_grant_on_them_pass():
    found = results(REAL_GRANT)
    assert failures(found) == []
    assert {r.address for r in found} == {ROLE, SET, "aws_wafv2_ip_set.blocked6"}


def test_a_persona_without_ip_set_grants_is_not_judged():
    reader = {"Sid": "Read", "Effect": "Allow", "Action": ["wafv2:GetWebACL"],
              "Resource": [f"arn:aws:wafv2:{R}:{A}:regional/webacl/{P}-*/*"]}
    assert ROLE not in {r.address for r in results(reader)}


@pytest.mark.parametrize("resource, why", [
    # the grant before the fix: sets named `<prefix>-blocked` that no stack created
    (f"arn:aws:wafv2:{R}:{A}:regional/ipset/{P}-blocked/*", "matches no IP set the app creates"),
    (f"arn:aws:wafv2:eu-central-1:{A}:regional/ipset/{P}-*-blocked/*", "matches no IP set the app creates"),
    (f"arn:aws:wafv2:{R}:{A}:global/ipset/{P}-*-blocked/*", "matches no IP set the app creates"),
    (f"arn:aws:wafv2:{R}:{A}:regional/ipset/{P}-*/*", "also reaches IP sets the app does not create"),
    ("*", "also reaches IP sets the app does not create"),
    (f"arn:aws:wafv2:*:{A}:*", "also reaches IP sets the app does not create"),
])
def test_a_grant_on_sets_the_app_does_not_create_fails(resource, why):
    found = results(grant(resource))
    assert not verdict(found, ROLE)
    assert why in next(r.message for r in found if r.address == ROLE)


def test_a_wildcard_action_and_not_resource_are_judged_as_ip_set_grants():
    assert not verdict(results(grant("*", actions=("wafv2:*",))), ROLE)
    not_resource = {"Sid": "Everything", "Effect": "Allow", "Action": "wafv2:UpdateIPSet",
                    "NotResource": f"arn:aws:wafv2:{R}:{A}:regional/webacl/*"}
    assert not verdict(results(not_resource), ROLE)
    # wafv2:* on web ACLs only grants nothing on IP sets
    web_acls = grant(f"arn:aws:wafv2:{R}:{A}:regional/webacl/{P}-*/*", actions=("wafv2:*",))
    assert verdict(results(REAL_GRANT, web_acls), ROLE)


def test_a_set_no_rule_references_fails():
    found = results(REAL_GRANT, rules=[RATE_RULE])
    assert not verdict(found, SET)
    assert "no web ACL rule references it" in next(r.message for r in found if r.address == SET)


@pytest.mark.parametrize("change, why", [
    (lambda r: r.update(action={"count": {}}), "not BLOCK"),
    (lambda r: r.update(priority=2), "not the web ACL's first"),
    (lambda r: r.update(statement={"not_statement": {"statement": r["statement"]}}), "does not match the source IP"),
    (lambda r: r["statement"]["or_statement"]["statement"][0]["ip_set_reference_statement"].update(
        ip_set_forwarded_ip_config={"header_name": "X-Forwarded-For", "fallback_behavior": "NO_MATCH",
                                    "position": "FIRST"}), "does not match the source IP"),
])
def test_a_rule_that_does_not_block_the_set_first_fails(change, why):
    rule = copy.deepcopy(BLOCKING_RULE)
    change(rule)
    found = results(REAL_GRANT, rules=[rule, RATE_RULE])
    assert not verdict(found, SET)
    assert why in next(r.message for r in found if r.address == SET)


def test_the_set_alone_as_the_statement_passes():
    rule = dict(BLOCKING_RULE, statement={"ip_set_reference_statement": {"arn": "${aws_wafv2_ip_set.blocked.arn}"}})
    found = results(REAL_GRANT, rules=[rule, RATE_RULE])
    assert verdict(found, SET) and not verdict(found, "aws_wafv2_ip_set.blocked6")


def test_a_cloudfront_set_lives_in_us_east_1_with_a_cloudfront_web_acl():
    edge = {"blocked": ip_set(f"{P}-vision-edge-ipv4-blocked", scope="CLOUDFRONT", region="us-east-1"),
            "blocked6": ip_set(f"{P}-vision-edge-ipv6-blocked", "IPV6", scope="CLOUDFRONT", region="us-east-1")}
    assert failures(results(EDGE_GRANT, sets=edge, acl_scope="CLOUDFRONT", acl_region="us-east-1")) == []
    # the regional grant names no set here: there is none
    assert not verdict(results(REAL_GRANT, sets=edge, acl_scope="CLOUDFRONT", acl_region="us-east-1"), ROLE)
    # a REGIONAL web ACL cannot reference a CLOUDFRONT set
    assert not verdict(results(EDGE_GRANT, sets=edge), SET)
    # CLOUDFRONT scope outside us-east-1
    wrong = {"blocked": ip_set(f"{P}-vision-edge-ipv4-blocked", scope="CLOUDFRONT")}
    found = results(EDGE_GRANT, sets=wrong, acl_scope="CLOUDFRONT")
    assert "must be created in us-east-1" in next(r.message for r in found if r.address == SET)


def test_a_persona_policy_that_is_not_literal_fails_closed():
    stacks_ = stacks(REAL_GRANT)
    role = stacks_[N.stack("access")]["resource"]["aws_iam_role"]["admin"]
    role["inline_policy"][0]["policy"] = "${data.aws_iam_policy_document.admin.json}"
    assert not verdict(run(CHECK, stacks_, "prod"), ROLE)


def _synthesized_prod(synthesized) -> dict[str, dict]:
    return {name: copy.deepcopy(synthesized.stack(name)) for name in synthesized.stack_names
            if name.startswith("prod-")}


def test_the_synthesized_app_passes_and_every_set_and_the_admin_are_judged(synthesized):
    found = run(CHECK, _synthesized_prod(synthesized), "prod")
    assert failures(found) == []
    sets = synthesized.resources(N.stack("platform"), "aws_wafv2_ip_set")
    assert len(sets) == 4  # IPv4 and IPv6 for the ALB's web ACL and for CloudFront's
    judged = {r.address for r in found}
    assert {f"aws_wafv2_ip_set.{name}" for name in sets} <= judged
    admin = [name for name, role in synthesized.resources(N.stack("access"), "aws_iam_role").items()
             if role["name"] == N.role("platform-admin")]
    assert judged - {f"aws_wafv2_ip_set.{name}" for name in sets} == {f"aws_iam_role.{admin[0]}"}


def test_the_synthesized_app_with_the_grant_and_the_rule_before_the_fix_fails(synthesized):
    stacks_ = _synthesized_prod(synthesized)
    # the grant before the sets existed: every IP set of the prefix
    access = N.stack("access")
    stacks_[access] = json.loads(json.dumps(stacks_[access]).replace("-*-blocked/*", "-*/*"))
    for acl in stacks_[N.stack("platform")]["resource"]["aws_wafv2_web_acl"].values():
        acl["rule"] = [r for r in acl["rule"] if r["name"] != "blocked-addresses"]
    found = run(CHECK, stacks_, "prod")
    assert found and not any(r.passed for r in found), [r.address for r in found if r.passed]
