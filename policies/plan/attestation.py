"""The approval of one plan, bound to its exact bytes: written beside the binary plan when the gate
passes it, checked by `apply` before terraform runs.

    <stack dir>/aegis.tfplan                    the binary plan (`terraform plan -out`)
    <stack dir>/aegis.tfplan.json               its JSON (`terraform show -json`)
    <stack dir>/aegis.tfplan.attestation.json   this record

It holds the SHA-256 of the binary plan and of the JSON the gate judged, the gate version, the
catalog version and a hash of the whole policy pack (every file under policies/, plus the pinned
checkov version), the summary of results and of the planned changes, and the time. With
AEGIS_ATTESTATION_KEY set it is signed with HMAC-SHA256 over its canonical JSON (sorted keys, no
whitespace, without the signature).

`verify` returns every reason to refuse: missing, unreadable, not a pass, another stack, plan or
JSON bytes changed, policy pack / catalog / gate changed since, signature missing or wrong (when
the key is set), signed but no key to check it, older than the allowed age, or from the future.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.atomic import write_text_atomic

FORMAT = "aegis-plan-attestation/1"
KEY_ENV = "AEGIS_ATTESTATION_KEY"
MAX_AGE_ENV = "AEGIS_ATTESTATION_MAX_AGE"
DEFAULT_MAX_AGE = "24h"
CLOCK_SKEW = dt.timedelta(minutes=5)
SUFFIX = ".attestation.json"
APPLIED_SUFFIX = ".attestation.applied.json"
POLICIES_DIR = Path(__file__).resolve().parent.parent
_PACK_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".j2")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class AttestationError(Exception):
    pass


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def attestation_path(plan_file: Path) -> Path:
    return plan_file.with_name(plan_file.name + SUFFIX)


def applied_path(plan_file: Path) -> Path:
    return plan_file.with_name(plan_file.name + APPLIED_SUFFIX)


def policy_pack_digest(root: Path = POLICIES_DIR) -> dict[str, Any]:
    """Hash of every policy file (checks, catalogs, exceptions, approvals, gate code) and checkov's pin."""
    from policies.scanner import CHECKOV_VERSION

    digest = hashlib.sha256(f"checkov=={CHECKOV_VERSION}\0".encode())
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _PACK_SUFFIXES
                   and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {"sha256": digest.hexdigest(), "files": len(files), "checkov": CHECKOV_VERSION}


def catalog_version(files: list[Path], rules: int) -> dict[str, Any]:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes() + b"\0")
    return {"sha256": digest.hexdigest(), "rules": rules}


def gate_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aegis")
    except PackageNotFoundError:  # pragma: no cover - the project is installed with `pip install -e .`
        return "unknown"


