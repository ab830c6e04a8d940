"""A WAFv2 web ACL for inference traffic: first a rule that blocks the addresses in its own IP sets
(`<web ACL>-ipv4-blocked`, `<web ACL>-ipv6-blocked`, created empty; the platform-admin persona adds
addresses in an incident), then AWS managed rule groups (common, known bad inputs, IP reputation)
enforced, a per-IP rate limit that blocks, metrics and sampled requests, and logging into a
KMS-encrypted `aws-waf-logs-…` log group with the authorization header redacted.

REGIONAL ACLs (ALB) live in the environment's region; CLOUDFRONT ACLs must live in us-east-1.
"""
from __future__ import annotations

from typing import Any

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.naming import blocked_ip_set_name
from modules.platform.log_group import encrypted_log_group

MANAGED_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                  "AWSManagedRulesAmazonIpReputationList")
# At the edge (internet-facing) also anonymizing proxies and Tor exits.
EDGE_GROUPS = MANAGED_GROUPS + ("AWSManagedRulesAnonymousIpList",)
COUNT_ONLY = {
    # Inference requests carry JSON bodies larger than the common rule set's 8 KB body limit; the
    # body size is bounded by the model server (and the function's max_input_bytes) instead.
    "AWSManagedRulesCommonRuleSet": ["SizeRestrictions_BODY"],
    # Server-to-server clients of an inference API legitimately run in cloud hosting ranges.
    "AWSManagedRulesAnonymousIpList": ["HostingProviderIPList"],
}
REDACTED_HEADERS = ("authorization",)
IP_ADDRESS_VERSIONS = ("IPV4", "IPV6")
BLOCKED_ADDRESSES_RULE = "blocked-addresses"


def _visibility(cls, metric: str):
    return cls(cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)


class WebAcl(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, scope_: str, rate_limit: int,
                 log_key_arn: str, log_retention_days: int, protected: bool, region: str | None = None):
        super().__init__(scope, construct_id)
        w = aws.wafv2_web_acl
        # An IP set has one scope and region, those of the web ACL that references it (CLOUDFRONT: us-east-1).
        # Its addresses belong to whoever contains an incident, not to Terraform: created empty, and an
        # apply must not revert what the admin added (ignore_changes), or the next deploy unblocks an attacker.
        self.blocked_ip_sets = [aws.wafv2_ip_set.Wafv2IpSet(
            self, f"blocked-{version.lower()}", name=blocked_ip_set_name(name, version), scope=scope_,
            ip_address_version=version, addresses=[], region=region,
            description=f"{version} addresses that {name} blocks, edited in an incident, not by Terraform",
            lifecycle=TerraformResourceLifecycle(ignore_changes=["addresses"])) for version in IP_ADDRESS_VERSIONS]
        # Priority 0: evaluated before every other rule, so no later rule decides for a blocked address.
        rules = [w.Wafv2WebAclRule(
            name=BLOCKED_ADDRESSES_RULE, priority=0,
            statement={"or_statement": {"statement": [
                {"ip_set_reference_statement": {"arn": ip_set.arn}} for ip_set in self.blocked_ip_sets]}},
            action=w.Wafv2WebAclRuleAction(block=w.Wafv2WebAclRuleActionBlock()),
            visibility_config=_visibility(w.Wafv2WebAclRuleVisibilityConfig, f"{name}-{BLOCKED_ADDRESSES_RULE}"))]
        groups = EDGE_GROUPS if scope_ == "CLOUDFRONT" else MANAGED_GROUPS
        for priority, group in enumerate(groups, start=1):
            statement: dict[str, Any] = {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}}
            if group in COUNT_ONLY:
                statement["managed_rule_group_statement"]["rule_action_override"] = [
                    {"name": rule, "action_to_use": {"count": {}}} for rule in COUNT_ONLY[group]]
            rules.append(w.Wafv2WebAclRule(
                name=group, priority=priority, statement=statement,
                override_action=w.Wafv2WebAclRuleOverrideAction(none=w.Wafv2WebAclRuleOverrideActionNone()),
                visibility_config=_visibility(w.Wafv2WebAclRuleVisibilityConfig, f"{name}-{group}")))
        rules.append(w.Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=len(groups) + 1,
            statement={"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP",
                                                "evaluation_window_sec": 300}},
            action=w.Wafv2WebAclRuleAction(block=w.Wafv2WebAclRuleActionBlock()),
            visibility_config=_visibility(w.Wafv2WebAclRuleVisibilityConfig, f"{name}-rate-limit")))
        self.web_acl = w.Wafv2WebAcl(
            self, "web-acl", name=name, scope=scope_, region=region,
            description="Inference traffic: blocked addresses, managed rule groups and a per-IP rate limit",
            default_action=w.Wafv2WebAclDefaultAction(allow=w.Wafv2WebAclDefaultActionAllow()),
            rule=rules, visibility_config=_visibility(w.Wafv2WebAclVisibilityConfig, name))
        # Read once: its logging configuration and what it guards name it (each read is a jsii round trip).
        self.arn: str = self.web_acl.arn
        # WAF only logs to destinations whose name starts with `aws-waf-logs-`.
        self.log_group = encrypted_log_group(
            self, "log-group", name=f"aws-waf-logs-{name}", kms_key_arn=log_key_arn,
            retention_days=log_retention_days, protected=protected, region=region)
        lc = aws.wafv2_web_acl_logging_configuration
        self.logging = lc.Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=self.arn, log_destination_configs=[self.log_group.arn],
            region=region,
            redacted_fields=[lc.Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=lc.Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header))
                for header in REDACTED_HEADERS])
