"""The preflight reports: `aegis-preflight.json` (always), `.md` and `.html`, written atomically.

Values come from the account (names, IDs, error messages): the Markdown goes through the same inert-text
rendering as the gate's pull-request comment, and the HTML through autoescaping.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING

from modules.atomic import write_text_atomic
from policies.preflight.model import STATUSES, Outcome
from policies.report.markdown_text import code, text

if TYPE_CHECKING:
    import jinja2

FILES = {"json": "aegis-preflight.json", "markdown": "aegis-preflight.md", "html": "aegis-preflight.html"}
FORMATS = tuple(FILES)
SCHEMA = "aegis-preflight/1"


def document(outcome: Outcome) -> dict:
    return {"schema": SCHEMA, "environment": outcome.env, "account_id": outcome.account_id,
            "region": outcome.region, "principal": outcome.principal, "verdict": outcome.verdict,
            "exit_code": outcome.exit_code, "counts": outcome.counts(), "stopped": outcome.stopped,
            "checks": [c.as_dict() for c in outcome.checks], "paste": outcome.paste_yaml()}


def render_json(outcome: Outcome) -> str:
    return json.dumps(document(outcome), indent=2, sort_keys=False) + "\n"


def render_markdown(outcome: Outcome) -> str:
    counts = outcome.counts()
    lines = [f"# Aegis preflight: {text(outcome.env)} ({text(outcome.account_id)}, {text(outcome.region)})", "",
             f"**{outcome.verdict}**: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES), ""]
    if outcome.stopped:
        lines += [f"Stopped: {text(outcome.stopped)}", ""]
    lines += ["| status | check | found | fix |", "|---|---|---|---|"]
    for check in outcome.checks:
        lines.append(f"| {check.status} | {code(check.id)} | {text(check.found)} | {text(check.fix)} |")
    paste = outcome.paste_yaml()
    if paste:
        lines += ["", "Paste into the environment file:", "", "```yaml", paste.replace("```", "'''").rstrip(), "```"]
    return "\n".join(lines) + "\n"


_HTML_SOURCE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Aegis preflight: {{ o.env }}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.pass{color:#176f2c}.warn{color:#8a5a00}.fail{color:#b00020;font-weight:bold}.error{color:#6a1b9a}
pre{background:#f4f4f4;padding:1em}</style></head><body>
<h1>Aegis preflight: {{ o.env }} ({{ o.account_id }}, {{ o.region }})</h1>
<p><strong>{{ o.verdict }}</strong>: {% for s, n in counts.items() %}{{ n }} {{ s }}{% if not loop.last %}, {% endif %}{% endfor %}</p>
{% if o.stopped %}<p>Stopped: {{ o.stopped }}</p>{% endif %}
<table><thead><tr><th>status</th><th>check</th><th>found</th><th>fix</th></tr></thead><tbody>
{% for c in o.checks %}<tr><td class="{{ c.status }}">{{ c.status }}</td><td><code>{{ c.id }}</code><br>{{ c.title }}</td>
<td>{{ c.found }}</td><td>{{ c.fix }}</td></tr>
{% endfor %}</tbody></table>
{% if paste %}<h2>Paste into the environment file</h2><pre>{{ paste }}</pre>{% endif %}
</body></html>
"""


def render_html(outcome: Outcome) -> str:
    return _html_template().render(o=outcome, counts=outcome.counts(), paste=outcome.paste_yaml())


@functools.cache
def _html_template() -> jinja2.Template:
    """Compiled on first use: every command line registers `preflight`, few write its HTML."""
    import jinja2

    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(_HTML_SOURCE)


RENDERERS = {"json": render_json, "markdown": render_markdown, "html": render_html}


def write_reports(outcome: Outcome, folder: Path, formats: list[str] | tuple[str, ...]) -> list[Path]:
    """The JSON report always, and the other formats asked for; each file replaced atomically."""
    written = []
    for fmt in dict.fromkeys(["json", *formats]):
        path = folder / FILES[fmt]
        write_text_atomic(path, RENDERERS[fmt](outcome))
        written.append(path)
    return written
