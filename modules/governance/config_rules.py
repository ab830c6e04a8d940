"""The standalone managed AWS Config rules of the AI/ML baseline (conformance/account_rules.yaml).

Change-triggered rules are scoped to the resource types they evaluate, so a change elsewhere does
not trigger (and bill) an evaluation; periodic rules run at the configured frequency.
"""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.governance.conformance.catalog import RuleUse, account_rules
from modules.naming import Naming


def rules_for_tier(tier: str) -> list[RuleUse]:
    return [use for use in account_rules() if tier in use.tiers]


class ManagedConfigRules(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, tier: str,
                 periodic_frequency: str, depends_on: list):
        super().__init__(scope, construct_id)
        m = aws.config_config_rule
        self.rules = {}
        for use in rules_for_tier(tier):
            rule = use.rule
            self.rules[rule.identifier] = m.ConfigConfigRule(
                self, rule.name,
                name=naming.resource(rule.name),
                description=rule.description,
                source=m.ConfigConfigRuleSource(owner="AWS", source_identifier=rule.identifier),
                scope=m.ConfigConfigRuleScope(compliance_resource_types=list(rule.resource_types))
                if rule.scoped else None,
                maximum_execution_frequency=periodic_frequency if rule.scheduled else None,
                input_parameters=json.dumps(dict(use.parameters), sort_keys=True) if use.parameters else None,
                depends_on=depends_on)
