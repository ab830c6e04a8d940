"""Comparing a scan with the shortcuts of policies/scan/patches.py against checkov's own code: undoing a
shortcut (each keeps `.original`) and the comparison of two scans."""
from __future__ import annotations

from typing import Any


def undo(monkeypatch, slots: dict[str, list[tuple[Any, str]]], names) -> None:
    """Put checkov's own code back for the shortcuts `names` of `slots` ({name: [(owner, attribute)]})."""
    for name in names:
        for owner, attribute in slots[name]:
            monkeypatch.setattr(owner, attribute, getattr(owner, attribute).original)


def _key(result):
    return str(result.file), result.address, result.check_id, result.lines, result.passed, result.details


def assert_same_scan(ours, theirs) -> None:
    # checkov's threads append a check's vertices in whatever order they finish: compared as multisets
    assert sorted(ours.results, key=_key) == sorted(theirs.results, key=_key)  # lines and details included
    assert ours.parsed == theirs.parsed and ours.lines == theirs.lines
    assert ours.parsing_errors == theirs.parsing_errors == []
