"""Content-addressed cache of synth outputs and gate scans, under `.aegis/cache/` (gitignored).

An entry is named by a hash of everything that decides its content (never a timestamp), so a changed
input can only miss, never hit a stale entry. Entries are written atomically (a temporary file, then a
rename) and hold plain JSON (never pickle: reading an entry runs no code).

The cache is trusted no further than its folder: a folder not owned by you, or writable by group or
others, is refused (`CacheError`, exit 2) rather than read, since anyone who can write there could
plant an entry. Each entry carries an HMAC-SHA256 of its key and body under a per-cache secret (`.key`,
32 random bytes, created 0600 in the cache folder), checked on every read: a corrupt, truncated, edited
or forged entry (a recomputed plain checksum is not enough) is reported and ignored, never served. The
key stops entries made without it (edited by hand, copied in from elsewhere); it cannot stop someone who
can already write as you, which is why the gate also re-checks what an entry says against the stack it
judges (policies/gate_cache.py). `AEGIS_CACHE_DIR` moves the cache (the benchmark uses a fresh one);
deleting the folder is always safe.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, Iterable

import orjson

from modules.atomic import write_atomic
from modules.console import shown_path

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 2  # 1: a plain SHA-256 of the body (anyone could recompute it); 2: an HMAC under the cache's key
_HEADER_MAX = 512
KEY_FILE = ".key"
_KEY_BYTES = 32


class CacheError(Exception):
    """The cache cannot be trusted at all (its folder or key file could be written by someone else): the
    command stops (exit 2) instead of reading or writing it."""


def cache_dir(kind: str | None = None) -> Path:
    """The cache folder (or its `kind` subfolder, e.g. "gate"), created private (0700) when missing and
    refused (`CacheError`) when someone else could write to it. An OSError means there is no cache to use
    (it cannot be created): callers run without it."""
    configured = os.environ.get("AEGIS_CACHE_DIR")
    root = Path(configured) if configured else ROOT / ".aegis" / "cache"
    _private_folder(root, root)
    if kind is None:
        return root
    _private_folder(root / kind, root)
    return root / kind


def _private_folder(folder: Path, root: Path) -> None:
    """`folder` exists, is a folder, is yours and only you can write to it (else CacheError)."""
    if not folder.is_dir():  # an OSError here (a read-only checkout) only means no cache: callers go on without
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    info = folder.stat()
    problem = _untrusted(info, "folder")
    if problem:
        fix = (f"run `chmod go-w {shown_path(folder)}`" if "writable" in problem else
               f"remove {shown_path(root)} and let Aegis create it")
        raise CacheError(f"cache folder {shown_path(folder)} {problem}: an entry planted there could pass the gate, "
                         f"so the cache is not used; {fix}, or set AEGIS_CACHE_DIR to a folder only you can write")


def _untrusted(info: os.stat_result, what: str) -> str:
    """Why a cache folder or key file is not safe to trust ("" when it is)."""
    if what == "folder" and not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if what == "key file" and not stat.S_ISREG(info.st_mode):
        return "is not a regular file"
    if info.st_uid != os.geteuid():
        return f"is owned by another user (uid {info.st_uid}, you are {os.geteuid()})"
    loose = stat.S_IMODE(info.st_mode) & (0o077 if what == "key file" else 0o022)
    if loose:
        return f"is {'readable or writable' if what == 'key file' else 'writable'} by group or others " \
               f"(mode {stat.S_IMODE(info.st_mode):04o})"
    return ""


def cache_key() -> bytes:
    """The secret that signs this cache's entries: `.key` in the cache folder, made on first use (32
    random bytes, 0600; two processes racing to make it agree on one file). Read and checked on every
    use (a few dozen times per run), so a key made loose meanwhile is refused too."""
    root = cache_dir()
    path = root / KEY_FILE
    if not path.exists():
        tmp = root / f".key.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(_KEY_BYTES))
            with contextlib.suppress(FileExistsError):  # never replaces a key another process made meanwhile
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        problem = _untrusted(os.fstat(handle.fileno()), "key file")
        key = handle.read(_KEY_BYTES + 1)
    if not problem and len(key) != _KEY_BYTES:
        problem = f"does not hold {_KEY_BYTES} bytes"
    if problem:
        raise CacheError(f"cache key {shown_path(path)} {problem}: remove it (every entry is then made again) "
                         "or the whole cache folder")
    return key


def _mac(key: str, body: bytes) -> str:
    """HMAC-SHA256 of an entry (its cache key and body, length-framed) under the cache's secret."""
    framed = len(key).to_bytes(4, "big") + key.encode("utf-8") + body
    return hmac.new(cache_key(), framed, hashlib.sha256).hexdigest()


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
    """One signed entry: a header line (format, key, length and HMAC of key and body), then the body."""
    header = json.dumps({"format": FORMAT, "key": key, "length": len(body), "mac": _mac(key, body)},
                        sort_keys=True).encode("utf-8")
    write_atomic(path, header + b"\n" + body)


def write_entry(path: Path, key: str, payload: Any) -> None:
    """A signed entry whose body is JSON."""
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
    if header.get("length") != len(body):
        raise CorruptEntry("checksum mismatch (truncated or altered)")
    mac = header.get("mac")
    if not isinstance(mac, str) or not hmac.compare_digest(mac.encode("utf-8"), _mac(key, body).encode("utf-8")):
        raise CorruptEntry("checksum mismatch (altered, or not signed with this cache's key)")
    return body


def read_entry(path: Path, key: str) -> Any | None:
    """The JSON payload, or None when there is no entry; CorruptEntry when it fails any check."""
    body = read_blob(path, key)
    if body is None:
        return None
    try:
        return orjson.loads(body)  # the standard decoder took ~0.1 s of an unchanged `make run`
    except ValueError:  # orjson.JSONDecodeError is one
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
