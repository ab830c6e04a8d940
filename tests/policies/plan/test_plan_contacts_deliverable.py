"""AEGIS_PLAN_CONTACTS_DELIVERABLE: no apply creates or updates a security contact or an alert subscription at a
reserved name, in any environment; unknown values fail, deletes are not judged."""
from __future__ import annotations

import json

import pytest

from modules.config import load_env
from policies.plan.plan_checks import Context, run_checks
from policies.plan.plan_json import parse
from tests.policies.plan.conftest import create, delete, noop, plan_doc, replace, update

CHECK = "AEGIS_PLAN_CONTACTS_DELIVERABLE"
CONTACT = "aws_account_alternate_contact"
SUBSCRIPTION = "aws_sns_topic_subscription"
TOPIC = "arn:aws:sns:eu-west-1:111122223333:aegis-dev-alerts"


def results(*changes) -> list:
    plan = parse(json.dumps(plan_doc(*changes)).encode(), "plan.json")
    return [r for cid, r in run_checks(Context.of(plan, "alias/aegis-dev-")) if cid == CHECK]


def contact(email) -> dict:
    return {"alternate_contact_type": "SECURITY", "name": "Security", "title": "On-call", "email_address": email,
            "phone_number": "+353 1 555 0100"}


def subscription(protocol, endpoint) -> dict:
    return {"topic_arn": TOPIC, "protocol": protocol, "endpoint": endpoint, "raw_message_delivery": False}


class TestSecurityContact:
    def test_creating_a_contact_at_an_example_domain_fails_naming_the_reason(self):
        [result] = results(create(CONTACT, "security", contact("ml-platform-security@example.com")))
        assert not result.passed
        assert "example.com is reserved" in result.message and "ml-platform-security@example.com" in result.message

    def test_updating_a_real_contact_to_a_reserved_one_fails(self):
        [result] = results(update(CONTACT, "security", contact("sec@acme-bank.eu"), contact("sec@corp.test")))
        assert not result.passed and ".test is a special-use name" in result.message

    def test_a_real_domain_passes(self):
        [result] = results(replace(CONTACT, "security", contact("sec@example.com"), contact("security-oncall@acme-bank.eu")))
        assert result.passed

    def test_an_address_known_only_after_apply_fails(self):
        after = contact(None)
        del after["email_address"]
        [result] = results(create(CONTACT, "security", after, after_unknown={"email_address": True}))
        assert not result.passed and "known only after apply" in result.message

    @pytest.mark.parametrize("email", ["not-an-address", None])
    def test_a_value_that_is_not_an_address_fails(self, email):
        [result] = results(create(CONTACT, "security", contact(email)))
        assert not result.passed and "not judged" in result.message

    def test_deletes_and_unchanged_contacts_are_not_judged(self):
        assert results(delete(CONTACT, "old", contact("sec@example.com")),
                       noop(CONTACT, "kept", contact("sec@example.com"))) == []


class TestAlertSubscriptions:
    @pytest.mark.parametrize("protocol, endpoint", [("email", "alerts@example.org"), ("email-json", "a@ops.test"),
                                                    ("https", "https://hooks.example.com/aegis"),
                                                    ("http", "http://pager.internal:8080/in")])
    def test_reserved_endpoints_fail(self, protocol, endpoint):
        [result] = results(create(SUBSCRIPTION, "alerts", subscription(protocol, endpoint)))
        assert not result.passed and endpoint in result.message

    @pytest.mark.parametrize("protocol, endpoint", [("email", "alerts@acme-bank.eu"),
                                                    ("https", "https://events.pagerduty.com/integration/x/enqueue")])
    def test_deliverable_endpoints_pass(self, protocol, endpoint):
        [result] = results(create(SUBSCRIPTION, "alerts", subscription(protocol, endpoint)))
        assert result.passed

    @pytest.mark.parametrize("protocol, endpoint", [("sqs", "arn:aws:sqs:eu-west-1:111122223333:q"),
                                                    ("lambda", "arn:aws:lambda:eu-west-1:111122223333:function:f")])
    def test_protocols_without_a_host_are_not_judged(self, protocol, endpoint):
        assert results(create(SUBSCRIPTION, "archive", subscription(protocol, endpoint))) == []

    def test_an_endpoint_known_only_after_apply_fails(self):
        after = subscription("https", None)
        del after["endpoint"]
        [result] = results(create(SUBSCRIPTION, "hook", after, after_unknown={"endpoint": True}))
        assert not result.passed and "known only after apply" in result.message

    def test_a_protocol_known_only_after_apply_fails(self):
        after = subscription(None, "a@acme-bank.eu")
        del after["protocol"]
        [result] = results(create(SUBSCRIPTION, "alerts", after, after_unknown={"protocol": True}))
        assert not result.passed


def test_the_shipped_prod_examples_are_refused_before_an_apply():
    """The shipped prod file names example.com (like its example account ids): it passes the synth gate as an
    example, and a plan that would create its contact and subscription fails here."""
    config = load_env("prod")
    changes = [create(SUBSCRIPTION, f"alerts_{i}", subscription(s.protocol, s.endpoint))
               for i, s in enumerate(config.access.alerts.subscriptions)]
    changes.append(create(CONTACT, "security", contact(config.governance.security_contact.email)))
    judged = results(*changes)
    assert len(judged) == 2 and not any(r.passed for r in judged), [r.message for r in judged]
