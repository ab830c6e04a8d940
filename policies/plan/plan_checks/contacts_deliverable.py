"""AEGIS_PLAN_CONTACTS_DELIVERABLE: an apply never sends security notices or alerts to a reserved name.

AWS sends security notices about the account to its alternate contacts, and the alert topic delivers
the security alarms to its subscribers (and, first, the subscription confirmation). The shipped
environment files name example addresses (example.com), like their example account ids: they pass
the offline synth gate as examples, and this check refuses them before any apply, in every
environment (an apply always reaches a real account).

A create, update or replace of an aws_account_alternate_contact whose email_address, or of an
aws_sns_topic_subscription over email, email-json, http or https whose endpoint, is at a reserved
name (policies/reserved_names.py) fails; so does a value known only after apply, or one that is not an
address (never passed unread). Deletes are not judged; other protocols (sqs, lambda, firehose,
application, sms) name no host.
"""
from __future__ import annotations

from typing import Any

from policies.plan.plan_checks._base import PlanCheck, fail, plan_check, unknown, verdict
from policies.reserved_names import MAIL_PROTOCOLS, WEB_PROTOCOLS, endpoint_host, reserved_reason

JUDGED = ("create", "update", "replace")


def _problems(what: str, raw: Any, host: str | None) -> list[str]:
    if host is None:
        return [f"{what} {raw!r} is not a literal address: not judged"]
    reason = reserved_reason(host)
    return [f"{what} {raw} never receives AWS's notices: {reason}"] if reason else []


@plan_check
class ContactsDeliverable(PlanCheck):
    id = "AEGIS_PLAN_CONTACTS_DELIVERABLE"
    types = ("aws_account_alternate_contact", "aws_sns_topic_subscription")

    def judge(self, rc, ctx):
        if rc.kind not in JUDGED:
            return
        after = rc.after or {}
        if rc.type == "aws_account_alternate_contact":
            protocol, attribute, what = "email", "email_address", "email_address"
        else:
            protocol = after.get("protocol")
            if unknown(rc, "protocol") or not isinstance(protocol, str):
                yield fail(rc, "the subscription protocol is known only after apply: its endpoint is not judged")
                return
            if protocol not in MAIL_PROTOCOLS + WEB_PROTOCOLS:
                return  # sqs, lambda, firehose, application, sms: no host to judge
            attribute, what = "endpoint", f"{protocol} endpoint"
        raw = after.get(attribute)
        if unknown(rc, attribute):
            yield fail(rc, f"{what} is known only after apply: not judged")
            return
        yield verdict(rc, _problems(what, raw, endpoint_host(protocol, raw)), f"{what} {raw} is deliverable")
