"""Report writers. Each format is a module exposing `render(result: GateResult) -> str`.

Another writer joins by adding its module and one line to FORMATS; the gate's `--format` choices and
`write_reports` pick it up. A writer is imported only when it renders (the html one loads jinja2), and
one that fails to import fails the command that asked for it (exit 2), never silently drops a report.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from modules.atomic import write_text_atomic

# format → (module, file name written into the reports folder)
FORMATS: dict[str, tuple[str, str]] = {
    "json": ("policies.report.json_report", "aegis-gate.json"),
    "sarif": ("policies.report.sarif", "aegis-gate.sarif"),
    "junit": ("policies.report.junit", "aegis-gate.junit.xml"),
    "markdown": ("policies.report.markdown", "aegis-gate.md"),
    "html": ("policies.report.html", "aegis-gate.html"),
}


def available_formats() -> list[str]:
    return list(FORMATS)


def render(result, fmt: str) -> str:
    module, _ = FORMATS[fmt]
    return importlib.import_module(module).render(result)


def write_reports(result, out: Path, formats: list[str]) -> list[Path]:
    """Write each format into `out` (created); return the files written."""
    from policies.report.json_report import one_document_per_result

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with one_document_per_result():
        for fmt in formats:
            path = out / FORMATS[fmt][1]
            write_text_atomic(path, render(result, fmt))
            written.append(path)
    return written
