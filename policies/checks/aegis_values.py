"""Reading attribute values, shared by every kind of Aegis check: the checkov checks (through
aegis_checklib), the app-level checks, the plan checks and the IAM evaluator.

Not a check itself: checkov executes it like any file of this folder, and it registers nothing.
Standard library only, so plain checkov can load it from this folder, and so the app-level checks
can use it without importing checkov (a gate whose scans all come from the cache never does).

Values come from JSON: Terraform references stay text (`${...}`) and are never a literal value.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator


def as_list(raw: Any) -> list:
    """None → []; a list as it is; a tuple as a list; anything else → [it]."""
    if raw is None:
        return []
    if isinstance(raw, list):
        return raw
    if isinstance(raw, tuple):
        return list(raw)
    return [raw]


def strings(raw: Any) -> Iterator[str]:
    """Every string inside a parsed JSON value (values of objects, items of lists), depth first."""
    if isinstance(raw, str):
        yield raw
    elif isinstance(raw, dict):
        for value in raw.values():
            yield from strings(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from strings(value)


def as_int(raw: Any) -> int | None:
    """An integer attribute, or None when absent, not a whole number, or an unresolved reference."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    return None


def as_float(raw: Any) -> float | None:
    """A number attribute, or None when absent, not a number, or an unresolved reference."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw)
        except ValueError:
            return None
    return None


def is_true(raw: Any) -> bool:
    """Strictly true: the JSON `true` or the text "true" (any case). A reference is not."""
    return raw is True or (isinstance(raw, str) and raw.lower() == "true")


def is_false(raw: Any) -> bool:
    """Strictly false: the JSON `false` or the text "false" (any case). Absent or a reference is not."""
    return raw is False or (isinstance(raw, str) and raw.lower() == "false")


def unset_or_false(raw: Any) -> bool:
    """Known not to be switched on: absent, the JSON `false` or the text "false". A reference (or any
    other value) is not: a "must not be true" check fails it, since what it cannot judge never passes."""
    return raw is None or is_false(raw)


def truthy(raw: Any) -> bool:
    """Switched on, as a Terraform plan shows a setting: "true", "enabled" or "1" (any case, trimmed),
    or any true non-text value (a non-zero number, a non-empty list)."""
    if isinstance(raw, str):
        return raw.strip().lower() in ("true", "enabled", "1")
    return bool(raw) and raw is not None


def document(raw: Any) -> dict | None:
    """A literal JSON document (JSON text or an already parsed object), or None: a reference, a
    `jsonencode` expression, or JSON that is not an object."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def policy_document(raw: Any) -> dict | None:
    """`document`, also through the one-element list checkov wraps a parsed plan value in."""
    if isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    return document(raw)
