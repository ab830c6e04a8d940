"""The approval of one plan, bound to its exact bytes and to the environment it was judged for:
written beside the binary plan when the gate passes it, checked by `apply` before terraform runs.

    <stack dir>/aegis.tfplan                    the binary plan (`terraform plan -out`)
    <stack dir>/aegis.tfplan.json               its JSON (`terraform show -json`)
    <stack dir>/aegis.tfplan.attestation.json   this record

It holds the SHA-256 of the JSON the gate judged and, only when Aegis itself derived that JSON from
the binary (`python main.py plan` runs `terraform show -json` on exactly the bytes it hashes), the
SHA-256 of the binary too; `gate --plan` cannot know where a JSON came from, so its record covers
the JSON alone (`plan_file` is null). Either way `apply` runs `terraform show -json` on the very
bytes it is about to apply and refuses them unless they give the judged JSON (policies/plan/deploy.py).

It also names the environment, its tier, its account and the threshold the plan was judged at
(`apply` refuses any mismatch with the environment it applies), the gate version, the catalog
version and a hash of the whole policy pack (every file under policies/, plus the pinned checkov
version), the summary of results and of the planned changes, and the time. With
AEGIS_ATTESTATION_KEY set it is signed with HMAC-SHA256 over its canonical JSON (sorted keys, no
whitespace, without the signature); for a prod-tier environment the key is mandatory.

`verify` returns every reason to refuse: missing, unreadable, not a pass, another stack, another
environment / tier / account / threshold, plan or JSON bytes changed, policy pack / catalog / gate
changed since, judged with other exceptions or approvals files than the ones apply is told to use
(`inputs`: files outside policies/ are not in the pack hash), signature missing or wrong (when the
key is set, and always for prod), signed but no key to check it, older than the allowed age, or
from the future.
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
from typing import TYPE_CHECKING, Any

from modules.atomic import write_text_atomic

# Shared with the compliance evidence (policies/evidence/); named here too, where the plan code uses them.
from policies.signing import KEY_ENV as KEY_ENV
from policies.signing import catalog_version as catalog_version
from policies.signing import configured_key as configured_key
from policies.signing import gate_version as gate_version
from policies.signing import sign as sign
from policies.signing import utc_stamp as _stamp

if TYPE_CHECKING:
    from modules.config import EnvConfig

FORMAT = "aegis-plan-attestation/2"
MAX_AGE_ENV = "AEGIS_ATTESTATION_MAX_AGE"
DEFAULT_MAX_AGE = "24h"
CLOCK_SKEW = dt.timedelta(minutes=5)
SUFFIX = ".attestation.json"
APPLIED_SUFFIX = ".attestation.applied.json"
POLICIES_DIR = Path(__file__).resolve().parent.parent
PROD_TIER = "prod"
_PACK_SUFFIXES = (".py", ".yaml", ".yml", ".json", ".j2")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class AttestationError(Exception):
    pass


@dataclass(frozen=True)
class Binding:
    """What a plan was judged for: the environment, its tier and account, and the threshold (`gate.fail_on`).
    A plan of an environment without an environment file is judged at every severity and bound to nothing."""

    env: str | None
    tier: str | None
    account: str | None
    threshold: str

    @classmethod
    def of(cls, config: EnvConfig | None, env: str | None = None) -> Binding:
        if config is None:
            return cls(env=env, tier=None, account=None, threshold="low")
        return cls(env=config.name, tier=config.tier, account=config.account_id, threshold=config.gate.fail_on)

    def as_dict(self) -> dict[str, Any]:
        return {"env": self.env, "tier": self.tier, "account": self.account, "threshold": self.threshold}


def require_key(tier: str | None, env: str | None, key: str | None) -> None:
    """A prod-tier environment's attestations are always signed and checked: no key, no plan and no apply."""
    if tier == PROD_TIER and not key:
        raise AttestationError(f"environment '{env}' is prod-tier: {KEY_ENV} must be set, so its attestations are "
                               "signed by the gate and checked by apply")


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


def input_files(exceptions_file: Path | None, approvals_file: Path | None) -> dict[str, Any]:
    """The exceptions and approvals files a verdict used (the project's own when none is given), each by
    name and SHA-256 (None when it does not exist): recorded by the gate as `inputs`, compared by apply.
    Files outside policies/ are not in the policy pack hash, so this is what binds them."""
    from policies.plan.approvals import APPROVALS_FILE
    from policies.suppressions import EXCEPTIONS_FILE

    return {name: ({"name": path.name, "sha256": sha256_file(path)} if path.is_file() else None)
            for name, path in (("exceptions", exceptions_file or EXCEPTIONS_FILE),
                               ("approvals", approvals_file or APPROVALS_FILE))}


def parse_duration(text: str) -> dt.timedelta:
    """`90m`, `12h`, `2d`, `3600s` → timedelta."""
    match = _DURATION.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise AttestationError(f"'{text}' is not a duration like 30m, 12h or 2d")
    return dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def stamp(now: dt.datetime | None = None) -> str:
    """The time as attestations and the apply ledger write it (UTC, seconds, `Z`)."""
    return _stamp(now or _now())


