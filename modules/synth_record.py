"""What a synth output was made from (`aegis-synth.json`, written beside its stacks), and the one rule
that says whether an output is still fresh.

The record holds content hashes only, so it is deterministic and free of machine paths: each
environment's validated config, the generator (every file of modules/) and the toolchain
(pyproject.toml, the installed dependencies, Python, Node.js and CDKTF_* settings). An output is
fresh only when all of them still match; the commands synthesize again (or refuse, with --no-synth)
and the gate refuses to judge otherwise. The synth cache keys its entries by the same generator
files and toolchain (modules/synth_cache.py).
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from modules.cache import Hasher, source_files
from modules.config import EnvConfig
from modules.synth_output import MANIFEST

RECORD = "aegis-synth.json"
FORMAT = 1
ROOT = Path(__file__).resolve().parent.parent  # generator files are named relative to it
# Installed distributions whose versions decide the output (config parsing included).
DEPENDENCIES = ("cdktf", "cdktf-cdktf-provider-aws", "constructs", "jsii", "pydantic", "pyyaml")
# Settings read by cdktf's App at synth time (CDKTF_OUTDIR only says where the output goes).
_IGNORED_ENV = {"CDKTF_OUTDIR"}


def config_digest(config: EnvConfig) -> str:
    """Content hash of a validated environment (comments and key order in the YAML do not count)."""
    return hashlib.sha256(config.model_dump_json().encode("utf-8")).hexdigest()


def generator_files() -> list[Path]:
    """Everything the output is generated from: every file of modules/ (code, templates, rule lists,
    the Lambda handler, the suppression helper the constructs call)."""
    return source_files(ROOT / "modules")


def generator_digest() -> str:
    """Content hash of the generator files, in path order."""
    digest = hashlib.sha256()
    for path in sorted(generator_files(), key=lambda p: p.relative_to(ROOT).as_posix()):
        digest.update(path.relative_to(ROOT).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def node_version() -> str:
    node = shutil.which("node")  # as modules/node.py finds it
    if not node:
        return "unavailable"
    try:
        return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def toolchain_digest() -> str:
    """What synth runs on, besides the configs and modules/: pyproject.toml, the installed dependencies,
    Python, Node.js and CDKTF_* settings."""
    key = Hasher("toolchain")
    key.add("pyproject", (ROOT / "pyproject.toml").read_bytes() if (ROOT / "pyproject.toml").exists() else b"")
    for dist in DEPENDENCIES:
        key.add(f"version:{dist}", _version(dist))
    key.add("python", f"{sys.implementation.name} {platform.python_version()}")
    key.add("node", node_version())
    for name in sorted(os.environ):
        if name.startswith("CDKTF_") and name not in _IGNORED_ENV:
            key.add(f"env:{name}", os.environ[name])
    return key.hexdigest()


def build_record(configs: Iterable[EnvConfig]) -> dict:
    """The record of an output synthesized from `configs` by this generator on this toolchain."""
    return {"format": FORMAT,
            "environments": {c.name: config_digest(c) for c in sorted(configs, key=lambda c: c.name)},
            "generator": generator_digest(), "toolchain": toolchain_digest()}


def write_record(folder: Path, configs: Iterable[EnvConfig]) -> None:
    (folder / RECORD).write_text(json.dumps(build_record(configs), indent=2, sort_keys=True) + "\n",
                                 encoding="utf-8")


def recorded_environments(out: Path) -> list[str]:
    """The environments the output in `out` was synthesized from (none when it has no readable record)."""
    try:
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    environments = record.get("environments") if isinstance(record, dict) else None
    return sorted(environments) if isinstance(environments, dict) else []


def why_stale(out: Path, configs: Iterable[EnvConfig]) -> str | None:
    """None when `out` holds a complete output synthesized from exactly these configs, by this
    generator, on this toolchain; else why not, in words for the user."""
    if not (out / MANIFEST).exists():
        return f"no {out.name}/ yet"
    try:
        record = json.loads((out / RECORD).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{out.name}/{RECORD} is missing"
    except (OSError, ValueError) as exc:
        return f"{out.name}/{RECORD} is not readable JSON: {exc}"
    if not isinstance(record, dict):
        return f"{out.name}/{RECORD} is not a synth record"
    recorded = record.get("environments")
    if not isinstance(recorded, dict):
        recorded = {}
    for config in configs:
        if config.name not in recorded:
            return f"environment '{config.name}' was not synthesized into {out.name}/"
        if recorded[config.name] != config_digest(config):
            return (f"the synth output of '{config.name}' is older than its configuration "
                    f"(environments/{config.name}.yaml or base.yaml changed since)")
    if record.get("generator") != generator_digest():
        return f"the generator code (modules/) changed since {out.name}/ was synthesized"
    if record.get("toolchain") != toolchain_digest():
        return f"the toolchain (dependencies, Python or Node.js) changed since {out.name}/ was synthesized"
    return None
