"""Machine-readable report: verdict, counts, every finding and every suppression (deterministic)."""
from __future__ import annotations

from policies.report.json_text import indented_json
from policies.report.model import TOOL, counts, rules


def document(result) -> dict:
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
