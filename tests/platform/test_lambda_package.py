"""The Lambda zip is deterministic and the platform stacks synthesize byte-identically, with only
relative asset paths, also across processes (new temporary folders, another hash seed)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile

import pytest

from modules.platform import lambda_package
from tests.platform.conftest import ROOT


def test_zip_is_byte_identical_and_normalised():
    first, second = lambda_package.build_zip_bytes(), lambda_package.build_zip_bytes()
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        assert all(n.startswith("inference_function/") and n.endswith(".py") for n in names)
        assert {"inference_function/handler.py", "inference_function/model.py"} <= set(names)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
        for path in lambda_package.source_files():
            name = "inference_function/" + path.relative_to(lambda_package.SOURCE_DIR).as_posix()
            assert archive.read(name) == path.read_bytes()
    assert lambda_package.HANDLER == "inference_function.handler.handler"


def test_zip_ignores_caches(tmp_path):
    source = tmp_path / "inference_function"
    (source / "__pycache__").mkdir(parents=True)
    (source / "handler.py").write_text("x = 1\n")
    (source / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"\0")
    (source / "notes.txt").write_text("not code")
    with zipfile.ZipFile(io.BytesIO(lambda_package.build_zip_bytes(source))) as archive:
        assert archive.namelist() == ["inference_function/handler.py"]


def _assets(out, stack):
    folder = out / "stacks" / stack / "assets"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("env", ("dev", "prod"))
def test_synthesized_asset_is_the_deterministic_zip(synthesized, env):
    assets = _assets(synthesized.out, f"{env}-platform")
    (name,) = assets
    assert name.endswith("/" + lambda_package.ZIP_NAME)
    assert assets[name] == lambda_package.build_zip_bytes()


def test_second_synth_in_another_process_is_byte_identical(synthesized, tmp_path):
    out = tmp_path / "again"
    env = dict(os.environ, PYTHONHASHSEED="12345", JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION="1")
    result = subprocess.run([sys.executable, "main.py", "synth", "--env", "dev", "--env", "prod", "--out", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    for stack in ("dev-platform", "prod-platform"):
        text = (out / "stacks" / stack / "cdk.tf.json").read_bytes()
        assert text == synthesized.path(stack).read_bytes(), stack
        assert _assets(out, stack) == _assets(synthesized.out, stack)
        for needle in (str(out), str(ROOT), str(tmp_path), "/tmp/", os.path.expanduser("~") + "/"):
            assert needle.encode() not in text
            assert all(needle.encode() not in data for data in _assets(out, stack).values())
