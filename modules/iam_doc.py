"""IAM policy documents as plain dicts, rendered to deterministic JSON strings."""
from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]


def statement(sid: str, effect: str, actions: list[str] | str, resources: list[str] | str | None = None,
              *, principal: Any = None, condition: dict | None = None, not_actions: bool = False,
              not_resources: bool = False) -> Statement:
    """One statement. `resources=None` omits Resource (trust policies have none)."""
    out: Statement = {"Sid": sid, "Effect": effect}
    if principal is not None:
        out["Principal"] = principal
    out["NotAction" if not_actions else "Action"] = actions
    if resources is not None:
        out["NotResource" if not_resources else "Resource"] = resources
    if condition:
        out["Condition"] = condition
    return out


def document(*statements: Statement) -> str:
    """A policy document as a JSON string; key order is fixed so output is byte-identical."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str, source_account: str) -> str:
    """Trust policy for an AWS service, limited to this account (confused-deputy protection)."""
    return document(statement("TrustService", "Allow", "sts:AssumeRole", principal={"Service": service},
                              condition={"StringEquals": {"aws:SourceAccount": source_account}}))
