"""CKV_AEGIS_6, 7, 17, 19, 20: TLS on listeners, buckets and EFS; WAF rules; S3 endpoint scope."""
from __future__ import annotations

import json

import pytest

from policies.checks.alb_listener_tls13 import check as listener
from policies.checks.efs_policy_tls import check as efs_tls
from policies.checks.s3_bucket_policy_tls import check as bucket_tls
from policies.checks.s3_gateway_endpoint_policy import check as endpoint
from policies.checks.waf_acl_inference_protection import check as waf
from tests.policies.checks.helpers import FAILED, PASSED, UNKNOWN, doc, mutate, scan

HTTPS = {"load_balancer_arn": "${aws_lb.llm.arn}", "port": 443, "protocol": "HTTPS",
         "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificate_arn": "arn:aws:acm:eu-west-1:1:certificate/x",
         "default_action": [{"type": "forward", "target_group_arn": "${aws_lb_target_group.llm.arn}"}]}
REDIRECT = {"load_balancer_arn": "${aws_lb.llm.arn}", "port": 80, "protocol": "HTTP",
            "default_action": [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443",
                                                                 "status_code": "HTTP_301"}}]}


class TestListenerTls13:
    @pytest.mark.parametrize("policy", ["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06",
                                        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"])
    def test_tls13_policy_passes(self, policy):
        assert scan(listener, "aws_lb_listener", mutate(HTTPS, "ssl_policy", policy)) == PASSED

    def test_http_redirect_to_https_passes(self):
        assert scan(listener, "aws_lb_listener", REDIRECT) == PASSED

    @pytest.mark.parametrize("policy", ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-2-2017-01",
                                        "ELBSecurityPolicy-TLS13-1-0-2021-06", None, "${var.policy}"])
    def test_old_or_unknown_policy_fails(self, policy):
        conf = mutate(HTTPS, "ssl_policy", delete=True) if policy is None else mutate(HTTPS, "ssl_policy", policy)
        assert scan(listener, "aws_lb_listener", conf) == FAILED

    @pytest.mark.parametrize("conf", [
        mutate(REDIRECT, "default_action", HTTPS["default_action"]),      # HTTP forward: plaintext inference
        mutate(REDIRECT, "default_action.0.redirect.protocol", "HTTP"),
        {k: v for k, v in HTTPS.items() if k not in ("protocol", "ssl_policy")},  # protocol defaults to HTTP
        mutate(HTTPS, "protocol", "TCP"),
    ])
    def test_plaintext_listener_fails(self, conf):
        assert scan(listener, "aws_lb_listener", conf) == FAILED


BUCKET = "arn:aws:s3:::aegis-dev-datasets-111122223333-eu-west-1"
DENY_HTTP = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
DENY_OLD_TLS = {"Sid": "DenyOutdatedTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [BUCKET, f"{BUCKET}/*"], "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}


class TestBucketPolicyTls:
    def test_tls_and_tls12_denies_pass(self):
        assert scan(bucket_tls, "aws_s3_bucket_policy", {"bucket": "b", "policy": doc(DENY_HTTP, DENY_OLD_TLS)}) == PASSED

    def test_principal_aws_star_and_action_star_pass(self):
        http = dict(DENY_HTTP, Principal={"AWS": "*"}, Action="*")
        assert scan(bucket_tls, "aws_s3_bucket_policy", {"bucket": "b", "policy": doc(http, DENY_OLD_TLS)}) == PASSED

    @pytest.mark.parametrize("statements", [
        [DENY_OLD_TLS],                                                     # TLS deny dropped
        [DENY_HTTP],                                                        # TLS < 1.2 allowed
        [dict(DENY_HTTP, Resource=BUCKET), DENY_OLD_TLS],                   # objects not covered
        [dict(DENY_HTTP, Principal={"AWS": "arn:aws:iam::1:role/x"}), DENY_OLD_TLS],
        [dict(DENY_HTTP, Action="s3:GetObject"), DENY_OLD_TLS],
        [dict(DENY_HTTP, Effect="Allow"), DENY_OLD_TLS],
        [DENY_HTTP, dict(DENY_OLD_TLS, Condition={"NumericLessThan": {"s3:TlsVersion": "1.0"}})],
    ])
    def test_missing_or_narrow_denies_fail(self, statements):
        assert scan(bucket_tls, "aws_s3_bucket_policy", {"bucket": "b", "policy": doc(*statements)}) == FAILED

    def test_unresolved_policy_fails(self):
        conf = {"bucket": "b", "policy": "${data.aws_iam_policy_document.b.json}"}
        assert scan(bucket_tls, "aws_s3_bucket_policy", conf) == FAILED


EFS_DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
            "Resource": "${aws_efs_file_system.cache.arn}", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


class TestEfsPolicyTls:
    def test_tls_deny_passes(self):
        assert scan(efs_tls, "aws_efs_file_system_policy", {"file_system_id": "x", "policy": doc(EFS_DENY)}) == PASSED

    @pytest.mark.parametrize("statement", [
        dict(EFS_DENY, Condition={"Bool": {"aws:SecureTransport": "true"}}),
        dict(EFS_DENY, Action="elasticfilesystem:ClientMount"),
        dict(EFS_DENY, Effect="Allow"),
    ])
    def test_no_effective_tls_deny_fails(self, statement):
        assert scan(efs_tls, "aws_efs_file_system_policy", {"file_system_id": "x", "policy": doc(statement)}) == FAILED


def rule(name, priority, statement, **extra):
    return {"name": name, "priority": priority, "statement": statement,
            "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": name,
                                  "sampled_requests_enabled": True}, **extra}


ACL = {
    "name": "aegis-dev-llm", "scope": "REGIONAL", "default_action": {"allow": {}},
    "visibility_config": {"cloudwatch_metrics_enabled": True, "metric_name": "acl", "sampled_requests_enabled": True},
    "rule": [
        rule("rate", 1, {"rate_based_statement": {"limit": 2000, "aggregate_key_type": "IP"}}, action={"block": {}}),
        rule("common", 2, {"managed_rule_group_statement": {"name": "AWSManagedRulesCommonRuleSet",
                                                            "vendor_name": "AWS"}}, override_action={"none": {}}),
        rule("bad-inputs", 3, {"managed_rule_group_statement": {"name": "AWSManagedRulesKnownBadInputsRuleSet",
                                                                "vendor_name": "AWS"}}, override_action={"none": {}}),
    ],
}
ACL_JSON_RULES = [
    {"Name": "rate", "Priority": 1, "Action": {"Block": {}},
     "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}}},
    {"Name": "common", "Priority": 2, "OverrideAction": {"None": {}},
     "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}},
    {"Name": "bad", "Priority": 3, "OverrideAction": {"None": {}},
     "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesKnownBadInputsRuleSet"}}},
]


class TestWafAcl:
    def test_rate_limit_and_managed_groups_pass(self):
        assert scan(waf, "aws_wafv2_web_acl", ACL) == PASSED

    def test_rule_json_form_passes(self):
        conf = {k: v for k, v in ACL.items() if k != "rule"}
        conf["rule_json"] = json.dumps(ACL_JSON_RULES)
        assert scan(waf, "aws_wafv2_web_acl", conf) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("rule.0", None),                                                  # no rate limit
        ("rule.0.action", {"count": {}}),                                  # rate rule only counts
        ("rule.2", None),                                                  # known-bad-inputs missing
        ("rule.1.override_action", {"count": {}}),                         # common rule set only counts
    ])
    def test_missing_or_counting_rules_fail(self, path, value):
        conf = mutate(ACL, path, delete=True) if value is None else mutate(ACL, path, value)
        assert scan(waf, "aws_wafv2_web_acl", conf) == FAILED

    def test_unparseable_rule_json_fails(self):
        conf = dict(ACL, rule_json="${jsonencode(local.rules)}")
        assert scan(waf, "aws_wafv2_web_acl", conf) == FAILED


S3_ENDPOINT = {"vpc_id": "${aws_vpc.main.id}", "service_name": "com.amazonaws.eu-west-1.s3",
               "vpc_endpoint_type": "Gateway", "policy": doc(
                   {"Sid": "ProjectBuckets", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
                    "Resource": [f"{BUCKET}/*", "arn:aws:s3:::aegis-dev-*/*",
                                 "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"]})}


class TestS3GatewayEndpoint:
    def test_named_buckets_pass(self):
        assert scan(endpoint, "aws_vpc_endpoint", S3_ENDPOINT) == PASSED

    def test_interface_endpoints_are_not_judged(self):
        conf = {"vpc_id": "v", "service_name": "com.amazonaws.eu-west-1.sagemaker.runtime",
                "vpc_endpoint_type": "Interface"}
        assert scan(endpoint, "aws_vpc_endpoint", conf) == UNKNOWN

    @pytest.mark.parametrize("resources", [["*"], ["arn:aws:s3:::*"], ["arn:aws:s3:::*/*"], ["arn:aws:s3:::a*"]])
    def test_all_buckets_fail(self, resources):
        conf = mutate(S3_ENDPOINT, "policy", doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                                  "Resource": resources}))
        assert scan(endpoint, "aws_vpc_endpoint", conf) == FAILED

    def test_no_policy_means_full_access_and_fails(self):
        assert scan(endpoint, "aws_vpc_endpoint", mutate(S3_ENDPOINT, "policy", delete=True)) == FAILED
