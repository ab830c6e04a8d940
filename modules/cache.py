"""Content-addressed cache of synth outputs and gate scans, under `.aegis/cache/` (gitignored).

An entry is named by a hash of everything that decides its content (never a timestamp), so a changed
input can only miss, never hit a stale entry. Entries are written atomically (a temporary file, then a
rename) and carry a SHA-256 of their body, checked on every read: a corrupt, truncated or half-written
entry is reported and ignored, never served. `AEGIS_CACHE_DIR` moves the cache (the benchmark uses a
fresh one); deleting the folder is always safe.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from modules.atomic import write_atomic

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 1
_HEADER_MAX = 512


def cache_dir() -> Path:
    configured = os.environ.get("AEGIS_CACHE_DIR")
    return Path(configured) if configured else ROOT / ".aegis" / "cache"


class Hasher:
    """SHA-256 over labelled parts; each part is length-framed so no two sequences of parts collide."""

    def __init__(self, kind: str) -> None:
        self._hash = hashlib.sha256()
        self.add("kind", kind)

    def add(self, label: str, value: bytes | str) -> "Hasher":
        data = value.encode("utf-8") if isinstance(value, str) else value
        label_bytes = label.encode("utf-8")
        self._hash.update(len(label_bytes).to_bytes(4, "big") + label_bytes)
        self._hash.update(len(data).to_bytes(8, "big") + data)
        return self

    def add_files(self, label: str, files: Iterable[Path], root: Path) -> "Hasher":
        """Each file's path (relative to `root`) and bytes, in path order."""
        for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
            self.add(f"{label}:{path.relative_to(root).as_posix()}", path.read_bytes())
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def source_files(folder: Path) -> list[Path]:
    """Every file under `folder` that can change behaviour: not bytecode caches."""
    return [p for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")]


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_blob(path: Path, key: str, body: bytes) -> None:
    """One checksummed entry: a header line (format, key, length and SHA-256 of the body), then the body."""
    header = json.dumps({"format": FORMAT, "key": key, "length": len(body),
                         "sha256": hashlib.sha256(body).hexdigest()}, sort_keys=True).encode("utf-8")
    write_atomic(path, header + b"\n" + body)


def write_entry(path: Path, key: str, payload: Any) -> None:
    """A checksummed entry whose body is JSON."""
    write_blob(path, key, json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))


class CorruptEntry(Exception):
    """The entry exists but fails its checks: it is ignored (and overwritten by the next store)."""


def read_blob(path: Path, key: str) -> bytes | None:
    """The body, or None when there is no entry; CorruptEntry when it fails any check."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptEntry(f"unreadable: {exc.strerror}") from None
    head, sep, body = data.partition(b"\n")
    try:
        header = json.loads(head[:_HEADER_MAX]) if sep else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CorruptEntry("no valid header")
    if header.get("key") != key:
        raise CorruptEntry("written for another key")
    if header.get("length") != len(body) or header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise CorruptEntry("checksum mismatch (truncated or altered)")
    return body


def read_entry(path: Path, key: str) -> Any | None:
    """The JSON payload, or None when there is no entry; CorruptEntry when it fails any check."""
    body = read_blob(path, key)
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise CorruptEntry("body is not JSON") from None


def prune(folder: Path, keep: int) -> None:
    """Keep the `keep` most recently used entries of one kind (files or folders directly in `folder`)."""
    try:
        entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    except FileNotFoundError:
        return
    if len(entries) <= keep:
        return
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        if old.is_dir():
            import shutil

            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def touch(path: Path) -> None:
    """Mark an entry as used (for `prune` only: never part of a key)."""
    with contextlib.suppress(OSError):
        os.utime(path)
