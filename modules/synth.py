"""Synthesize environments into a cdktf-compatible output folder, atomically.

Configs are all validated before anything is written. The app is synthesized into a temporary
folder beside the target and swapped in only when complete, so a failure never leaves a
half-written output folder and never destroys the previous one.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from modules.config import EnvConfig

MANIFEST = "manifest.json"
# What the output was made from, so the gate can refuse (or redo) an output older than its inputs.
RECORD = "aegis-synth.json"
_ROOT = Path(__file__).resolve().parent.parent


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
        (staging / RECORD).write_text(json.dumps(synth_record(configs), indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
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


def config_digest(config: EnvConfig) -> str:
    """Content hash of a validated environment (comments and key order in the YAML do not count)."""
    return hashlib.sha256(config.model_dump_json().encode("utf-8")).hexdigest()


def generator_digest() -> str:
    """Content hash of the generator code (modules/ and the suppression helper), in path order."""
    digest = hashlib.sha256()
    files = sorted((_ROOT / "modules").rglob("*.py")) + [_ROOT / "policies" / "suppress.py"]
    for path in files:
        digest.update(path.relative_to(_ROOT).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def synth_record(configs: list[EnvConfig]) -> dict:
    """Deterministic and free of machine paths: hashes only."""
    return {"format": 1,
            "environments": {c.name: config_digest(c) for c in sorted(configs, key=lambda c: c.name)},
            "generator": generator_digest()}