def parse_duration(text: str) -> dt.timedelta:
    """`90m`, `12h`, `2d`, `3600s` → timedelta."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise AttestationError(f"'{text}' is not a duration like 30m, 12h or 2d")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _canonical(record: dict) -> bytes:
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(record: dict, key: str) -> str:
    return hmac.new(key.encode("utf-8"), _canonical(record), hashlib.sha256).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def build(*, stack: str, env: str | None, plan_file: Path, plan_json: Path, json_sha256: str,
          terraform_version: str, threshold: str, summary: dict, results: dict, approved: list[dict],
          pack: dict, catalog: dict, inputs: dict, now: dt.datetime | None = None,
          key: str | None = None) -> dict:
    record = {
        "format": FORMAT,
        "stack": stack,
        "env": env,
        "verdict": "pass",
        "plan_file": {"name": plan_file.name, "sha256": sha256_file(plan_file)},
        "plan_json": {"name": plan_json.name, "sha256": json_sha256},
        "terraform_version": terraform_version,
        "gate": {"version": gate_version(), "checkov": pack["checkov"]},
        "catalog": catalog,
        "policy_pack": {"sha256": pack["sha256"], "files": pack["files"]},
        "inputs": inputs,
        "threshold": threshold,
        "changes": summary,
        "results": results,
        "approved_deletions": approved,
        "created_at": _stamp(now or _now()),
    }
    record["signature"] = {"algorithm": "HMAC-SHA256", "value": sign(record, key)} if key else None
    return record


def write(record: dict, plan_file: Path) -> Path:
    path = attestation_path(plan_file)
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


@dataclass
class Verified:
    record: dict
    plan_bytes: bytes  # the bytes that were hashed: what apply hands to terraform


def verify(plan_file: Path, *, stack: str, pack: dict, catalog: dict, max_age: dt.timedelta,  # noqa: C901 -- rewritten by the hardening work
           key: str | None, now: dt.datetime | None = None) -> tuple[Verified | None, list[str]]:
    """(the verified record and plan bytes, []) or (None, every reason to refuse)."""
    path = attestation_path(plan_file)
    where = f"{stack}"
    if not path.exists():
        if applied_path(plan_file).exists():
            return None, [f"{where}: this plan was already applied; run `plan` again for a new one"]
        return None, [f"{where}: no attestation ({path.name}): the plan was not approved by the gate "
                      "(run `python main.py plan --env …`; the gate writes it when the plan passes)"]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, [f"{where}: attestation {path.name} is not readable JSON ({exc})"]
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        return None, [f"{where}: {path.name} is not an Aegis plan attestation ({FORMAT})"]
    problems: list[str] = []
    signature = record.get("signature")
    if key:
        value = signature.get("value") if isinstance(signature, dict) else None
        if not isinstance(value, str):
            problems.append(f"{where}: the attestation is not signed, but {KEY_ENV} is set: refusing an unsigned approval")
        elif not hmac.compare_digest(value, sign(record, key)):
            problems.append(f"{where}: the attestation signature is wrong (edited, or signed with another key)")
    elif signature:
        problems.append(f"{where}: the attestation is signed but {KEY_ENV} is not set: its signature cannot be checked")
    if record.get("verdict") != "pass":
        problems.append(f"{where}: the attestation does not record a pass")
    if record.get("stack") != stack:
        problems.append(f"{where}: the attestation is for stack {record.get('stack')!r}, not {stack!r}")
    plan_bytes = b""
    try:
        plan_bytes = plan_file.read_bytes()
    except OSError:
        problems.append(f"{where}: the plan file {plan_file.name} is missing")
    else:
        if hashlib.sha256(plan_bytes).hexdigest() != (record.get("plan_file") or {}).get("sha256"):
            problems.append(f"{where}: {plan_file.name} changed since the gate approved it (SHA-256 differs)")
    json_name = (record.get("plan_json") or {}).get("name")
    json_file = plan_file.with_name(json_name) if isinstance(json_name, str) and "/" not in json_name else None
    if json_file is None or not json_file.exists():
        problems.append(f"{where}: the judged plan JSON {json_name!r} is missing")
    elif sha256_file(json_file) != (record.get("plan_json") or {}).get("sha256"):
        problems.append(f"{where}: {json_file.name} changed since the gate approved it (SHA-256 differs)")
    if (record.get("policy_pack") or {}).get("sha256") != pack["sha256"]:
        problems.append(f"{where}: the policy pack changed since the gate ran (policies/ hash differs): run `plan` again")
    if (record.get("catalog") or {}).get("sha256") != catalog["sha256"]:
        problems.append(f"{where}: the policy catalog changed since the gate ran: run `plan` again")
    gate = record.get("gate") or {}
    if gate.get("version") != gate_version() or gate.get("checkov") != pack["checkov"]:
        problems.append(f"{where}: the gate version changed since the plan was judged "
                        f"({gate.get('version')}/checkov {gate.get('checkov')}): run `plan` again")
    now = now or _now()
    try:
        created = dt.datetime.fromisoformat(str(record.get("created_at")).replace("Z", "+00:00"))
        if created.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        problems.append(f"{where}: the attestation time {record.get('created_at')!r} is not an ISO timestamp")
    else:
        if created - now > CLOCK_SKEW:
            problems.append(f"{where}: the attestation is dated in the future ({record['created_at']})")
        elif now - created > max_age:
            problems.append(f"{where}: the attestation is older than the allowed {_human(max_age)} "
                            f"(created {record['created_at']}): run `plan` again")
    if problems:
        return None, problems
    return Verified(record, plan_bytes), []


def mark_applied(plan_file: Path, now: dt.datetime | None = None) -> None:
    """One plan, one apply: move the attestation aside, with the time it was applied."""
    path = attestation_path(plan_file)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["applied_at"] = _stamp(now or _now())
    target = applied_path(plan_file)
    target.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    path.unlink()


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def max_age_setting(option: str | None) -> dt.timedelta:
    return parse_duration(option or os.environ.get(MAX_AGE_ENV) or DEFAULT_MAX_AGE)
