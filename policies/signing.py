"""What signed Aegis records share (plan attestations, compliance evidence): the key, the canonical JSON
an HMAC-SHA256 signature covers, the gate's and the catalog's versions, and the UTC time as written.

A record is signed over its canonical JSON: sorted keys, no whitespace, ASCII, without its `signature`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

KEY_ENV = "AEGIS_ATTESTATION_KEY"


def configured_key() -> str | None:
    return os.environ.get(KEY_ENV) or None


def _canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign(record: dict[str, Any], key: str) -> str:
    return hmac.new(key.encode("utf-8"), _canonical(record), hashlib.sha256).hexdigest()


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


def utc_stamp(moment: dt.datetime) -> str:
    """UTC, whole seconds, `Z`: 2026-12-03T12:00:00Z."""
    return moment.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
