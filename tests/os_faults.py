"""File-system failures for tests, confined to one folder: a read-only folder (EACCES on anything that
would create, write or rename into it, as a non-root user sees after `chmod a-w`) and a full disk
(ENOSPC on every write of a file opened there). Tests run as root in some sandboxes, where `chmod`
stops nothing, so the failures are made by monkeypatching the os and io calls the code uses."""
from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _FullFile:
    """A file handle on a full disk: every write fails with ENOSPC (no file name, as the kernel reports it)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fileno(self) -> int:  # no fd: shutil's sendfile fast path must fall back to write()
        raise io.UnsupportedOperation("fileno")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> "_FullFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self._handle.close()


def _inside(path: Any, folder: Path) -> bool:
    if isinstance(path, int):
        return False
    try:
        Path(os.fsdecode(path)).absolute().relative_to(folder)
        return True
    except ValueError:
        return False


def _denied(path: Any) -> OSError:
    return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))


def read_only(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Nothing can be created, written or renamed under `folder` (reading still works)."""
    folder = folder.absolute()
    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir
    real_replace, real_rename = os.replace, os.rename

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & _WRITE_FLAGS and _inside(path, folder):
            raise _denied(path)
        return real_os_open(path, flags, *args, **kwargs)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+") and _inside(file, folder):
            raise _denied(file)
        return real_open(file, mode, *args, **kwargs)

    def mkdir(path: Any, *args: Any, **kwargs: Any) -> None:
        if _inside(path, folder) and Path(os.fsdecode(path)).absolute() != folder:
            raise _denied(path)
        real_mkdir(path, *args, **kwargs)

    def moving(real: Any) -> Any:
        def move(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            if _inside(dst, folder) or _inside(src, folder):
                raise _denied(dst)
            real(src, dst, *args, **kwargs)
        return move

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "replace", moving(real_replace))
    monkeypatch.setattr(os, "rename", moving(real_rename))


def disk_full(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Files under `folder` open (and folders are made), but every write to them fails with ENOSPC."""
    folder = folder.absolute()
    real_open, real_os_open, real_fdopen = builtins.open, os.open, os.fdopen
    full_fds: set[int] = set()

    def os_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_os_open(path, flags, *args, **kwargs)
        if flags & _WRITE_FLAGS and _inside(path, folder):
            full_fds.add(fd)
        return fd

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, *args, **kwargs)
        return _FullFile(handle) if fd in full_fds else handle

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        return _FullFile(handle) if any(c in mode for c in "wax+") and _inside(file, folder) else handle

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(io, "open", open_)
