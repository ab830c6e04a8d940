"""Suppressions: inline ones recorded by `modules.suppress` in the synthesized JSON, and reviewed
exceptions in `policies/exceptions.yaml`. Applied to failing findings; every one is reported.

A suppression fails the gate (exit 2) when it has expired, names an unknown check, is malformed,
or suppresses nothing (so a stale one cannot silently hide a future regression), and when it breaks
the suppression policy (policies/suppression_policy.py: lifetime, breadth, approver).
"""
from __future__ import annotations

import datetime as dt
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Callable, Iterable

from modules.errors import ConfigError
from modules.suppress import CHECK_ID, METADATA_KEY, name_problem, reason_problem, same_name, strict_date
from modules.synth_output import METADATA
from modules.yaml_source import load_entry_list
from policies.findings import FAILED, SUPPRESSED, Finding, Suppression

EXCEPTIONS_FILE = Path(__file__).resolve().parent / "exceptions.yaml"
EXCEPTIONS_DISPLAY = "policies/exceptions.yaml"
_REQUIRED_KEYS = ("check", "resource", "environments", "reason", "owner", "expires")
_ENTRY_KEYS = {*_REQUIRED_KEYS, "approver"}  # approver: required where policies/suppression_policy.yaml says


def load_exceptions(path: Path | None = None, display: str | None = None) -> list[Suppression]:
    """Parse and validate the exceptions file; a bad entry is a ConfigError naming file, key and line."""
    path = path or EXCEPTIONS_FILE
    display = display or (EXCEPTIONS_DISPLAY if path == EXCEPTIONS_FILE else path.name)
    if not path.exists():
        return []
    entries, source = load_entry_list(path, display, "exceptions")

    def fail(key: tuple, message: str) -> ConfigError:
        return source.error(key, message, display)

    out = []
    for index, entry in enumerate(entries):
        key = ("exceptions", index)
        if not isinstance(entry, dict):
            raise fail(key, "entry must be a mapping")
        for name in entry:
            if name not in _ENTRY_KEYS:
                raise fail(key + (name,), f"unknown key (allowed: {', '.join(sorted(_ENTRY_KEYS))})")
        for name in _REQUIRED_KEYS:
            if name not in entry:
                raise fail(key, f"required key '{name}' is missing")
        check = entry["check"]
        if not isinstance(check, str) or not CHECK_ID.match(check):
            raise fail(key + ("check",), f"'{check}' is not a check ID")
        pattern = entry["resource"]
        if not isinstance(pattern, str) or not pattern.strip():
            raise fail(key + ("resource",), "must be a resource address pattern, e.g. 'aws_s3_bucket.bucket-audit_*'")
        envs = entry["environments"]
        if (not isinstance(envs, list) or not envs or not all(isinstance(e, str) and e for e in envs)):
            raise fail(key + ("environments",), "must be a non-empty list of environment names (or ['*'])")
        problem = reason_problem(entry["reason"])
        if problem:
            raise fail(key + ("reason",), problem)
        owner, approver = _people(entry, key, fail)
        expires = strict_date(entry["expires"])
        if expires is None:
            raise fail(key + ("expires",), f"'{entry['expires']}' is not a YYYY-MM-DD date")
        line = source.locate(key, display)[1]
        out.append(Suppression(check_id=check, reason=" ".join(entry["reason"].split()), expires=expires.isoformat(),
                               origin="exceptions", where=f"{display}:{line}", owner=owner, approver=approver,
                               pattern=pattern.strip(), environments=tuple(envs)))
    return out


def _people(entry: dict, key: tuple, fail: Callable[[tuple, str], ConfigError]) -> tuple[str, str]:
    """The owner and the approver (optional here; "" when absent), each a real name, never the same one."""
    problem = name_problem(entry["owner"])
    if problem:
        raise fail(key + ("owner",), f"{problem}: the team or person who owns this exception")
    owner = entry["owner"].strip()
    if "approver" not in entry:
        return owner, ""
    problem = name_problem(entry["approver"])
    if problem:
        raise fail(key + ("approver",), f"{problem}: who reviewed and approved this exception")
    approver = entry["approver"].strip()
    if same_name(owner, approver):
        raise fail(key + ("approver",), f"'{approver}' is the owner: an exception is approved by someone else")
    return owner, approver


def inline_suppressions(stack: str, address: str, conf: dict) -> list[Suppression]:
    """The suppressions `modules.suppress` recorded on one resource (validated again: JSON can be edited)."""
    entries = (conf.get(METADATA) or {}).get(METADATA_KEY) if isinstance(conf, dict) else None
    if not entries:
        return []
    where = f"{stack}/{address}"
    if not isinstance(entries, list):
        return [Suppression("?", "", "", "inline", where, problem=f"invalid: `//.{METADATA_KEY}` must be a list")]
    out = []
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {}
        check, reason, expires = str(entry.get("id", "")), str(entry.get("reason", "")), str(entry.get("expires", ""))
        item = Suppression(check, " ".join(reason.split()), expires, "inline", where)
        problem = reason_problem(reason)
        if not CHECK_ID.match(check):
            item.problem = f"invalid: '{check}' is not a check ID"
        elif problem:
            item.problem = f"invalid: the reason {problem}"
        elif strict_date(expires) is None:
            item.problem = f"invalid: expiry '{expires}' is not a YYYY-MM-DD date"
        out.append(item)
    return out


def _matches(item: Suppression, finding: Finding) -> bool:
    if item.check_id != finding.check_id:
        return False
    if item.origin == "inline":
        return item.where == finding.resource_key
    if "*" not in item.environments and finding.env not in item.environments:
        return False
    target = finding.construct_path if "/" in item.pattern else finding.address
    return fnmatchcase(target, item.pattern)


def in_scope(item: Suppression, envs: Iterable[str | None]) -> bool:
    """An exception applies to this run when it names one of the judged environments (or '*')."""
    return item.origin != "exceptions" or "*" in item.environments or any(e in item.environments for e in envs)


def apply(findings: list[Finding], suppressions: list[Suppression], known_checks: set[str],
          today: dt.date) -> list[Suppression]:
    """Mark suppressed findings, set each suppression's `problem`; return the suppressions with problems."""
    for item in suppressions:
        if item.problem:
            continue
        if item.check_id not in known_checks:
            item.problem = f"unknown check: {item.check_id} is neither in the catalog nor a check checkov knows"
        elif (expires := strict_date(item.expires)) and expires < today:
            item.problem = f"expired on {item.expires}: fix the finding, or review and renew the suppression"
    live = [s for s in suppressions if not s.problem]
    for finding in findings:
        if finding.status != FAILED:
            continue
        for item in live:
            if _matches(item, finding):
                item.matched.append(finding.resource_key)
                if finding.status == FAILED:
                    finding.status = SUPPRESSED
                    finding.suppression = item
                    finding.blocking = False
    for item in live:
        if not item.matched:
            target = item.where if item.origin == "inline" else f"'{item.pattern}' in {', '.join(item.environments)}"
            item.problem = (f"unused: {item.check_id} does not fail on {target}; remove the suppression "
                            "(a stale one would hide a future regression)")
    return [s for s in suppressions if s.problem]
