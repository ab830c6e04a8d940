"""Reports of the plan gate: the synth gate's writers (policies/report), plus the planned changes.

Each format is rendered by the synth gate's writer unchanged, then the per-stack change counts
(create / update / replace / delete / no-op), the plan's verdict and attestation, and the gate's
notes are added in that format's own way: a `plans` array (JSON), run properties and
notifications (SARIF), testsuite properties (JUnit), a table (Markdown, terminal) and a section
(HTML). Files are named aegis-plan.* so they never overwrite the synth gate's aegis-gate.*.
"""
from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

from modules.atomic import write_text_atomic
from modules.console import printable
from policies import report as gate_report
from policies.plan.summary import KINDS
from policies.report import markdown_text as md

FILES = {"json": "aegis-plan.json", "sarif": "aegis-plan.sarif", "junit": "aegis-plan.junit.xml",
         "markdown": "aegis-plan.md", "html": "aegis-plan.html"}


def available_formats() -> list[str]:
    return [f for f in gate_report.available_formats() if f in FILES]


def _kinds(result) -> list[str]:
    return list(KINDS) + (["forget"] if any("forget" in p.changes for p in result.plans) else [])


def _json(text: str, result) -> str:
    doc = json.loads(text)
    out = {}
    for key, value in doc.items():
        out[key] = value
        if key == "stacks":
            out["plans"] = [p.as_dict() for p in result.plans]
            out["notes"] = list(result.notes)
    out.setdefault("plans", [p.as_dict() for p in result.plans])
    out.setdefault("notes", list(result.notes))
    return json.dumps(out, indent=2) + "\n"


def _sarif(text: str, result) -> str:
    doc = json.loads(text)
    run = doc["runs"][0]
    run.setdefault("properties", {})["plans"] = [p.as_dict() for p in result.plans]
    notes = [{"level": "note", "message": {"text": n}} for n in result.notes]
    notes += [{"level": "note", "message": {"text": f"{p.stack}: planned changes: "
                                                     + ", ".join(f"{k} {p.changes.get(k, 0)}" for k in _kinds(result))}}
              for p in result.plans]
    invocations = run.setdefault("invocations", [{}])
    invocations[0].setdefault("toolExecutionNotifications", []).extend(notes)
    return json.dumps(doc, indent=2) + "\n"


def _junit(text: str, result) -> str:
    root = ET.fromstring(text.split("?>", 1)[1] if text.startswith("<?xml") else text)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    for plan in result.plans:
        suite = suites.get(plan.stack)
        if suite is None:
            suite = ET.SubElement(root, "testsuite", name=plan.stack, tests="0", failures="0", errors="0", skipped="0")
        props = suite.find("properties")
        if props is None:
            props = ET.Element("properties")
            suite.insert(0, props)
        for kind in _kinds(result):
            ET.SubElement(props, "property", name=f"changes:{kind}", value=str(plan.changes.get(kind, 0)))
        ET.SubElement(props, "property", name="plan", value=plan.file)
        ET.SubElement(props, "property", name="plan:verdict", value=plan.verdict)
        ET.SubElement(props, "property", name="plan:attestation", value=plan.attestation or "")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _table_rows(result) -> list[list[str]]:
    return [[p.stack] + [str(p.changes.get(k, 0)) for k in _kinds(result)] + [p.verdict, p.attestation or "-"]
            for p in result.plans]


def _markdown(text: str, result) -> str:
    lines = text.splitlines()
    if lines and lines[0].startswith("## "):
        lines[0] = lines[0].replace("Aegis policy gate", "Aegis plan gate")
    kinds = _kinds(result)
    section = ["", "### Planned changes", "", "| stack | " + " | ".join(kinds) + " | verdict | attestation |",
               "|---|" + "---:|" * len(kinds) + "---|---|"]
    section += ["| " + " | ".join(md.code(c) if i in (0, len(kinds) + 2) and c != "-" else md.text(c)
                                  for i, c in enumerate(row))
                + " |" for row in _table_rows(result)]
    if result.notes:
        section += ["", "### Notes", ""] + [f"- {md.text(n)}" for n in result.notes]
    at = next((i for i, line in enumerate(lines) if i > 0 and line.startswith("### ")), len(lines))
    return "\n".join(lines[:at] + section + ([""] if at < len(lines) else []) + lines[at:]) + "\n"


def _html(text: str, result) -> str:
    # The HTML writer renders planned changes, blocked changes and notes from `result.plans` itself.
    return text


_ADD = {"json": _json, "sarif": _sarif, "junit": _junit, "markdown": _markdown, "html": _html}


def render(result, fmt: str) -> str:
    return _ADD[fmt](gate_report.render(result, fmt), result)


def render_terminal(result, stream: TextIO = sys.stdout) -> str:
    from policies.report.summary import render as summary

    text = summary(result, stream).replace("Aegis gate:", "Aegis plan gate:", 1)
    kinds = _kinds(result)
    rows = [[printable(cell) for cell in row] for row in _table_rows(result)]
    if rows:
        width = max(len("stack"), *(len(r[0]) for r in rows)) + 2
        text += "\nPlanned changes\n" + f"{'stack':<{width}}" + "".join(f"{k:>9}" for k in kinds) + "  verdict\n"
        for row in rows:
            text += f"{row[0]:<{width}}" + "".join(f"{c:>9}" for c in row[1:1 + len(kinds)]) + f"  {row[-2]}"
            text += (f"  (attested: {row[-1]})" if row[-1] != "-" else "") + "\n"
    for note in result.notes:
        text += f"note: {printable(note)}\n"
    return text


def write_reports(result, out: Path, formats: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / FILES[fmt]
        write_text_atomic(path, render(result, fmt))
        written.append(path)
    return written
