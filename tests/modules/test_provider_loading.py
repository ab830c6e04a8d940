"""The lazy provider loader must give byte-identical output to the eager import, and stay lazy."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_eager_import_gives_identical_output_and_cli_default_honours_cdktf_outdir(synthesized, tmp_path):
    # `python main.py` with no argument is what `cdktf synth` runs: it must honour CDKTF_OUTDIR.
    out = tmp_path / "eager.out"
    # An empty cache of its own: a cache hit would skip the eager synth this test is about.
    env = dict(os.environ, AEGIS_EAGER_PROVIDER="1", CDKTF_OUTDIR=str(out), AEGIS_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "!!!!" not in result.stderr and "end-of-life" not in result.stderr  # no jsii banner
    lazy = {p.relative_to(synthesized.out): p.read_bytes() for p in synthesized.out.rglob("*") if p.is_file()}
    eager = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert lazy.keys() == eager.keys()
    assert [str(k) for k in lazy if lazy[k] != eager[k]] == []
    assert len(result.stdout.strip().splitlines()) == 15  # one line per stack written
    assert "synth: cache miss" in result.stderr


def test_lazy_loader_imports_only_used_submodules(synthesized):
    from modules import aws

    assert not aws.eager()
    package = sys.modules[aws.PACKAGE]
    loaded = [name for name in sys.modules if name.startswith(aws.PACKAGE + ".")]
    # The eager import loads ~2,200 submodules; the app needs a small fraction of them
    # (each used submodule also loads its `_private` module, so this counts two per resource type).
    assert 0 < len(loaded) < 400
    assert not hasattr(package, "__all__")  # the package's own __init__ never ran


def test_bindings_still_check_argument_types_with_hints_computed_once(synthesized):
    import typing

    import pytest

    from modules import aws

    private = aws.cloudwatch_log_group._private
    assert private.typing is not typing  # the bindings' view of typing caches get_type_hints
    assert private.typing.Optional is typing.Optional
    with pytest.raises(TypeError, match="retention_in_days"):
        aws.cloudwatch_log_group.CloudwatchLogGroupConfig(retention_in_days="thirty")
    config = aws.cloudwatch_log_group.CloudwatchLogGroupConfig
    stub = next(v for k, v in vars(private).items() if k.startswith("_typecheckingstub__")
                and set(typing.get_type_hints(v)) >= {"retention_in_days", "kms_key_id"})
    assert private.typing.get_type_hints(stub) is private.typing.get_type_hints(stub)  # computed once
    assert config(retention_in_days=30).retention_in_days == 30
