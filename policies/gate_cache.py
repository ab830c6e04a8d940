"""Gate cache: checkov's scan of each stack, reused while nothing that decides it changed.

Only the scan is cached (what checkov parsed and every pass/fail it reported for one stack file): it is
the slow part, seconds per stack. Everything after it runs on every gate from the current files, so it
cannot go stale: the catalog's severities, suppressions (inline and policies/exceptions.yaml) with
their expiry against today's date, the thresholds, and the app-level checks, which span the stacks of
an environment (~0.3 s). The key of a stack's entry is still a content hash of all of the gate's inputs
that the issue lists, so any change of them misses rather than trusting the split above:
- the stack's JSON bytes and its environment's validated config (threshold and all);
- the policy pack: every file of policies/ but the report writers (custom checks, app-level checks,
  scanner fixes, engine), the catalog and the exceptions file in use;
- the installed checkov (and PyYAML, whose libyaml reads the JSON), Python, and the CKV_/CHECKOV_/BC_
  settings checkov reads.
Entries live in `.aegis/cache/gate/` (modules/cache.py: atomic, checksummed, corrupt ones ignored).
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from modules.cache import (
    CorruptEntry,
    Hasher,
    cache_dir,
    prune,
    read_blob,
    read_entry,
    source_files,
    touch,
    write_blob,
    write_entry,
)
from policies import scanner

POLICIES = Path(__file__).resolve().parent
ROOT = POLICIES.parent
KEEP = 300  # entries kept (most recently used): a few runs of several environments
_ENV_PREFIXES = ("CKV_", "CHECKOV_", "BC_")


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def pack_files() -> list[Path]:
    """Every file of policies/ except the report writers (presentation, not verdicts)."""
    return [p for p in source_files(POLICIES) if p.relative_to(POLICIES).parts[0] != "report"]


@dataclass
class GateCache:
    """Keys and entries of one gate run. `checks_dir` is the custom-check folder the run loads (None: none)."""

    checks_dir: Path | None
    catalog_file: Path
    exceptions_file: Path
    hits: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # corrupt entries, with why
    _base: str | None = None

    def _base_key(self) -> str:
        """Everything but the stack and its environment, hashed once per run."""
        if self._base is None:
            key = Hasher("gate-base")
            key.add_files("policies", pack_files(), POLICIES)
            for label, path in (("catalog", self.catalog_file), ("exceptions", self.exceptions_file)):
                key.add(label, path.read_bytes() if path.exists() else b"<none>")
            if self.checks_dir is None:
                key.add("checks_dir", "<none>")
            else:
                key.add_files("checks_dir", source_files(self.checks_dir), self.checks_dir)
            for dist in ("checkov", "pyyaml"):
                key.add(f"version:{dist}", _version(dist))
            key.add("pinned-checkov", scanner.CHECKOV_VERSION)
            key.add("python", f"{sys.implementation.name} {platform.python_version()}")
            for name in sorted(os.environ):
                if name.startswith(_ENV_PREFIXES):
                    key.add(f"env:{name}", os.environ[name])
            self._base = key.hexdigest()
        return self._base

    def stack_key(self, stack_bytes: bytes, config_digest: str) -> str:
        return (Hasher("gate-stack").add("base", self._base_key()).add("config", config_digest)
                .add("stack", stack_bytes).hexdigest())

    def registry_key(self) -> str:
        return Hasher("gate-registry").add("base", self._base_key()).hexdigest()

    def _path(self, key: str) -> Path:
        return cache_dir() / "gate" / f"{key}.json"

    def _read(self, key: str, what: str):
        try:
            payload = read_entry(self._path(key), key)
        except CorruptEntry as exc:
            self.ignored.append(f"{what}: {exc}")
            return None
        if payload is not None:
            touch(self._path(key))
        return payload

    def _write(self, key: str, payload) -> None:
        try:
            write_entry(self._path(key), key, payload)
        except OSError as exc:
            self.ignored.append(f"not written ({exc.strerror or exc})")

    # ------------------------------------------------------------ one stack's scan

    def load_scan(self, key: str, stack: str, path: Path) -> scanner.Scan | None:
        payload = self._read(key, f"stack {stack}")
        try:
            part = _scan_from(payload, path.resolve()) if payload is not None else None
        except (KeyError, TypeError, ValueError):
            self.ignored.append(f"stack {stack}: entry has the wrong shape")
            part = None
        (self.hits if part is not None else self.misses).append(stack)
        return part

    def store_scan(self, key: str, path: Path, scan: scanner.Scan) -> None:
        path = path.resolve()
        if scan.parsing_errors or path not in scan.parsed:
            return  # the gate fails on these anyway: nothing worth keeping
        results = [[r.check_id, r.check_name, r.passed, r.address, list(r.lines)]
                   for r in scan.results if r.file == path]
        lines = {address: list(span) for (file, address), span in scan.lines.items() if file == path}
        self._write(key, {"results": results, "parsed": sorted(scan.parsed[path]), "lines": lines})

    # ------------------------------------------------------------ which checks exist (names for reports)

    def load_registry(self) -> tuple[dict[str, str], dict[str, str]] | None:
        payload = self._read(self.registry_key(), "check registry")
        if not isinstance(payload, dict) or not isinstance(payload.get("builtin"), dict) \
                or not isinstance(payload.get("external"), dict):
            return None
        return payload["builtin"], payload["external"]

    def store_registry(self, builtin: dict[str, str], external: dict[str, str]) -> None:
        self._write(self.registry_key(), {"builtin": builtin, "external": external})

    def prune(self) -> None:
        prune(cache_dir() / "gate", KEEP)

    def note(self) -> str:
        total = len(self.hits) + len(self.misses)
        text = (f"cache hit ({total} stacks, checkov not run)" if not self.misses else
                f"cache miss for {len(self.misses)} of {total} stacks (scanned: {', '.join(self.misses)})")
        if self.ignored:
            text += "; ignored: " + "; ".join(self.ignored)
        return text


def _scan_from(payload: dict, path: Path) -> scanner.Scan:
    scan = scanner.Scan()
    scan.parsed[path] = set(payload["parsed"])
    for address, (start, end) in payload["lines"].items():
        scan.lines[(path, address)] = (int(start), int(end))
    for check_id, name, passed, address, (start, end) in payload["results"]:
        if not isinstance(passed, bool):
            raise ValueError("passed is not a boolean")
        scan.results.append(scanner.RawResult(check_id=str(check_id), check_name=str(name), passed=passed,
                                              file=path, address=str(address), lines=(int(start), int(end))))
    return scan


# ---------------------------------------------------------------- the whole run ("nothing changed")

class RunMemo:
    """The gate of one exact set of inputs, kept whole: the result (verdict, findings, suppressions) and
    the checksums of the report files written from it. A rerun with nothing changed prints that result
    and leaves report files that still match alone (rewriting any that do not), without scanning,
    judging or rendering again. Its key covers every input of the run and of its reports: every file
    of the synth output, every environment file and validated config, the generator (app-level checks
    use its naming), the policy pack, catalog, exceptions, checkov and Python (the stack key's base),
    the report writers, the formats, the target's name and today's date (suppressions expire)."""

    def __init__(self, store: GateCache, key: str) -> None:
        self.store, self.key = store, key
        self.note = ""

    @classmethod
    def for_run(cls, store: GateCache, out_dir: Path, configs: dict, environments_dir: Path | None, today,
                formats: list[str], target: str) -> "RunMemo":
        from modules.config import environments_dir as default_environments
        from modules.synth_record import config_digest, generator_files

        env_dir = environments_dir or default_environments()
        key = Hasher("gate-run").add("base", store._base_key())
        key.add_files("output", [p for p in Path(out_dir).rglob("*") if p.is_file()], Path(out_dir))
        key.add_files("environments", [p for p in env_dir.glob("*.yaml") if p.is_file()], env_dir)
        for name in sorted(configs):
            key.add(f"config:{name}", config_digest(configs[name]))
        key.add_files("generator", generator_files(), ROOT)
        key.add_files("report", source_files(POLICIES / "report"), POLICIES)
        key.add("today", today.isoformat()).add("formats", ",".join(formats)).add("target", target)
        return cls(store, key.hexdigest())

    def _path(self) -> Path:
        return cache_dir() / "gate" / f"run-{self.key}.pickle"

    def load(self):
        """(result, {report file name: sha256}) of the same run before, or None."""
        import pickle

        try:
            body = read_blob(self._path(), self.key)
            hit = pickle.loads(body) if body is not None else None
        except CorruptEntry as exc:
            self.note = f"run entry ignored ({exc})"
            return None
        except Exception as exc:  # an entry from other code that no longer unpickles: ignore it
            self.note = f"run entry ignored ({type(exc).__name__})"
            return None
        if not (isinstance(hit, tuple) and len(hit) == 2 and isinstance(hit[1], dict)):
            return None
        touch(self._path())
        self.note = "cache hit (nothing changed since the last gate of these inputs: verdict and reports reused)"
        return hit

    def save(self, result, reports: dict[str, str]) -> None:
        import pickle

        try:
            write_blob(self._path(), self.key, pickle.dumps((result, reports), protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as exc:
            self.note = f"run not cached ({exc.strerror or exc})"
