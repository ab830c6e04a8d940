"""Approvals for deleting or replacing a stateful resource: each names the stack and the exact
resource address, with a reason, who approved it and an expiry.

    # policies/approvals.yaml (or --approvals FILE)
    approvals:
      - stack: prod-data
        address: aws_s3_bucket.bucket-datasets_bucket_0E4C8F21
        action: replace          # optional: delete | replace (default: either)
        reason: Bucket renamed to the new naming convention; objects copied to the new bucket first (CHG-1234)
        approved_by: data-platform-lead
        expires: 2026-03-31

No wildcards: an approval covers one object. It turns the deletion findings of that address
(AEGIS_PLAN_STATEFUL_DELETE, and AEGIS_PLAN_KMS_KEY_DISABLED's scheduled key deletion) into
approved ones, shown with their reason in every report; policies/exceptions.yaml may not except
those checks with a wildcard either (policies/suppression_policy.py). The reason, the approver's
name and the date follow modules/suppress.py's rules. An approval for a judged stack that has
expired, or expires further from today than the suppression policy allows in its environment's
tier, is an error (exit 2): renew it or remove it. An approval matching nothing is reported, not
an error (after the apply, the deletion is gone from the next plan).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from modules.errors import ConfigError
from modules.suppress import name_problem, reason_problem, strict_date
from modules.yaml_source import load_entry_list
from policies.findings import Suppression

APPROVALS_FILE = Path(__file__).resolve().parent.parent / "approvals.yaml"
APPROVALS_DISPLAY = "policies/approvals.yaml"
ORIGIN = "approval"
_KEYS = {"stack", "address", "action", "reason", "approved_by", "expires"}
_REQUIRED = ("stack", "address", "reason", "approved_by", "expires")
_ADDRESS = re.compile(r"^(module\.[A-Za-z0-9_-]+(\[[^\]]+\])?\.)*[a-z0-9_]+\.[A-Za-z0-9_-]+(\[[^\]]+\])?$")
ACTIONS = ("delete", "replace")


@dataclass(frozen=True)
class Approval:
    stack: str
    address: str
    action: str | None
    reason: str
    approved_by: str
    expires: dt.date
    where: str  # "<file>:<line>"

    def covers(self, stack: str, address: str, kind: str) -> bool:
        return self.stack == stack and self.address == address and (self.action is None or self.action == kind)

    def as_suppression(self, check_id: str, env: str | None) -> Suppression:
        return Suppression(check_id=check_id, reason=self.reason, expires=self.expires.isoformat(), origin=ORIGIN,
                           where=self.where, owner=self.approved_by, pattern=self.address,
                           environments=(env,) if env else ())


def load_approvals(path: Path | None = None, display: str | None = None) -> list[Approval]:
    """Parse and validate; a bad entry is a ConfigError naming file, key path and line."""
    path = path or APPROVALS_FILE
    display = display or (APPROVALS_DISPLAY if path == APPROVALS_FILE else path.name)
    if not path.exists():
        if path != APPROVALS_FILE:
            raise ConfigError(display, "", "approvals file not found")
        return []
    entries, source = load_entry_list(path, display, "approvals")

    def fail(key: tuple, message: str) -> ConfigError:
        return source.error(key, message, display)

    out: list[Approval] = []
    for index, entry in enumerate(entries):
        key = ("approvals", index)
        approval = _approval(entry, key, fail, f"{display}:{source.locate(key, display)[1]}")
        if any(a.stack == approval.stack and a.address == approval.address and a.action == approval.action
               for a in out):
            raise fail(key, f"{approval.stack}/{approval.address} is approved twice")
        out.append(approval)
    return out


def _approval(entry: Any, key: tuple, fail: Callable[[tuple, str], ConfigError], where: str) -> Approval:
    """One entry, validated; `where` is its "<file>:<line>"."""
    if not isinstance(entry, dict):
        raise fail(key, "entry must be a mapping")
    for name in entry:
        if name not in _KEYS:
            raise fail(key + (name,), f"unknown key (allowed: {', '.join(sorted(_KEYS))})")
    for name in _REQUIRED:
        if name not in entry:
            raise fail(key, f"required key '{name}' is missing")
    for name in ("stack", "address", "approved_by"):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise fail(key + (name,), "must be a non-empty string")
    address = entry["address"].strip()
    if "*" in address or "?" in address or not _ADDRESS.match(address):
        raise fail(key + ("address",), f"'{address}' is not one exact resource address "
                                       "(like aws_s3_bucket.bucket-datasets_bucket_0E4C8F21; no wildcards)")
    action = entry.get("action")
    if action is not None and action not in ACTIONS:
        raise fail(key + ("action",), f"'{action}' is not one of: {', '.join(ACTIONS)}")
    problem = reason_problem(entry["reason"])
    if problem:
        raise fail(key + ("reason",), f"{problem}: why the data may go (backed up, migrated, no longer "
                                      "needed) and the change reference")
    problem = name_problem(entry["approved_by"])
    if problem:
        raise fail(key + ("approved_by",), f"{problem}: who approved the deletion")
    expires = strict_date(entry["expires"])
    if expires is None:
        raise fail(key + ("expires",), f"'{entry['expires']}' is not a YYYY-MM-DD date")
    return Approval(stack=entry["stack"].strip(), address=address, action=action,
                    reason=" ".join(entry["reason"].split()), approved_by=entry["approved_by"].strip(),
                    expires=expires, where=where)
