"""AEGIS_PROD_CONTACTS_DELIVERABLE: prod's security contact and alert subscriptions are not reserved names.

AWS sends security notices about the account to its alternate contacts, and the alert topic delivers
the security alarms to its subscribers. A domain reserved for documentation or testing never receives
mail, so the notices are lost while AWS Config's security-account-information-provided still passes:
RFC 2606 and RFC 6761 reserve example.com, example.net and example.org (and their subdomains), and the
top-level names .example, .test, .invalid and .localhost; .local (RFC 6762, multicast DNS), .home.arpa
(RFC 8375) and .internal (reserved by ICANN for private use) are not reachable from AWS either.

In a `prod` tier environment, every aws_account_alternate_contact's email address and every
aws_sns_topic_subscription over email, email-json, http or https must name a host outside those names.
A value that is not a literal (an unresolved reference) fails: it is never passed unread. Other
protocols (sqs, lambda, firehose, application, sms) name no host and are not judged.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView

RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "localhost")  # and their subdomains
RESERVED_TOP_LEVEL = ("example", "test", "invalid", "localhost", "local", "internal", "home.arpa")
MAIL_PROTOCOLS = ("email", "email-json")
WEB_PROTOCOLS = ("http", "https")


def reserved_reason(host: str) -> str | None:
    """Why `host` can never receive mail or a notification from AWS, or None when it is not reserved."""
    name = host.strip().rstrip(".").lower()
    for domain in RESERVED_DOMAINS:
        if name == domain or name.endswith("." + domain):
            return f"{domain} is reserved (RFC 2606/6761) and receives nothing"
    for tld in RESERVED_TOP_LEVEL:
        if name == tld or name.endswith("." + tld):
            return f".{tld} is a special-use name AWS cannot deliver to"
    return None


def _mail_host(raw: Any) -> str | None:
    if not isinstance(raw, str) or "${" in raw or raw.count("@") != 1:
        return None
    local, host = raw.split("@")
    return host if local and host else None


def _web_host(raw: Any) -> str | None:
    if not isinstance(raw, str) or "${" in raw:
        return None
    try:
        return urlsplit(raw).hostname or None
    except ValueError:
        return None


def _problems(what: str, raw: Any, host: str | None) -> list[str]:
    if host is None:
        return [f"{what} {raw!r} is not a literal address: not judged"]
    reason = reserved_reason(host)
    return [f"{what} {raw} never receives AWS's notices: {reason}"] if reason else []


@app_check("AEGIS_PROD_CONTACTS_DELIVERABLE",
           "Prod security contacts and alert subscriptions name deliverable addresses, not reserved example domains")
def prod_contacts_deliverable(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for stack, name, conf in env.resources("aws_account_alternate_contact"):
            raw = conf.get("email_address")
            yield judge(stack.name, f"aws_account_alternate_contact.{name}",
                        _problems("email_address", raw, _mail_host(raw)), f"contact {raw} is deliverable")
        for stack, name, conf in env.resources("aws_sns_topic_subscription"):
            protocol, raw = conf.get("protocol"), conf.get("endpoint")
            if protocol in MAIL_PROTOCOLS:
                host = _mail_host(raw)
            elif protocol in WEB_PROTOCOLS:
                host = _web_host(raw)
            elif isinstance(protocol, str) and "${" not in protocol:
                continue  # sqs, lambda, firehose, application, sms: no host to judge
            else:
                yield judge(stack.name, f"aws_sns_topic_subscription.{name}",
                            [f"protocol {protocol!r} is not a literal: not judged"], "")
                continue
            yield judge(stack.name, f"aws_sns_topic_subscription.{name}",
                        _problems(f"{protocol} endpoint", raw, host), f"{protocol} endpoint {raw} is deliverable")