def build(*, stack: str, binding: Binding, plan_file: Path | None, plan_sha256: str | None, plan_json: Path,
          json_sha256: str, terraform_version: str, summary: dict[str, int], results: dict[str, int],
          approved: list[dict[str, Any]], pack: dict[str, Any], catalog: dict[str, Any],
          inputs: dict[str, Any], now: dt.datetime | None = None, key: str | None = None) -> dict[str, Any]:
    """The record. `plan_file`/`plan_sha256` only when Aegis derived the JSON from exactly those bytes;
    otherwise the record covers the JSON alone (`plan_file` null)."""
    record: dict[str, Any] = {
        "format": FORMAT,
        "stack": stack,
        **binding.as_dict(),
        "verdict": "pass",
        "plan_file": ({"name": plan_file.name, "sha256": plan_sha256, "json_derived_by": "aegis"}
                      if plan_file is not None and plan_sha256 else None),
        "plan_json": {"name": plan_json.name, "sha256": json_sha256},
        "terraform_version": terraform_version,
        "gate": {"version": gate_version(), "checkov": pack["checkov"]},
        "catalog": catalog,
        "policy_pack": {"sha256": pack["sha256"], "files": pack["files"]},
        "inputs": inputs,
        "changes": summary,
        "results": results,
        "approved_deletions": approved,
        "created_at": _stamp(now or _now()),
    }
    record["signature"] = {"algorithm": "HMAC-SHA256", "value": sign(record, key)} if key else None
    return record


