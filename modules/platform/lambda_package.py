"""A deterministic zip of the reference inference function.

Same sources → same bytes: entries sorted, fixed timestamps (1980-01-01, the zip epoch), fixed
permissions (0644), fixed compression level, no directory entries, no caches. So the asset hash,
the synthesized JSON and Lambda's `source_code_hash` only change when the code does.
"""
from __future__ import annotations

import atexit
import hashlib
import io
import shutil
import tempfile
import zipfile
from functools import lru_cache
from pathlib import Path

SOURCE_DIR = Path(__file__).resolve().parent / "inference_function"
PACKAGE = SOURCE_DIR.name  # the zip holds the package folder: handler `inference_function.handler.handler`
HANDLER = f"{PACKAGE}.handler.handler"
ZIP_NAME = "inference-function.zip"
_EPOCH = (1980, 1, 1, 0, 0, 0)
_MODE = 0o100644 << 16  # regular file, rw-r--r--


def source_files(source_dir: Path = SOURCE_DIR) -> list[Path]:
    """The function's sources: Python files only, no caches, in a stable order."""
    return sorted((p for p in source_dir.rglob("*.py") if "__pycache__" not in p.parts),
                  key=lambda p: p.relative_to(source_dir).as_posix())


def build_zip_bytes(source_dir: Path = SOURCE_DIR) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in source_files(source_dir):
            name = f"{source_dir.name}/{path.relative_to(source_dir).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = _MODE
            info.create_system = 3  # Unix, whatever the build machine is
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def build_zip() -> Path:
    """Write the zip once per process into a private temporary folder and return its path.

    cdktf copies it into the output folder as a stack asset (a relative path in the JSON), so the
    temporary path never reaches the synthesized Terraform.
    """
    data = build_zip_bytes()
    folder = Path(tempfile.mkdtemp(prefix="aegis-lambda-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / ZIP_NAME
    path.write_bytes(data)
    return path


def zip_sha256() -> str:
    return hashlib.sha256(build_zip_bytes()).hexdigest()
