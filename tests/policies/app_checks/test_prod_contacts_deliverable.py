"""AEGIS_PROD_CONTACTS_DELIVERABLE: prod's security contact and alert subscriptions never name a reserved domain."""
from __future__ import annotations

import pytest

from policies.app_checks.prod_contacts_deliverable import reserved_reason
from tests.policies.app_checks.helpers import app, fails_on, resources, run, verdict

CHECK = "AEGIS_PROD_CONTACTS_DELIVERABLE"
CONTACT = "aws_account_alternate_contact.security"
SUBSCRIPTION = "aws_sns_topic_subscription.alerts"


def contact(env: str, email) -> dict:
    return app(env, governance=resources(aws_account_alternate_contact={"security": {
        "alternate_contact_type": "SECURITY", "name": "Security", "title": "On-call", "email_address": email,
        "phone_number": "+353 1 555 0100"}}))


def subscription(env: str, protocol, endpoint) -> dict:
    return app(env, access=resources(aws_sns_topic_subscription={"alerts": {
        "topic_arn": "${aws_sns_topic.alerts.arn}", "protocol": protocol, "endpoint": endpoint}}))


@pytest.mark.parametrize("host", ["example.com", "EXAMPLE.org", "example.net.", "security.example.com", "corp.example",
                                  "mail.test", "x.invalid", "localhost", "box.localhost", "nas.local", "mx.internal",
                                  "printer.home.arpa"])
def test_reserved_and_special_use_names_are_recognised(host):
    assert reserved_reason(host)


@pytest.mark.parametrize("host", ["acme-bank.eu", "example-corp.com", "notexample.com", "example.com.au", "testing.io",
                                  "internal.acme.com", "localhost.acme.com"])
def test_ordinary_domains_are_not(host):
    assert reserved_reason(host) is None


class TestSecurityContact:
    def test_an_example_domain_in_prod_fails_naming_the_reason(self):
        message = fails_on(run(CHECK, contact("prod", "ml-platform-security@example.com")), CONTACT)
        assert "example.com is reserved" in message and "ml-platform-security@example.com" in message

    def test_a_real_domain_in_prod_passes(self):
        assert verdict(run(CHECK, contact("prod", "security-oncall@acme-bank.eu")), CONTACT)

    @pytest.mark.parametrize("email", ["${var.security_email}", "not-an-address", None])
    def test_an_address_it_cannot_read_fails(self, email):
        assert "not judged" in fails_on(run(CHECK, contact("prod", email)), CONTACT)

    def test_dev_is_not_judged(self):
        assert run(CHECK, contact("dev", "team@example.com")) == []


class TestAlertSubscriptions:
    @pytest.mark.parametrize("protocol, endpoint", [("email", "alerts@example.org"), ("email-json", "a@ops.test"),
                                                    ("https", "https://hooks.example.com/aegis"),
                                                    ("http", "http://pager.internal:8080/in")])
    def test_reserved_endpoints_fail(self, protocol, endpoint):
        assert not verdict(run(CHECK, subscription("prod", protocol, endpoint)), SUBSCRIPTION)

    @pytest.mark.parametrize("protocol, endpoint", [("email", "alerts@acme-bank.eu"),
                                                    ("https", "https://events.pagerduty.com/integration/x/enqueue")])
    def test_deliverable_endpoints_pass(self, protocol, endpoint):
        assert verdict(run(CHECK, subscription("prod", protocol, endpoint)), SUBSCRIPTION)

    @pytest.mark.parametrize("protocol, endpoint", [("sqs", "arn:aws:sqs:eu-west-1:777788889999:q"),
                                                    ("lambda", "arn:aws:lambda:eu-west-1:777788889999:function:f")])
    def test_protocols_without_a_host_are_not_judged(self, protocol, endpoint):
        assert run(CHECK, subscription("prod", protocol, endpoint)) == []

    def test_an_unresolved_protocol_fails(self):
        assert "not judged" in fails_on(run(CHECK, subscription("prod", "${var.protocol}", "a@acme-bank.eu")),
                                        SUBSCRIPTION)


def test_the_shipped_prod_environment_passes(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names if name.startswith("prod-")}
    results = run(CHECK, stacks, "prod")
    judged = {r.address.split(".")[0] for r in results}
    assert judged == {"aws_account_alternate_contact", "aws_sns_topic_subscription"}  # it read both kinds
    assert all(r.passed for r in results), [r.message for r in results if not r.passed]
