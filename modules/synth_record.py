"""What a synth output was made from (`aegis-synth.json`, written beside its stacks), and the one rule
that says whether an output is still fresh.

The record holds content hashes only, so it is deterministic and free of machine paths: each
environment's validated config, the generator (every file of modules/) and the toolchain
(pyproject.toml, the installed dependencies, Python, Node.js and CDKTF_* settings). An output is
fresh only when all of them still match; the commands synthesize again (or refuse, with --no-synth)
and the gate refuses to judge otherwise. The synth cache keys its entries by the same generator
files and toolchain (modules/synth_cache.py).

It also holds the SHA-256 of each stack's cdk.tf.json as synth wrote it (`stacks`): what Aegis
synthesized, as opposed to a file that merely sits in a stack folder. The gate judges only stack
files that match (an output edited by hand is refused), and the plan gate uses the stack file
beside a plan (its `//` metadata, its reference forms) only when it is Aegis's own
(`trusted_stack`).
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
from typing import Any, Iterable, Mapping

from modules.cache import Hasher, source_files
from modules.config import EnvConfig
from modules.synth_output import (
    MANIFEST,
    SynthOutputError,
    load_stack,
    manifest_stacks,
    read_bytes,
    read_json,
    sha256_of,
)

RECORD = "aegis-synth.json"
FORMAT = 2  # 2: the stack files' SHA-256 (`stacks`)
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


def stack_digests(out: Path) -> dict[str, str]:
    """Stack name → SHA-256 of its cdk.tf.json, for every stack in the output's manifest."""
    return {name: sha256_of(read_bytes(path, f"stack {name} ({path.relative_to(out).as_posix()})"))
            for name, path in sorted(manifest_stacks(out).items())}


def build_record(configs: Iterable[EnvConfig], stacks: Mapping[str, str]) -> dict:
    """The record of an output synthesized from `configs` by this generator on this toolchain, whose
    stack files have the SHA-256 `stacks` (stack name → hash)."""
    return {"format": FORMAT,
            "environments": {c.name: config_digest(c) for c in sorted(configs, key=lambda c: c.name)},
            "generator": generator_digest(), "toolchain": toolchain_digest(), "stacks": dict(sorted(stacks.items()))}


def write_record(folder: Path, configs: Iterable[EnvConfig]) -> None:
    """Record the output synth has just written into `folder` (its stack files as they are now)."""
    (folder / RECORD).write_text(json.dumps(build_record(configs, stack_digests(folder)), indent=2, sort_keys=True)
                                 + "\n", encoding="utf-8")


def read_record(out: Path) -> dict[str, Any]:
    """The record of the output in `out`, as written; SynthOutputError when missing or unreadable."""
    record = read_json(out / RECORD, f"{out.name}/{RECORD}")
    if not isinstance(record, dict):
        raise SynthOutputError(f"{out.name}/{RECORD} is not a synth record")
    return record


def recorded_environments(out: Path) -> list[str]:
    """The environments the output in `out` was synthesized from (none when it has no readable record)."""
    try:
        environments = read_record(out).get("environments")
    except SynthOutputError:
        return []
    return sorted(environments) if isinstance(environments, dict) else []


def recorded_stacks(out: Path) -> dict[str, str]:
    """Stack name → the SHA-256 synth recorded for its cdk.tf.json."""
    stacks = read_record(out).get("stacks")
    if not isinstance(stacks, dict) or not all(isinstance(v, str) for v in stacks.values()):
        raise SynthOutputError(f"{out.name}/{RECORD} records no stack hashes: run `python main.py synth`")
    return stacks


def why_stale(out: Path, configs: Iterable[EnvConfig]) -> str | None:
    """None when `out` holds a complete output synthesized from exactly these configs, by this
    generator, on this toolchain; else why not, in words for the user."""
    if not (out / MANIFEST).exists():
        return f"no {out.name}/ yet"
    try:
        record = read_record(out)
    except SynthOutputError as exc:
        return str(exc)
    if record.get("format") != FORMAT:
        return f"{out.name}/ was synthesized by another version of Aegis (synth record format {record.get('format')!r})"
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


def trusted_stack(out: Path, name: str, file: Path, config: EnvConfig | None) -> tuple[dict | None, str]:
    """(the parsed `file`, "") when it is stack `name`'s cdk.tf.json in the manifest of `out`, `out` is a
    synth output of `config` that is fresh (`why_stale`), and the file's bytes are those synth recorded
    for it; else (None, why not). For readers that may use a stack file only when it is Aegis's own
    (the plan gate, on the stack folder around a plan)."""
    if not (out / MANIFEST).is_file():
        return None, "it is not in a synth output"
    if config is None:
        return None, "its environment has no environment file"
    stale = why_stale(out, [config])
    if stale:
        return None, stale
    try:
        path = manifest_stacks(out).get(name)
        if path is None or path.resolve() != file.resolve():
            return None, f"it is not the file of stack {name} in {out.name}/{MANIFEST}"
        expected = recorded_stacks(out).get(name)
        if expected is None:
            return None, f"{out.name}/{RECORD} records no stack {name}"
        return load_stack(out, name, path, sha256=expected), ""
    except SynthOutputError as exc:
        return None, str(exc)
