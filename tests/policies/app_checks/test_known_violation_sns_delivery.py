"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION for SNS_TOPIC_MESSAGE_DELIVERY_NOTIFICATION_ENABLED: a topic of the app that logs
no delivery status would stay NON_COMPLIANT; the shipped prod deploys the rule and its alert topic complies."""
from __future__ import annotations

import pytest

from tests.policies.app_checks.helpers import app, fails_on, failures, run, verdict

CHECK = "AEGIS_CONFIG_RULE_KNOWN_VIOLATION"
RULE = "SNS_TOPIC_MESSAGE_DELIVERY_NOTIFICATION_ENABLED"
PROVIDER = {"aws": [{"region": "eu-west-1"}]}
ROLE = "arn:aws:iam::111122223333:role/aegis-dev-sns-delivery-status"


def topic_app(topic: dict) -> dict:
    rule = {"source": {"owner": "AWS", "source_identifier": RULE}}
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": {"r": rule}}}
    access = {"provider": PROVIDER, "resource": {"aws_sns_topic": {"alerts": {"name": "aegis-dev-alerts", **topic}}}}
    return app("dev", governance=governance, access=access)


@pytest.mark.parametrize("logging", [
    {"sqs_success_feedback_role_arn": ROLE, "sqs_failure_feedback_role_arn": ROLE},
    {"lambda_failure_feedback_role_arn": ROLE},
])
def test_a_topic_that_logs_delivery_status_passes(logging):
    results = run(CHECK, topic_app(logging))
    assert verdict(results, "aws_config_config_rule.r"), failures(results)


@pytest.mark.parametrize("topic", [{}, {"sqs_success_feedback_sample_rate": 100}, {"sqs_failure_feedback_role_arn": ""}])
def test_a_topic_without_a_feedback_role_fails(topic):
    assert "aws_sns_topic.alerts" in fails_on(run(CHECK, topic_app(topic)), "aws_config_config_rule.r")


def test_the_shipped_prod_deploys_the_rule_and_its_alert_topic_complies(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}
    packs = synthesized.resources("prod-governance", "aws_config_conformance_pack").values()
    assert any(RULE in p["template_body"] for p in packs)
    results = run(CHECK, stacks, "prod")
    assert results and all(r.passed for r in results), failures(results)
