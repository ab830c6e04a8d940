"""Files replaced whole: readers see the old file or the new one, never a part, and two writers of the
same file never share a temporary (each gets its own name in the target's folder, then renames)."""
from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO, Iterator


@contextlib.contextmanager
def atomic_file(path: Path, private: bool = False, durable: bool = False) -> Iterator[BinaryIO]:
    """A binary handle whose content replaces `path` when the block ends without error; on error the
    target is untouched and the temporary removed. `private` creates it 0600 (cache entries); otherwise the
    usual umask applies (reports, plans, attestations that other tools and users read). `durable` also
    survives a crash or power loss once it returns: the content is flushed to disk before the rename, and
    the folder after it (the apply ledger; everything else can be made again, and fsync is slow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    except OSError as exc:
        raise naming(exc, path, tmp) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
        if durable:
            _sync_folder(path.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise naming(exc, path, tmp) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk, where the platform can open a folder (POSIX)."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows: NTFS journals the rename itself
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def naming(exc: OSError, path: Path, tmp: Path | None = None) -> OSError:
    """The error of writing `path` (through `tmp`), naming `path`: a failed write names no file, and a
    temporary's name would mean nothing to the user. Any other file it names is kept."""
    if exc.filename is not None and (tmp is None or exc.filename not in (str(tmp), os.fspath(tmp))):
        return exc
    return type(exc)(exc.errno, exc.strerror or str(exc), str(path))


def write_atomic(path: Path, data: bytes, private: bool = True, durable: bool = False) -> None:
    with atomic_file(path, private=private, durable=durable) as handle:
        handle.write(data)


def write_text_atomic(path: Path, text: str, durable: bool = False) -> None:
    """A UTF-8 text file other readers may read (reports, attestations), replaced whole."""
    write_atomic(path, text.encode("utf-8"), private=False, durable=durable)
