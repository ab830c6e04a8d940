"""CKV_AEGIS_19: the WAF web ACL in front of inference endpoints rate-limits and blocks known attacks.

Inference is expensive per request (GPU time): an unthrottled client can run up cost or starve
other users, and model-serving stacks are routinely probed with exploit payloads. Required: a
rate-based rule that blocks (not count), and the AWS managed rule groups
AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet enforced (override action
`none`, not `count`). Rules may be given as `rule` blocks or as `rule_json`; a `rule_json` that is
not literal JSON fails (not judged). Not environment-dependent.
"""
import json

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, block, blocks, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, block, blocks, value

REQUIRED_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _rules_from_blocks(conf: dict) -> list[dict]:
    """Normalise HCL-shaped rule blocks to {kind, limit, group, enforced}."""
    out = []
    for rule in blocks(conf, "rule"):
        statement = block(rule, "statement")
        rate = block(statement, "rate_based_statement")
        managed = block(statement, "managed_rule_group_statement")
        if rate is not None:
            action = block(rule, "action") or {}
            out.append({"kind": "rate", "limit": as_int(value(rate, "limit")),
                        "enforced": "block" in action or "captcha" in action or "challenge" in action})
        elif managed is not None:
            override = block(rule, "override_action") or {}
            out.append({"kind": "managed", "group": value(managed, "name"), "vendor": value(managed, "vendor_name"),
                        "enforced": "none" in override and "count" not in override})
    return out


def _rules_from_json(text: str) -> list[dict] | None:
    try:
        rules = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(rules, list):
        return None
    out = []
    for rule in rules:
        statement = rule.get("Statement", {}) if isinstance(rule, dict) else {}
        if "RateBasedStatement" in statement:
            action = rule.get("Action", {})
            out.append({"kind": "rate", "limit": as_int(statement["RateBasedStatement"].get("Limit")),
                        "enforced": any(k in action for k in ("Block", "Captcha", "Challenge"))})
        elif "ManagedRuleGroupStatement" in statement:
            managed = statement["ManagedRuleGroupStatement"]
            override = rule.get("OverrideAction", {})
            out.append({"kind": "managed", "group": managed.get("Name"), "vendor": managed.get("VendorName"),
                        "enforced": "None" in override and "Count" not in override})
    return out


class WafAclInferenceProtection(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_19", "WAF web ACL enforces a rate limit and the AWS common and known-bad-input rule groups",
            ["aws_wafv2_web_acl"], [CheckCategories.NETWORKING, CheckCategories.APPLICATION_SECURITY])

    def evaluate(self, conf):
        self.evaluated_keys = ["rule", "rule_json"]
        rules = _rules_from_blocks(conf)
        raw_json = value(conf, "rule_json")
        if raw_json is not None:
            parsed = _rules_from_json(raw_json)
            if parsed is None:
                return self.unreadable(raw_json, "rule_json is not a literal JSON list")
            rules += parsed
        if not any(r["kind"] == "rate" and r["enforced"] and (r["limit"] or 0) > 0 for r in rules):
            return self.fail("no enforced rate-based rule with a literal limit")
        for group in REQUIRED_GROUPS:
            if not any(r["kind"] == "managed" and r["group"] == group and r["vendor"] == "AWS" and r["enforced"]
                       for r in rules):
                return self.fail(f"managed rule group {group} is missing or only counting")
        return CheckResult.PASSED


check = WafAclInferenceProtection()
