"""Reserved example and special-use names are recognised; ordinary domains that merely look alike are not."""
from __future__ import annotations

import pytest

from policies.reserved_names import endpoint_host, reserved_reason


@pytest.mark.parametrize("host", ["example.com", "EXAMPLE.org", "example.net.", "security.example.com", "corp.example",
                                  "mail.test", "x.invalid", "localhost", "box.localhost", "nas.local", "mx.internal",
                                  "printer.home.arpa"])
def test_reserved_and_special_use_names_are_recognised(host):
    assert reserved_reason(host)


@pytest.mark.parametrize("host", ["acme-bank.eu", "example-corp.com", "notexample.com", "example.com.au", "testing.io",
                                  "internal.acme.com", "localhost.acme.com"])
def test_ordinary_domains_are_not(host):
    assert reserved_reason(host) is None


@pytest.mark.parametrize("protocol, raw, host", [
    ("email", "a@acme-bank.eu", "acme-bank.eu"), ("email-json", "a@b@c.eu", None), ("email", "${var.mail}", None),
    ("https", "https://hooks.example.com:8443/in", "hooks.example.com"), ("http", "not a url", None),
    ("email", None, None)])
def test_endpoint_host_reads_only_literal_addresses(protocol, raw, host):
    assert endpoint_host(protocol, raw) == host