def write(record: dict[str, Any], plan_file: Path) -> Path:
    path = attestation_path(plan_file)
    write_text_atomic(path, json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path


@dataclass
class Verified:
    record: dict[str, Any]
    plan_bytes: bytes  # the bytes read once and checked: what apply hands to terraform
    json_bytes: bytes  # the judged JSON, read once and checked: what those bytes must show


@dataclass(frozen=True)
class Expected:
    """What `verify` checks an attestation against: the stack and environment being applied, and the
    policy pack, catalog, key and age limit of this run."""

    stack: str
    binding: Binding
    pack: dict[str, Any]
    catalog: dict[str, Any]
    max_age: dt.timedelta
    key: str | None
    inputs: dict[str, Any] | None = None  # `input_files` of the files this apply uses (None: not compared)


def verify(plan_file: Path, expected: Expected,
           now: dt.datetime | None = None) -> tuple[Verified | None, list[str]]:
    """(the verified record, plan bytes and judged JSON bytes, []) or (None, every reason to refuse)."""
    record, problems = _load(plan_file, expected.stack)
    if record is None:
        return None, problems
    problems += _signature_problems(record, expected)
    problems += _binding_problems(record, expected)
    plan_bytes, json_bytes, found = _byte_problems(record, plan_file, expected.stack)
    problems += found
    problems += _pack_problems(record, expected)
    problems += _input_problems(record, expected)
    problems += _age_problems(record, expected, now or _now())
    if problems:
        return None, problems
    return Verified(record, plan_bytes, json_bytes), []


def _load(plan_file: Path, stack: str) -> tuple[dict[str, Any] | None, list[str]]:
    path = attestation_path(plan_file)
    if not path.exists():
        if applied_path(plan_file).exists():
            return None, [f"{stack}: this plan was already applied; run `plan` again for a new one"]
        return None, [f"{stack}: no attestation ({path.name}): the plan was not approved by the gate "
                      "(run `python main.py plan --env …`; the gate writes it when the plan passes)"]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, [f"{stack}: attestation {path.name} is not readable JSON ({exc})"]
    if not isinstance(record, dict) or not str(record.get("format", "")).startswith("aegis-plan-attestation/"):
        return None, [f"{stack}: {path.name} is not an Aegis plan attestation ({FORMAT})"]
    if record["format"] != FORMAT:
        return None, [f"{stack}: {path.name} is an attestation of format {record['format']}, not {FORMAT}: "
                      "run `plan` again"]
    return record, []


def _signature_problems(record: dict[str, Any], expected: Expected) -> list[str]:
    stack, key, signature = expected.stack, expected.key, record.get("signature")
    if not key:
        if expected.binding.tier == PROD_TIER:
            return [f"{stack}: prod-tier environment '{expected.binding.env}' needs {KEY_ENV} to check the "
                    "attestation's signature"]
        if signature:
            return [f"{stack}: the attestation is signed but {KEY_ENV} is not set: its signature cannot be checked"]
        return []
    value = signature.get("value") if isinstance(signature, dict) else None
    if not isinstance(value, str):
        return [f"{stack}: the attestation is not signed, but {KEY_ENV} is set: refusing an unsigned approval"]
    if not hmac.compare_digest(value, sign(record, key)):
        return [f"{stack}: the attestation signature is wrong (edited, or signed with another key)"]
    return []


def _binding_problems(record: dict[str, Any], expected: Expected) -> list[str]:
    stack = expected.stack
    problems = []
    if record.get("verdict") != "pass":
        problems.append(f"{stack}: the attestation does not record a pass")
    if record.get("stack") != stack:
        problems.append(f"{stack}: the attestation is for stack {record.get('stack')!r}, not {stack!r}")
    for field, want in expected.binding.as_dict().items():
        if record.get(field) != want:
            problems.append(f"{stack}: the plan was judged for {field} {record.get(field)!r}, but this apply is "
                            f"for {field} {want!r}: run `plan --env {expected.binding.env}` again")
    return problems


def _byte_problems(record: dict[str, Any], plan_file: Path, stack: str) -> tuple[bytes, bytes, list[str]]:
    """The plan and JSON bytes, each read once, and every way they differ from what the gate approved."""
    problems = []
    plan_bytes: bytes | None = None
    json_bytes = b""
    try:
        plan_bytes = plan_file.read_bytes()
    except OSError:
        problems.append(f"{stack}: the plan file {plan_file.name} is missing")
    binary = record.get("plan_file")
    if binary is not None and not isinstance(binary, dict):
        problems.append(f"{stack}: the attestation's `plan_file` is not an object")
    elif plan_bytes is not None and binary and hashlib.sha256(plan_bytes).hexdigest() != binary.get("sha256"):
        problems.append(f"{stack}: {plan_file.name} changed since the gate approved it (SHA-256 differs)")
    listed = record.get("plan_json")
    judged: dict[str, Any] = listed if isinstance(listed, dict) else {}
    name = judged.get("name")
    json_file = plan_file.with_name(name) if isinstance(name, str) and "/" not in name and name else None
    try:
        json_bytes = json_file.read_bytes() if json_file is not None else b""
    except OSError:
        json_file = None
    if json_file is None:
        problems.append(f"{stack}: the judged plan JSON {name!r} is missing")
    elif hashlib.sha256(json_bytes).hexdigest() != judged.get("sha256"):
        problems.append(f"{stack}: {json_file.name} changed since the gate approved it (SHA-256 differs)")
    return plan_bytes or b"", json_bytes, problems


def _pack_problems(record: dict[str, Any], expected: Expected) -> list[str]:
    stack, pack = expected.stack, expected.pack
    problems = []
    if (record.get("policy_pack") or {}).get("sha256") != pack["sha256"]:
        problems.append(f"{stack}: the policy pack changed since the gate ran (policies/ hash differs): run `plan` again")
    if (record.get("catalog") or {}).get("sha256") != expected.catalog["sha256"]:
        problems.append(f"{stack}: the policy catalog changed since the gate ran: run `plan` again")
    gate = record.get("gate") or {}
    if gate.get("version") != gate_version() or gate.get("checkov") != pack["checkov"]:
        problems.append(f"{stack}: the gate version changed since the plan was judged "
                        f"({gate.get('version')}/checkov {gate.get('checkov')}): run `plan` again")
    return problems


def _input_problems(record: dict[str, Any], expected: Expected) -> list[str]:
    """The exceptions and approvals the verdict used must be the files this apply is told to use."""
    if expected.inputs is None:
        return []
    listed = record.get("inputs")
    recorded: dict[str, Any] = listed if isinstance(listed, dict) else {}
    problems = []
    for name, want in expected.inputs.items():
        got = recorded.get(name)
        if _digest(got) != _digest(want):
            problems.append(f"{expected.stack}: the plan was judged with {_described(got)} as its {name}, but this "
                            f"apply uses {_described(want)}: plan again with the {name} apply uses (or give apply "
                            f"the same --{name})")
    return problems


def _digest(entry: Any) -> str | None:
    return entry.get("sha256") if isinstance(entry, dict) else None


def _described(entry: Any) -> str:
    if not isinstance(entry, dict):
        return "no file"
    return f"{entry.get('name')!r} (SHA-256 {str(entry.get('sha256'))[:12]}…)"


def _age_problems(record: dict[str, Any], expected: Expected, now: dt.datetime) -> list[str]:
    stack = expected.stack
    try:
        created = dt.datetime.fromisoformat(str(record.get("created_at")).replace("Z", "+00:00"))
        if created.tzinfo is None:
            raise ValueError("no time zone")
    except ValueError:
        return [f"{stack}: the attestation time {record.get('created_at')!r} is not an ISO timestamp"]
    if created - now > CLOCK_SKEW:
        return [f"{stack}: the attestation is dated in the future ({record['created_at']})"]
    if now - created > expected.max_age:
        return [f"{stack}: the attestation is older than the allowed {_human(expected.max_age)} "
                f"(created {record['created_at']}): run `plan` again"]
    return []


def mark_applied(plan_file: Path, now: dt.datetime | None = None) -> None:
    """Retire the attestation once applied (moved aside, with the time). Restoring it does not make the
    plan applicable again: the apply ledger (policies/plan/ledger.py) remembers the plan."""
    path = attestation_path(plan_file)
    record = json.loads(path.read_text(encoding="utf-8"))
    record["applied_at"] = _stamp(now or _now())
    write_text_atomic(applied_path(plan_file), json.dumps(record, indent=2, sort_keys=True) + "\n")
    path.unlink()


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def max_age_setting(option: str | None) -> dt.timedelta:
    return parse_duration(option or os.environ.get(MAX_AGE_ENV) or DEFAULT_MAX_AGE)
