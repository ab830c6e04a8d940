"""What a checkov scan hands the gate: every result, and what checkov parsed of each file.

The gate fails closed on these: a resource that is not in `parsed` never reached the checks, and a
file without both passes in `passes` was judged on half of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


class ScanError(Exception):
    """checkov is missing, crashed, or could not load a check: the gate must not pass."""


@dataclass(frozen=True)
class RawResult:
    check_id: str
    check_name: str
    passed: bool
    file: Path  # absolute
    address: str  # "<type>.<name>", "data.<type>.<name>" or "provider.<name>"
    lines: tuple[int, int]
    skip_reason: str | None = None  # a checkov skip comment (HCL only)
    details: tuple[str, ...] = ()  # why the check decided so, when it says (a check's `details`)
    # A resource inside a module: the module call that instantiated it (HCL only), absolute, and its lines.
    caller_file: Path | None = None
    caller_lines: tuple[int, int] | None = None


@dataclass
class Scan:
    results: list[RawResult] = field(default_factory=list)
    # What checkov parsed and handed to the checks, per file: addresses of resources and data sources.
    parsed: dict[Path, set[str]] = field(default_factory=dict)
    lines: dict[tuple[Path, str], tuple[int, int]] = field(default_factory=dict)  # (file, address) → lines
    parsing_errors: list[str] = field(default_factory=list)
    builtin_checks: dict[str, str] = field(default_factory=dict)  # id → name
    external_checks: dict[str, str] = field(default_factory=dict)  # id → name, from the external dir
    passes: dict[Path, set[str]] = field(default_factory=dict)  # file → checkov passes run on it
    # Module calls checkov could not resolve (a registry or git source not downloaded): none of their
    # resources reached a check. (calling file, its lines, module name, source); HCL only.
    unresolved_modules: list[tuple[Path, tuple[int, int], str, str]] = field(default_factory=list)

    def record_parsed(self, path: Path, definition: dict[str, Any]) -> None:
        """Note what checkov parsed of one file: its resources and data sources, and their lines."""
        seen = self.parsed.setdefault(path, set())
        for address, start, end in _addresses(definition):
            seen.add(address)
            self.lines[(path, address)] = (start, end)


def _addresses(definition: dict[str, Any]) -> Iterator[tuple[str, int, int]]:
    """(address, start line, end line) of each resource and data source in one parsed file."""
    for block_type, prefix in (("resource", ""), ("data", "data.")):
        for entity in definition.get(block_type, []) or []:
            for rtype, named in entity.items():
                for name, conf in named.items():
                    yield f"{prefix}{rtype}.{name}", conf.get("__startline__", 0), conf.get("__endline__", 0)
