"""Machine-readable report: verdict, counts, every finding and every suppression (deterministic)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from policies.report.json_text import indented_json
from policies.report.model import TOOL, counts, rules

# While reports are written (policies/report/__init__.py), the JSON and HTML writers share one document
# per result instead of building it twice (it has a dict per finding: linear in the findings).
_shared: dict[int, dict] | None = None


@contextmanager
def one_document_per_result() -> Iterator[None]:
    global _shared
    _shared = {}
    try:
        yield
    finally:
        _shared = None


def document(result) -> dict:
    """The JSON document of a result. Callers must not change it (copy it first): it may be shared."""
    if _shared is None:
        return _document(result)
    found = _shared.get(id(result))
    if found is None:
        found = _shared[id(result)] = _document(result)
    return found


def _document(result) -> dict:
    return {
        "tool": TOOL,
        "checkov_version": result.checkov_version,
        "target": result.target,
        "mode": result.mode,
        "source_root": result.source_root,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "thresholds": dict(sorted(result.thresholds.items())),
        "errors": list(result.errors),
        "summary": counts(result.findings),
        "stacks": dict(sorted(result.stacks.items())),
        "rules": rules(result),
        "findings": [f.as_dict() for f in result.findings],
        "suppressions": [s.as_dict() for s in result.suppressions],
        # env → principals × capabilities: effective, intended, verdict, path (policies/access/matrix.py)
        "access_matrix": dict(sorted(getattr(result, "access_matrix", {}).items())),
    }


def render(result) -> str:
    return indented_json(document(result))
