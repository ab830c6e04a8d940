"""The synth output folder: `manifest.json` → stacks → `stacks/<env>-<pillar>/cdk.tf.json`.

The one reader of what `modules.synth` writes: the synth itself, the gate, the plan/apply flow,
the reports and the tools read through it. It lives beside the writer because both sides need it
(`policies` may import `modules`, never the reverse). Synth and the synth cache both build a
complete output in a staging folder beside the target and swap it in (`staging_folder`, `swap_in`),
so a failure never leaves a half-written output and never destroys the previous one.

Fail closed: whatever cannot be read, or is not shaped as expected, raises `SynthOutputError`
naming the file, never a machine path. Inside a stack document, CDKTF's metadata sits under the
key `//` (in the document, in each resource type's mapping and in each resource); the iterators
here leave those entries out.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from modules import strict_json
from modules.naming import STACK_ORDER

MANIFEST = "manifest.json"
STACK_FILE = "cdk.tf.json"
METADATA = "//"
BLOCKS = ("resource", "data")


class SynthOutputError(Exception):
    """A synth output (or a part of it) that could not be read or trusted."""


# ---------------------------------------------------------------- files

def read_bytes(path: Path, what: str) -> bytes:
    """The bytes of `path`; `what` names it in the error (never a machine path)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SynthOutputError(f"{what} is missing") from None
    except OSError as exc:
        raise SynthOutputError(f"{what} is not readable: {exc.strerror or exc}") from None


def parse_json(data: bytes, what: str) -> Any:
    """The parsed JSON of `data` (UTF-8). An object with a key twice is refused (modules/strict_json.py):
    Terraform would read both copies."""
    try:
        return strict_json.loads(data.decode("utf-8"))
    except strict_json.DuplicateKeyError as exc:
        raise SynthOutputError(f"{what}: {exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SynthOutputError(f"{what} is not readable JSON: {exc}") from None


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON of `path`; `what` names it in the error (never a machine path)."""
    return parse_json(read_bytes(path, what), what)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def holds_synth_output(folder: Path) -> bool:
    return (Path(folder) / MANIFEST).is_file()


def manifest_entries(out_dir: Path) -> dict[str, Any]:
    """Stack name → its manifest entry (`synthesizedStackPath`, `dependencies` …)."""
    manifest = read_json(out_dir / MANIFEST, f"{out_dir.name}/{MANIFEST}")
    stacks = manifest.get("stacks") if isinstance(manifest, dict) else None
    if not isinstance(stacks, dict):
        raise SynthOutputError(f"{out_dir.name}/{MANIFEST} has no `stacks` mapping")
    return stacks


def manifest_stacks(out_dir: Path) -> dict[str, Path]:
    """Stack name → its cdk.tf.json, from the CDKTF manifest (in the manifest's order)."""
    out = {}
    for name, entry in manifest_entries(out_dir).items():
        rel = entry.get("synthesizedStackPath") if isinstance(entry, dict) else None
        if not rel:
            raise SynthOutputError(f"{out_dir.name}/{MANIFEST}: stack {name} has no synthesizedStackPath")
        out[name] = out_dir / rel
    return out


def load_stack(out_dir: Path, name: str, path: Path, sha256: str | None = None) -> dict:
    """One stack's parsed cdk.tf.json (a JSON object). With `sha256` (what the synth record holds for it,
    modules/synth_record.py), only when its bytes are exactly those synth wrote: the bytes are read
    once, checked, then parsed."""
    what = f"stack {name} ({path.relative_to(out_dir).as_posix()})"
    data = read_bytes(path, what)
    if sha256 is not None and sha256_of(data) != sha256:
        raise SynthOutputError(f"{what} is not the file synth wrote (its SHA-256 differs from the synth record): "
                               "a synth output edited after synth is not judged; run `python main.py synth`")
    doc = parse_json(data, what)
    if not isinstance(doc, dict):
        raise SynthOutputError(f"stack {name}: {STACK_FILE} is not a JSON object")
    return doc


def load_stacks(out_dir: Path) -> dict[str, dict]:
    """Stack name → parsed cdk.tf.json of every stack of the output, by name."""
    out_dir = Path(out_dir)
    return {name: load_stack(out_dir, name, path) for name, path in sorted(manifest_stacks(out_dir).items())}


# ---------------------------------------------------------------- stack names

def stack_parts(name: str) -> tuple[str, str] | None:
    """`<env>-<pillar>` → (env, pillar), or None; env names may contain hyphens, pillars are known."""
    for pillar in STACK_ORDER:
        if name.endswith("-" + pillar) and len(name) > len(pillar) + 1:
            return name[: -len(pillar) - 1], pillar
    return None


def split_stack(name: str) -> tuple[str, str]:
    """`<env>-<pillar>` → (env, pillar); any other name is an error."""
    parts = stack_parts(name)
    if parts is None:
        raise SynthOutputError(f"stack '{name}' is not named <env>-<pillar> (pillars: {', '.join(STACK_ORDER)})")
    return parts


# ---------------------------------------------------------------- resources of a stack document

@dataclass(frozen=True)
class StackResource:
    address: str  # "<type>.<name>", "data.<type>.<name>" for a data source
    rtype: str
    name: str
    conf: Any  # a dict as CDKTF writes it (anything else as found: callers decide)

    def construct_path(self, default: str) -> str:
        """The construct path CDKTF recorded in the resource's `//.metadata.path`, else `default`."""
        meta = ((self.conf or {}).get(METADATA) or {}).get("metadata", {}) if isinstance(self.conf, dict) else {}
        return meta.get("path", default)


def typed_resources(doc: Mapping[str, Any], block: str = "resource") -> Iterator[tuple[str, dict[str, Any]]]:
    """(type, {name: conf}) of one block (`resource` or `data`), for each type holding a mapping."""
    for rtype, items in (doc.get(block) or {}).items():
        if isinstance(items, dict):
            yield rtype, {name: conf for name, conf in items.items() if name != METADATA}


def resources_of_type(doc: Mapping[str, Any], rtype: str, block: str = "resource") -> dict[str, dict]:
    """name → conf of the resources of one type that are JSON objects."""
    items = (doc.get(block) or {}).get(rtype) or {}
    return {name: conf for name, conf in items.items() if name != METADATA and isinstance(conf, dict)}


def resources(doc: dict, blocks: tuple[str, ...] = BLOCKS) -> Iterator[StackResource]:
    """Every resource (and, by default, data source) of a stack document, in document order."""
    for block in blocks:
        prefix = "data." if block == "data" else ""
        for rtype, items in typed_resources(doc, block):
            for name, conf in items.items():
                yield StackResource(f"{prefix}{rtype}.{name}", rtype, name, conf)


# ---------------------------------------------------------------- replacing the folder whole

def staging_folder(out: Path, purpose: str) -> Path:
    """A new empty folder beside `out` (on its file system, so swapping it in is a rename)."""
    try:
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.{purpose}-", dir=out.parent))
    except OSError as exc:  # name the folder the user gave, not a temporary name
        raise type(exc)(exc.errno, exc.strerror or str(exc), str(out.parent)) from None


def swap_in(staging: Path, out: Path) -> None:
    """Make the complete `staging` folder the output `out`; the previous output goes only after."""
    if out.exists():
        old = staging_folder(out, "old")
        out.rename(old / out.name)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)
