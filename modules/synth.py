"""Synthesize environments into a cdktf-compatible output folder, atomically.

Configs are all validated before anything is written. The app is synthesized into a temporary
folder beside the target and swapped in only when complete, so a failure never leaves a
half-written output folder and never destroys the previous one.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from modules.config import EnvConfig

MANIFEST = "manifest.json"


class SynthError(Exception):
    pass


def synthesize(configs: list[EnvConfig], out: Path) -> list[str]:
    """Write `out/manifest.json` and `out/stacks/<stack>/cdk.tf.json`; return the stack names."""
    from modules.app import build_app  # imports cdktf and jsii: only when synthesizing

    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.synth-", dir=out.parent))
    try:
        build_app(configs, str(staging)).synth()
        stacks = _check_output(staging)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stacks


def _check_output(folder: Path) -> list[str]:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    stacks = sorted(manifest["stacks"])
    for name in stacks:
        text = (folder / manifest["stacks"][name]["synthesizedStackPath"]).read_text(encoding="utf-8")
        if str(folder) in text:
            raise SynthError(f"stack {name}: synthesized JSON contains a machine path")
    return stacks


def _swap_in(staging: Path, out: Path) -> None:
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.rename(old / out.name)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)
