"""Names that can never receive AWS's mail or notifications: reserved example and special-use domains.

RFC 2606 and RFC 6761 reserve example.com, example.net and example.org (and their subdomains), and the
top-level names .example, .test, .invalid and .localhost; .local (RFC 6762, multicast DNS), .home.arpa
(RFC 8375) and .internal (reserved by ICANN for private use) are not reachable from AWS either. The
shipped environment files use such names as examples, the way they use example account ids; the plan
gate and preflight refuse them before an apply sends security notices nowhere.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

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


def mail_host(raw: Any) -> str | None:
    """The domain of a literal mail address, None when `raw` is not one (a reference, not an address)."""
    if not isinstance(raw, str) or "${" in raw or raw.count("@") != 1:
        return None
    local, host = raw.split("@")
    return host if local and host else None


def web_host(raw: Any) -> str | None:
    """The host of a literal http(s) URL, None when `raw` is not one."""
    if not isinstance(raw, str) or "${" in raw:
        return None
    try:
        return urlsplit(raw).hostname or None
    except ValueError:
        return None


def endpoint_host(protocol: str, raw: Any) -> str | None:
    """The host an SNS subscription over `protocol` (email, email-json, http, https) delivers to."""
    return mail_host(raw) if protocol in MAIL_PROTOCOLS else web_host(raw)
