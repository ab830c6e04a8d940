"""Write the evidence of one environment: `evidence-<env>.csv`, `evidence-<env>.html` and the record
`evidence-<env>.json`, which names the other two by SHA-256 and is signed (HMAC-SHA256 over its canonical
JSON, the plan attestations' signing) when a key is given. Each file is replaced whole (never half
written); the record is written last, so a set interrupted before it does not verify.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterator

import jinja2

from modules.atomic import write_text_atomic
from policies.signing import sign

TEMPLATE = Path(__file__).resolve().parent / "evidence.html.j2"
CSV_COLUMNS = ("framework", "control", "check", "check_title", "severity", "resource", "file", "line", "result",
               "blocking", "suppression_reason", "suppression_owner", "suppression_approver", "suppression_expires",
               "config_rules")


def names(env: str) -> dict[str, str]:
    return {kind: f"evidence-{env}.{kind}" for kind in ("json", "csv", "html")}


def rows(record: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per framework × control × check × resource judged."""
    for key, framework in record["frameworks"].items():
        for control, entry in framework["controls"].items():
            rules = " ".join(r["identifier"] for r in entry["config_rules"])
            suppressed = {(s["check"], s["resource"]): s for s in entry["suppressions"]}
            for check in entry["checks"]:
                for judged in check["resources"]:
                    why = suppressed.get((check["id"], judged["resource"]), {})
                    yield {"framework": key, "control": control, "check": check["id"], "check_title": check["title"],
                           "severity": judged["severity"], "resource": judged["resource"], "file": judged["file"],
                           "line": "" if judged["line"] is None else judged["line"], "result": judged["result"],
                           "blocking": "yes" if judged["blocking"] else "no",
                           "suppression_reason": why.get("reason", ""), "suppression_owner": why.get("owner", ""),
                           "suppression_approver": why.get("approver", ""),
                           "suppression_expires": why.get("expires", ""), "config_rules": rules}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value: Any) -> Any:
    """A cell a spreadsheet shows as text: values from the judged code (messages, addresses) that start
    like a formula get a leading apostrophe, so opening the CSV never evaluates them."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def render_csv(record: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _inert(v) for k, v in row.items()} for row in rows(record))
    return buffer.getvalue()


def render_html(record: dict[str, Any], signed: bool) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env.get_template(TEMPLATE.name).render(record=record, signed=signed)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def finish(record: dict[str, Any], key: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The signed (or unsigned) record and the texts of the three files, without writing anything."""
    env = record["environment"]["name"]
    files = names(env)
    texts = {files["csv"]: render_csv(record), files["html"]: render_html(record, signed=bool(key))}
    record = {**record, "files": {name: sha256_text(text) for name, text in sorted(texts.items())}}
    record["signature"] = {"algorithm": "HMAC-SHA256", "value": sign(record, key)} if key else None
    texts[files["json"]] = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return record, texts


def write(record: dict[str, Any], out: Path, key: str | None) -> dict[str, Path]:
    """Write the three files into `out` (created); the record last. Returns kind → path."""
    _, texts = finish(record, key)
    out.mkdir(parents=True, exist_ok=True)
    files = names(record["environment"]["name"])
    for kind in ("csv", "html", "json"):
        write_text_atomic(out / files[kind], texts[files[kind]])
    return {kind: out / name for kind, name in files.items()}
