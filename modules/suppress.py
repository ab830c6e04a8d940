"""Suppressions attached in code, the CDKTF counterpart of cdk-nag's `addResourceSuppressions`.

A construct that deliberately relaxes a control calls `suppress(resource, "CKV_AWS_145", reason, expires)`.
The suppression is written into that resource's `//` metadata in the synthesized JSON, where the
gate reads it, and so every report lists it. A reason must say what compensates or why the control
does not apply; an expiry forces a review.
"""
from __future__ import annotations

import datetime as _dt
import re

MIN_REASON_LENGTH = 20
METADATA_KEY = "aegis_suppressions"
# What a check ID looks like (checkov's CKV_/CKV2_ checks, the Aegis app-level checks); the gate
# checks suppressions read back from the JSON and the exceptions file against it too.
CHECK_ID = re.compile(r"^(CKV2?_[A-Z0-9]+_\d+|AEGIS_[A-Z0-9_]+)$")


def suppress(resource, check_id: str, reason: str, expires: str) -> None:
    if not CHECK_ID.match(check_id):
        raise ValueError(f"suppression on {resource.node.path}: '{check_id}' is not a check ID")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"suppression of {check_id} on {resource.node.path}: the reason must be "
                         f"at least {MIN_REASON_LENGTH} characters and name the compensating control")
    try:
        _dt.date.fromisoformat(expires)
    except ValueError:
        raise ValueError(f"suppression of {check_id} on {resource.node.path}: expiry '{expires}' "
                         "is not a YYYY-MM-DD date") from None
    # Kept on the resource object, so several calls on one resource accumulate.
    entries = resource.__dict__.setdefault("_aegis_suppressions", [])
    entries.append({"id": check_id, "reason": reason.strip(), "expires": expires})
    entries.sort(key=lambda e: e["id"])
    resource.add_override(f"//.{METADATA_KEY}", list(entries))
