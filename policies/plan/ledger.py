"""The apply ledger: one plan, one apply, even when an attestation is restored.

Every plan `apply` hands to `terraform apply` is recorded first, by the SHA-256 of its bytes, in
an append-only JSON-lines file; `apply` refuses any plan already in it. A plan counts as consumed
once handed over, whether terraform then succeeds or fails: a failed apply may have changed part
of the account, so what is left must be planned and judged again.

Where: `.aegis/state/applied-plans.jsonl` beside the synth output folder (with the bootstrap
stacks' local state, which `make clean` and a new synth keep), or the file $AEGIS_APPLY_LEDGER
names (a volume or cache a CI runner keeps between jobs). It is rewritten whole through
modules/atomic.py, under an exclusive lock where the platform has one, and never loses a line: the
new file is the old bytes plus one line, flushed to disk (file and folder) before apply goes on. A ledger that cannot be read is an error, never "empty".

Limits: it only knows the applies made with it. A fresh CI runner without the file, or someone
who may edit `.aegis/state/`, can forget a plan; terraform itself still refuses a saved plan whose
state changed since it was made ("Saved plan is stale"), which covers most second applies.
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Iterator

from modules.atomic import write_text_atomic

LEDGER_ENV = "AEGIS_APPLY_LEDGER"
STATE_DIR = Path(".aegis") / "state"
FILE = "applied-plans.jsonl"


class LedgerError(Exception):
    """The ledger cannot be read or written: apply refuses (exit 2)."""


def ledger_path(out_dir: Path) -> Path:
    """$AEGIS_APPLY_LEDGER, else `.aegis/state/applied-plans.jsonl` beside the synth output folder."""
    configured = os.environ.get(LEDGER_ENV)
    return Path(configured) if configured else Path(out_dir).parent / STATE_DIR / FILE


def read(path: Path) -> dict[str, dict[str, Any]]:
    """Plan SHA-256 → the first entry that consumed it; a missing file is an empty ledger."""
    return _entries(path, _text(path))


def consumed(path: Path, plan_sha256: str) -> dict[str, Any] | None:
    return read(path).get(plan_sha256)


def record(path: Path, entry: dict[str, Any]) -> None:
    """Append one entry (it must carry `plan_sha256`); refuse a plan the ledger already holds."""
    with _locked(path):
        text = _text(path)
        known = _entries(path, text)
        if entry["plan_sha256"] in known:
            raise LedgerError(f"{path.name}: plan {entry['plan_sha256'][:12]}… was already handed to terraform "
                              f"apply ({describe(known[entry['plan_sha256']])})")
        if text and not text.endswith("\n"):
            text += "\n"
        # durable: the entry is on disk before terraform apply starts, so a crash cannot forget the plan
        write_text_atomic(path, text + json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n", durable=True)


def describe(entry: dict[str, Any]) -> str:
    return f"stack {entry.get('stack')} of {entry.get('env')} at {entry.get('apply_started_at')}"


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"the apply ledger {path} cannot be read ({exc}): refusing to apply without it") from None


def _entries(path: Path, text: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict) or not isinstance(entry.get("plan_sha256"), str):
            raise LedgerError(f"{path}:{number}: not a ledger entry (a JSON object with plan_sha256): the apply "
                              "ledger is damaged; repair it by hand, never by deleting it")
        out.setdefault(entry["plan_sha256"], entry)
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `<ledger>.lock` for the read-append-replace, where fcntl exists."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: the atomic replace alone
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
