"""Check a written evidence file: the record's signature, and for the CSV or HTML file the SHA-256 the
signed record holds for it. Exit codes: 0 valid; 1 tampered (signature or digest does not match);
2 cannot tell (unreadable, not evidence, not signed, or no key to check it with)."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path

from policies.evidence.record import FORMAT
from policies.signing import KEY_ENV, sign

VALID, TAMPERED, UNVERIFIABLE = 0, 1, 2
_NAME = re.compile(r"^(evidence-[a-z0-9-]+)\.(json|csv|html)$")


def verify(path: Path, key: str | None) -> tuple[int, str]:
    """(exit code, one line saying why)."""
    match = _NAME.match(path.name)
    if not match:
        return UNVERIFIABLE, f"{path.name}: not an evidence file (evidence-<env>.json, .csv or .html)"
    record_path = path.with_name(f"{match.group(1)}.json")
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        data = path.read_bytes()
    except OSError as exc:
        return UNVERIFIABLE, f"{path.name}: cannot read the evidence ({exc.strerror or type(exc).__name__})"
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return UNVERIFIABLE, f"{record_path.name}: not readable JSON ({type(exc).__name__})"
    signature = record.get("signature") if isinstance(record, dict) else None
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            return UNVERIFIABLE, f"{record_path.name}: not an {FORMAT} record"
        return UNVERIFIABLE, f"{record_path.name}: not signed ({KEY_ENV} was not set when it was written)"
    if not key:
        return UNVERIFIABLE, f"{record_path.name}: signed, but {KEY_ENV} is not set: the signature cannot be checked"
    if not hmac.compare_digest(signature["value"], sign(record, key)):
        return TAMPERED, f"{record_path.name}: the signature does not match (edited, or signed with another key)"
    if record_path != path:
        expected = (record.get("files") or {}).get(path.name)
        if expected != hashlib.sha256(data).hexdigest():
            return TAMPERED, f"{path.name}: its SHA-256 is not the one the signed record holds (edited)"
    return VALID, f"{path.name}: valid, signed evidence ({record.get('format')})"
