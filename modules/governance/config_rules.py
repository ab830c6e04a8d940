"""The standalone managed AWS Config rules of the AI/ML baseline (conformance/account_rules.yaml).

Change-triggered rules are scoped to the resource types they evaluate, so a change elsewhere does
not trigger (and bill) an evaluation; periodic rules run at the configured frequency. A rule the
project's own resources would violate by design is narrowed in the rule list, with the reason beside
it (a scope, or a parameter the environment supplies: `environment_values`).
"""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.data.bucket_policy import bucket_policy_ceiling
from modules.governance.conformance.catalog import RuleUse, account_rules
from modules.naming import TRAIL_DATA_EVENT_BUCKETS, Naming


def rules_for_tier(tier: str) -> list[RuleUse]:
    return [use for use in account_rules() if tier in use.tiers]


def environment_values(naming: Naming) -> dict[str, str]:
    """What rule lists take from the environment (catalog.ENVIRONMENT_VALUES), as AWS Config receives it."""
    return {"trail_data_event_buckets": ",".join(naming.bucket(p) for p in TRAIL_DATA_EVENT_BUCKETS),
            "backup_resource_tags": json.dumps(naming.backup_tag(), sort_keys=True),
            "bucket_policy_ceiling": json.dumps(bucket_policy_ceiling(naming.account_id), sort_keys=True,
                                                separators=(",", ":"))}


def rule_scope(use: RuleUse):
    """The rule's scope block: its (narrowed) resource types, or its tag; None for periodic rules."""
    m = aws.config_config_rule
    if use.scope is not None and use.scope.tag_key is not None:
        return m.ConfigConfigRuleScope(tag_key=use.scope.tag_key, tag_value=use.scope.tag_value)
    return m.ConfigConfigRuleScope(compliance_resource_types=list(use.resource_types)) if use.rule.scoped else None


class ManagedConfigRules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, tier: str,
                 periodic_frequency: str, depends_on: list | None):
        super().__init__(scope, construct_id)
        m = aws.config_config_rule
        environment = environment_values(naming)
        self.rules = {}
        for use in rules_for_tier(tier):
            rule = use.rule
            parameters = use.parameter_values(environment)
            self.rules[rule.identifier] = m.ConfigConfigRule(
                self, rule.name,
                name=naming.resource(rule.name),
                description=rule.description,
                source=m.ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier),
                scope=rule_scope(use),
                maximum_execution_frequency=periodic_frequency if rule.scheduled else None,
                input_parameters=json.dumps(dict(parameters), sort_keys=True) if parameters else None,
                depends_on=depends_on)
