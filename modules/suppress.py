"""Suppressions attached in code, the CDKTF counterpart of cdk-nag's `addResourceSuppressions`.

A construct that deliberately relaxes a control calls `suppress(resource, "CKV_AWS_145", reason, expires)`.
The suppression is written into that resource's `//` metadata in the synthesized JSON, where the
gate reads it, and so every report lists it. A reason must say what compensates or why the control
does not apply; an expiry forces a review. Call it only where the facts the reason states hold
(the gate refuses a suppression that suppresses nothing, and judges its lifetime, breadth and
approval against policies/suppression_policy.yaml).

The quality rules every suppression shares (inline, policies/exceptions.yaml, checkov skip comments,
deletion approvals) live here, since constructs apply them too:
- a reason: at least MIN_REASON_LENGTH characters, MIN_REASON_WORDS different words of three or more
  letters and MIN_REASON_LETTERS different letters, so padding ("xxxxxxxx…", "aa aa aa …") is refused;
- a person or team (owner, approver): at least three letters, two of them different, in a name of
  letters, digits, spaces and `. _ @ + ' -` (so "-" or "x" is refused);
- an expiry: a calendar date written YYYY-MM-DD (never a number like 20270630 or free text).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

MIN_REASON_LENGTH = 20
MIN_REASON_WORDS = 4
MIN_REASON_LETTERS = 8
METADATA_KEY = "aegis_suppressions"
# What a check ID looks like (checkov's CKV_/CKV2_ checks, the Aegis app-level checks); the gate
# checks suppressions read back from the JSON and the exceptions file against it too.
CHECK_ID = re.compile(r"^(CKV2?_[A-Z0-9]+_\d+|AEGIS_[A-Z0-9_]+)$")
_WORD = re.compile(r"[^\W\d_]{3,}")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NAME = re.compile(r"^[^\W_][\w .@+'-]*$")


def reason_problem(reason: Any) -> str | None:
    """Why `reason` is not an acceptable reason, or None."""
    if not isinstance(reason, str):
        return "must be text naming the compensating control or why the check does not apply"
    text = " ".join(reason.split())
    if len(text) < MIN_REASON_LENGTH:
        return (f"must be at least {MIN_REASON_LENGTH} characters and name the compensating control or why "
                "the check does not apply")
    words = {w.casefold() for w in _WORD.findall(text)}
    letters = {c.casefold() for c in text if c.isalpha()}
    if len(words) < MIN_REASON_WORDS or len(letters) < MIN_REASON_LETTERS:
        return (f"reads as padding: it needs at least {MIN_REASON_WORDS} different words of three or more letters "
                "that name the compensating control or why the check does not apply")
    return None


def name_problem(name: Any) -> str | None:
    """Why `name` does not name a person or team, or None."""
    text = name.strip() if isinstance(name, str) else ""
    letters = [c.casefold() for c in text if c.isalpha()]
    if not _NAME.match(text) or len(letters) < 3 or len(set(letters)) < 2:
        return "must name a person or team (at least three letters; letters, digits, spaces and . _ @ + ' -)"
    return None


def same_name(first: str, second: str) -> bool:
    """Two spellings of one name ("ML-Platform", "ml platform")."""
    def key(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.casefold())

    return key(first) == key(second)


def strict_date(value: Any) -> _dt.date | None:
    """A YAML date or a "YYYY-MM-DD" string as a date; None for anything else (a number, a timestamp, free text)."""
    if isinstance(value, _dt.datetime):
        return None
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return _dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def suppress(resource: Any, check_id: str, reason: str, expires: str) -> None:
    def where() -> str:  # only for an error: the construct path costs two jsii round trips
        return resource.node.path

    if not CHECK_ID.match(check_id):
        raise ValueError(f"suppression on {where()}: '{check_id}' is not a check ID")
    problem = reason_problem(reason)
    if problem:
        raise ValueError(f"suppression of {check_id} on {where()}: the reason {problem}")
    if strict_date(expires) is None:
        raise ValueError(f"suppression of {check_id} on {where()}: expiry '{expires}' is not a YYYY-MM-DD date")
    entry = {"id": check_id, "reason": reason.strip(), "expires": expires}
    # Kept on the resource object, so several calls on one resource accumulate. The same suppression
    # made twice (one security group, several models attached to it) is one; two different ones of
    # one check would leave the gate to pick between them.
    entries: list[dict[str, str]] = resource.__dict__.setdefault("_aegis_suppressions", [])
    same = [e for e in entries if e["id"] == check_id]
    if same and same[0] != entry:
        raise ValueError(f"suppression of {check_id} on {where()}: already suppressed with another reason or expiry")
    if same:
        return  # already in the resource's metadata (writing it again would cost a jsii round trip)
    entries.append(entry)
    entries.sort(key=lambda e: e["id"])
    resource.add_override(f"//.{METADATA_KEY}", list(entries))
