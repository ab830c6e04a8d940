"""The synth cache: skip synth entirely when nothing it depends on changed.

The key is a content hash of every input of the output: the environment files (all of them, base.yaml
included, byte for byte) and which environments are selected, every file of modules/ (the suppression
helper included), and the toolchain: pyproject.toml, the installed versions of the generator's
dependencies, the Python and Node.js versions and the CDKTF_* settings (generator files and toolchain
as the synth record names them, modules/synth_record.py). Never a timestamp. An entry is a copy of the
whole output folder plus a signed list of its files and their SHA-256 (modules/cache.py), each file checked
against it before use, so a hit restores the output byte for byte, or finds it already in place; a
damaged or forged entry is ignored and synth runs. `--no-cache` never reads an entry and always
writes a fresh one (so it also replaces a bad one).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modules import synth_record
from modules.atomic import naming
from modules.cache import CorruptEntry, Hasher, cache_dir, prune, read_entry, sha256_file, touch, write_entry
from modules.config import BASE_FILE, env_files, environments_dir
from modules.synth_output import MANIFEST, staging_folder, swap_in

ENTRY = "entry.json"
FILES = "files"
KEEP = 8  # entries kept (most recently used)


@dataclass
class Lookup:
    stacks: list[str] | None  # the restored output's stacks on a hit, else None
    note: str  # what happened, for the user: "cache hit", "cache miss", "cache entry ... ignored"


def synth_key(envs: tuple[str, ...] | list[str], directory: Path | None = None) -> str:
    """The content hash that names the output of synthesizing `envs` (all when empty) from `directory`."""
    directory = directory or environments_dir()
    files = env_files(directory)  # raises ConfigError without environment files, as synth would
    key = Hasher("synth")
    key.add("selected", "\0".join(sorted(set(envs)) or sorted(files)))
    env_paths = list(files.values()) + ([directory / BASE_FILE] if (directory / BASE_FILE).exists() else [])
    key.add_files("environments", env_paths, directory)
    key.add_files("generator", synth_record.generator_files(), synth_record.ROOT)
    key.add("toolchain", synth_record.toolchain_digest())
    return key.hexdigest()


def _entry_dir(key: str) -> Path:
    return cache_dir("synth") / key


def _listing(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def _stacks(files: dict[str, str]) -> list[str]:
    return sorted({path.split("/")[1] for path in files if path.startswith("stacks/") and path.count("/") >= 2})


def restore(key: str, out: Path) -> Lookup:
    """On a hit, make `out` hold the cached output (untouched when it already does)."""
    try:
        entry = _entry_dir(key)
        payload = read_entry(entry / ENTRY, key)
    except CorruptEntry as exc:
        return Lookup(None, f"cache entry ignored ({exc})")
    except OSError as exc:
        return Lookup(None, f"cache not available ({exc.strerror or exc})")
    if payload is None:
        return Lookup(None, "cache miss")
    files: dict[str, str] | None = payload.get("files") if isinstance(payload, dict) else None
    if not isinstance(files, dict) or MANIFEST not in files:
        return Lookup(None, "cache entry ignored (no file list)")
    out = Path(out).absolute()
    if out.is_dir() and _listing(out) == files:
        touch(entry / ENTRY)
        return Lookup(_stacks(files), f"cache hit ({out.name}/ already up to date)")
    source = entry / FILES
    for rel, digest in files.items():
        path = source / rel
        if not path.is_file() or sha256_file(path) != digest:
            return Lookup(None, f"cache entry ignored (file {rel} is damaged)")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(out, "cache")
    try:
        for rel in files:
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copyfile(source / rel, target)
            except OSError as exc:  # a full disk names no file: name the output's
                raise naming(exc, out / rel) from None
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    touch(entry / ENTRY)
    return Lookup(_stacks(files), f"cache hit (restored into {out.name}/)")


def store(key: str, out: Path) -> None:
    """Keep a copy of a fresh output under its key (best effort: a cache that cannot be written is skipped)."""
    out = Path(out).absolute()
    try:
        root = cache_dir("synth")
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        try:
            shutil.copytree(out, staging / FILES)
            files = _listing(staging / FILES)
            write_entry(staging / ENTRY, key, {"files": files})
            target = _entry_dir(key)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        prune(root, KEEP)
    except OSError as exc:
        print(f"note: synth cache not written ({exc.strerror or exc})", file=sys.stderr)


def remember(key: str, envs: tuple[str, ...] | list[str], directory: Path | None, out: Path) -> None:
    """Store a fresh output under the key computed before synth, unless an input changed while synth
    ran: the output could then match neither key, so it is not cached."""
    if synth_key(envs, directory) != key:
        print("note: inputs changed while synthesizing; the output is not cached", file=sys.stderr)
        return
    store(key, out)
