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
Entries live in `.aegis/cache/gate/` (modules/cache.py: a private folder, plain JSON, atomic, signed
with the cache's key; corrupt or forged ones ignored). An entry cannot change a verdict it was not
computed for: it names what it scanned (the stack's SHA-256, the pack and the config digest), and on
use it must match them and the stack's real resources, every one covered and no other named
(`StackFacts.problem`); else it is ignored and the stack scanned again. `read=False` (`--no-cache`)
never reads an entry and writes every one afresh, replacing whatever was there.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modules.cache import (
    CorruptEntry,
    Hasher,
    cache_dir,
    prune,
    read_entry,
    source_files,
    touch,
    write_entry,
)
from modules.synth_output import resources
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


@dataclass(frozen=True)
class StackFacts:
    """What the gate knows of one stack file without checkov: its bytes' SHA-256, the addresses of its
    resources and data sources, and of its provider blocks (checkov's provider checks report on those)."""

    sha256: str
    addresses: frozenset[str]
    providers: frozenset[str]

    @classmethod
    def of(cls, stack_bytes: bytes, doc: dict[str, Any]) -> "StackFacts":
        providers = set()
        for ptype, blocks in (doc.get("provider") or {}).items():
            for block in blocks if isinstance(blocks, list) else [blocks]:
                alias = block.get("alias") if isinstance(block, dict) else None
                providers.add(f"provider.{ptype}" + (f".{alias}" if isinstance(alias, str) and alias else ""))
        return cls(hashlib.sha256(stack_bytes).hexdigest(), frozenset(r.address for r in resources(doc)),
                   frozenset(providers))

    def problem(self, payload: dict[str, Any], scanned: dict[str, str]) -> str:
        """Why a scan entry cannot stand for this stack ("" when it can): it was computed for other
        inputs, or what it says checkov parsed and judged is not exactly this stack's resources."""
        if payload.get("scanned") != scanned:
            return "computed for other inputs"
        parsed = set(payload["parsed"])
        if parsed != self.addresses:
            return (f"does not cover the stack's resources ({len(parsed)} listed, {len(self.addresses)} in the "
                    f"stack, {len(self.addresses - parsed)} missing)")
        if not set(payload["lines"]) <= parsed:
            return "names lines of resources not in the stack"
        strangers = sorted({r[3] for r in payload["results"]} - parsed - self.providers)
        if strangers:
            return f"reports on resources not in the stack ({', '.join(strangers[:3])})"
        return ""


@dataclass
class GateCache:
    """Keys and entries of one gate run. `checks_dir` is the custom-check folder the run loads (None: none);
    `read=False` (`--no-cache`) never reads an entry and writes each one afresh."""

    checks_dir: Path | None
    catalog_file: Path
    exceptions_file: Path
    read: bool = True
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
        return cache_dir("gate") / f"{key}.json"

    def _read(self, key: str, what: str) -> Any:
        if not self.read:
            return None
        try:
            path = self._path(key)
            payload = read_entry(path, key)
        except CorruptEntry as exc:
            self.ignored.append(f"{what}: {exc}")
            return None
        except OSError as exc:
            self.ignored.append(f"cache not available ({exc.strerror or exc})")
            return None
        if payload is not None:
            touch(path)
        return payload

    def _write(self, key: str, payload: Any) -> None:
        try:
            write_entry(self._path(key), key, payload)
        except OSError as exc:
            self.ignored.append(f"not written ({exc.strerror or exc})")

    # ------------------------------------------------------------ one stack's scan

    def scanned(self, facts: StackFacts, config_digest: str) -> dict[str, str]:
        """What an entry names as scanned: the stack's bytes, the pack (checks, catalog, checkov …), the config."""
        return {"stack_sha256": facts.sha256, "pack": self._base_key(), "config": config_digest}

    def load_scan(self, key: str, stack: str, path: Path, facts: StackFacts, config_digest: str) -> scanner.Scan | None:
        payload = self._read(key, f"stack {stack}")
        part = None
        if payload is not None:
            try:
                problem = facts.problem(payload, self.scanned(facts, config_digest))
                part = None if problem else _scan_from(payload, path.resolve())
            except (AttributeError, IndexError, KeyError, TypeError, ValueError):
                problem = "entry has the wrong shape"
            if problem:
                self.ignored.append(f"stack {stack}: {problem}")
        (self.hits if part is not None else self.misses).append(stack)
        return part

    def store_scan(self, key: str, path: Path, scan: scanner.Scan, facts: StackFacts, config_digest: str) -> None:
        path = path.resolve()
        if scan.parsing_errors or path not in scan.parsed:
            return  # the gate fails on these anyway: nothing worth keeping
        results = [[r.check_id, r.check_name, r.passed, r.address, list(r.lines), list(r.details)]
                   for r in scan.results if r.file == path]
        lines = {address: list(span) for (file, address), span in scan.lines.items() if file == path}
        self._write(key, {"scanned": self.scanned(facts, config_digest), "results": results,
                          "parsed": sorted(scan.parsed[path]), "lines": lines})

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
        with contextlib.suppress(OSError):  # no cache folder: nothing to prune
            prune(cache_dir("gate"), KEEP)

    def note(self) -> str:
        total = len(self.hits) + len(self.misses)
        if not self.read:
            text = f"cache refreshed ({total} stacks scanned, entries replaced)"
        elif not self.misses:
            text = f"cache hit ({total} stacks, checkov not run)"
        else:
            text = f"cache miss for {len(self.misses)} of {total} stacks (scanned: {', '.join(self.misses)})"
        if self.ignored:
            text += "; ignored: " + "; ".join(self.ignored)
        return text


def _scan_from(payload: dict, path: Path) -> scanner.Scan:
    scan = scanner.Scan()
    scan.parsed[path] = set(payload["parsed"])
    for address, (start, end) in payload["lines"].items():
        scan.lines[(path, address)] = (int(start), int(end))
    for check_id, name, passed, address, (start, end), details in payload["results"]:
        if not isinstance(passed, bool):
            raise ValueError("passed is not a boolean")
        if not isinstance(details, list) or not all(isinstance(d, str) for d in details):
            raise ValueError("details are not a list of text")
        scan.results.append(scanner.RawResult(check_id=str(check_id), check_name=str(name), passed=passed,
                                              file=path, address=str(address), lines=(int(start), int(end)),
                                              details=tuple(details)))
    return scan
