"""The HTML report: one self-contained file (inline CSS, JS and SVG; nothing fetched) for people who
review security results in a browser or attach them to a ticket.

It shows, per environment: the verdict and threshold, a summary per pillar by status and severity,
the compliance coverage matrix of each framework the environment lists (control and its title → the
checks that evidence it → pass / fail / findings below threshold / suppressed with their approvers,
from the catalog's control mappings and the frameworks' references), the architecture
diagram and the resource inventory drawn from the synthesized stacks, and the planned changes when
a plan gate produced the result. Then every failed and suppressed finding (severity, resource,
construct path, remediation, controls) and every suppression (reason, owner, expiry; expired and
near-expiry ones highlighted). Findings filter by environment, pillar, severity and status in the
page itself.

Input is the gate's JSON document (`policies.report.json_report.document`), so a saved
`reports/aegis-gate.json` renders exactly like a live result. Output is deterministic: the same
input and generation time give the same bytes.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import jinja2

from modules.naming import STACK_ORDER
from modules.synth_output import (
    SynthOutputError,
    holds_synth_output,
    load_stacks,
    manifest_stacks,
    stack_parts,
    typed_resources,
)
from policies.catalog import FRAMEWORKS, SEVERITIES

TEMPLATES = Path(__file__).resolve().parent / "templates"
ORDER = tuple(reversed(SEVERITIES))  # critical first
NEAR_EXPIRY_DAYS = 30
FRAMEWORK_LABELS = {k: v[0] for k, v in FRAMEWORKS.items()}
# A control's status in the matrix, worst first: a failure at or above the environment's threshold,
# failures below it only, passing only with suppressions, passing, no check of it ran here.
CONTROL_STATUSES = ("fail", "below-threshold", "suppressed", "pass", "none")


# ---------------------------------------------------------------- inputs besides the gate JSON

@dataclass
class EnvInfo:
    """What the report needs from an environment file."""

    name: str
    tier: str = ""
    region: str = ""
    compliance: list[str] = field(default_factory=list)


def load_env_info(names: list[str], environments_dir: Path | None = None) -> tuple[dict[str, EnvInfo], str]:
    """Environment name → EnvInfo from the environment files, and a note when they could not be read."""
    from modules.config import load_all
    from modules.errors import ConfigError

    try:
        configs = load_all(names, environments_dir) if names else []
    except (ConfigError, OSError) as exc:
        return {}, f"environment files not readable, so compliance frameworks are not known: {exc}"
    return {c.name: EnvInfo(c.name, c.tier, c.region, list(c.compliance)) for c in configs}, ""


def locate_synth(target: str, base: Path | None = None) -> Path | None:
    """The synth output the gate judged, when `target` (a folder relative to the working directory)
    still holds one."""
    if not target:
        return None
    path = (base or Path.cwd()) / target
    return path if holds_synth_output(path) else None


# ---------------------------------------------------------------- views for the template

def _natural(value: str) -> list:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", value)]


def _pillar_order(pillar: str) -> tuple[int, str]:
    return (STACK_ORDER.index(pillar) if pillar in STACK_ORDER else len(STACK_ORDER), pillar)


def _cell() -> dict:
    return {**{f"{status}-{s}": 0 for status in ("failed", "suppressed", "passed", "not_evaluated") for s in ORDER},
            "failed": 0, "passed": 0, "suppressed": 0, "not_evaluated": 0, "blocking": 0, "checks": 0}


def summarize(findings: list[dict]) -> dict[str, dict[str, dict]]:
    """env → pillar → counts (failed per severity, failed, passed, suppressed, blocking, checks); pillar
    "all" holds the environment's totals. The browser test recomputes this from the JSON."""
    out: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(_cell))
    for f in findings:
        env = f.get("env") or "-"
        for pillar in (f.get("pillar") or "-", "all"):
            cell = out[env][pillar]
            cell["checks"] += 1
            cell[f["status"]] += 1
            if f["severity"] in ORDER:
                cell[f"{f['status']}-{f['severity']}"] += 1
            if f["status"] == "failed":
                cell["blocking"] += bool(f.get("blocking"))
    return {env: dict(sorted(p.items(), key=lambda kv: _pillar_order(kv[0]))) for env, p in sorted(out.items())}


def _status_of(counts: Counter) -> str:
    if counts["blocking"]:
        return "fail"
    if counts["failed"]:
        return "below-threshold"
    if counts["suppressed"]:
        return "suppressed"
    if counts["passed"]:
        return "pass"
    return "none"


def control_titles(framework: str) -> dict[str, str]:
    """Control ID → title from the framework's versioned reference ({} when it cannot be read: the
    matrix then shows IDs only, as before)."""
    from modules.errors import ConfigError
    from policies.catalog import reference

    try:
        return reference(framework).controls
    except (ConfigError, KeyError):
        return {}


def _approval(suppression: Mapping[str, Any] | None) -> str:
    """Who approved a suppression, as the matrix shows it next to a control that passes only with them."""
    s = suppression or {}
    if s.get("approver"):
        return f"{s['approver']} (owner {s.get('owner') or '?'})"
    if s.get("origin") == "inline":
        return "reviewed in code (inline, no separate approver)"
    return f"no approver (owner {s.get('owner') or '?'}, {s.get('origin') or 'unknown origin'})"


def compliance(env: str, framework: str, findings: list[dict], rules: Mapping[str, dict]) -> dict:
    """One framework's coverage in one environment: every control the catalog maps with its title, the
    checks that evidence it with their results here, the control's status (CONTROL_STATUSES, worst
    wins) and, where suppressions carry it, who approved them."""
    results: dict[str, Counter] = defaultdict(Counter)
    approvals: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if f.get("env") != env:
            continue
        counts = results[f["check_id"]]
        counts[f["status"]] += 1
        # A result without `blocking` (an older document) counts as blocking: never shown milder than it was.
        counts["blocking"] += f["status"] == "failed" and bool(f.get("blocking", True))
        if f["status"] == "suppressed":
            approvals[f["check_id"]].add(_approval(f.get("suppression")))
    controls: dict[str, list[str]] = defaultdict(list)
    for check_id, rule in rules.items():
        for control in rule.get("controls", {}).get(framework, []):
            controls[control].append(check_id)
    titles = control_titles(framework)
    rows = []
    for control in sorted(controls, key=_natural):
        checks = []
        for check_id in sorted(controls[control], key=_natural):
            counts = results.get(check_id, Counter())
            checks.append({"id": check_id, "title": rules[check_id].get("title", ""),
                           "severity": rules[check_id].get("severity", ""), "status": _status_of(counts),
                           "passed": counts["passed"], "failed": counts["failed"], "suppressed": counts["suppressed"],
                           "blocking": counts["blocking"]})
        evaluated = [c for c in checks if c["status"] != "none"]
        status = _status_of(Counter({s: sum(c[s] for c in evaluated)
                                     for s in ("passed", "failed", "suppressed", "blocking")}))
        approved = sorted({a for c in evaluated if c["suppressed"] for a in approvals[c["id"]]})
        rows.append({"control": control, "title": titles.get(control, ""), "status": status, "checks": evaluated,
                     "unevaluated": [c["id"] for c in checks if c["status"] == "none"],
                     "approvals": approved if status == "suppressed" else []})
    tally = Counter(r["status"] for r in rows)
    return {"key": framework, "label": FRAMEWORK_LABELS.get(framework, framework), "mapped": bool(rows),
            "controls": rows, "tally": {s: tally[s] for s in CONTROL_STATUSES}}


def suppression_state(item: dict, today: dt.date) -> tuple[str, int | None]:
    """(state, days until expiry): expired | near-expiry | ok | problem."""
    expires = item.get("expires") or ""
    days = None
    try:
        days = (dt.date.fromisoformat(expires) - today).days if expires else None
    except ValueError:
        return "problem", None
    if days is not None and days < 0 or "expired" in (item.get("problem") or ""):
        return "expired", days
    if item.get("problem"):
        return "problem", days
    if days is not None and days <= NEAR_EXPIRY_DAYS:
        return "near-expiry", days
    return "ok", days


def inventory(stacks: Mapping[str, dict], env: str) -> list[dict]:
    out = []
    for name, doc in sorted(stacks.items(), key=lambda kv: _pillar_order((stack_parts(kv[0]) or ("", ""))[1])):
        parts = stack_parts(name)
        if not parts or parts[0] != env:
            continue
        types: Counter[str] = Counter()
        data: Counter[str] = Counter()
        for block, counter in (("resource", types), ("data", data)):
            for rtype, items in typed_resources(doc, block):
                counter[rtype] += len(items)
        out.append({"stack": name, "pillar": parts[1], "resources": sum(types.values()),
                    "data_sources": sum(data.values()), "types": sorted(types.items()), "data": sorted(data.items())})
    return out


def _blocked(findings: list[dict], plans: list[dict]) -> list[dict]:
    stacks = {p.get("stack") for p in plans}
    return [f for f in findings if f.get("blocking") and f.get("stack") in stacks]


def build_context(doc: Mapping[str, Any], *, stacks: Mapping[str, dict] | None = None,
                  env_info: Mapping[str, EnvInfo] | None = None, catalog_rules: Mapping[str, dict] | None = None,
                  generated: dt.datetime | None = None, notes: list[str] | None = None) -> dict:
    """Everything the template shows, from the gate JSON document and the optional extras."""
    from policies.report import diagram

    generated = generated or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    today = generated.date()
    findings = list(doc.get("findings") or [])
    rules = dict(catalog_rules or {})
    rules.update(doc.get("rules") or {})
    env_info = dict(env_info or {})
    notes = list(notes or [])
    summary = summarize(findings)
    thresholds = dict(doc.get("thresholds") or {})
    names = sorted(set(summary) - {"-"} | set(thresholds))
    plans = list(doc.get("plans") or [])
    errors = list(doc.get("errors") or [])
    stacks = dict(stacks or {})

    if stacks and doc.get("stacks"):
        judged = doc["stacks"]
        differ = sorted(name for name, count in judged.items() if name in stacks and count != sum(
            len(items) for block in ("resource", "data") for _, items in typed_resources(stacks[name], block)))
        missing = sorted(set(judged) - set(stacks))
        if differ or missing:
            notes.append("The synth output used for the inventory and diagrams differs from the one the gate judged ("
                         + ", ".join(differ + [f"{m} missing" for m in missing]) + "): re-run the gate.")

    envs = []
    for name in names:
        info = env_info.get(name, EnvInfo(name))
        cells = summary.get(name, {})
        blocking = cells.get("all", {}).get("blocking", 0)
        verdict = "error" if errors else ("fail" if blocking else "pass")
        frameworks = []
        for framework in info.compliance:
            view = compliance(name, framework, findings, rules) if framework in FRAMEWORKS else {
                "key": framework, "label": FRAMEWORK_LABELS.get(framework, framework), "mapped": False,
                "controls": [], "tally": {}}
            frameworks.append(view)
        svg = ""
        if any((stack_parts(s) or ("",))[0] == name for s in stacks):
            svg = diagram.environment_svg(name, stacks, standalone=False)
        envs.append({
            "name": name, "tier": info.tier, "region": info.region, "threshold": thresholds.get(name, ""),
            "verdict": verdict, "cells": cells, "pillars": [p for p in cells if p != "all"],
            "totals": cells.get("all", _cell()), "frameworks": frameworks, "compliance_known": name in env_info,
            "svg": svg, "inventory": inventory(stacks, name),
            "plans": [p for p in plans if p.get("env") == name],
            "access": (doc.get("access_matrix") or {}).get(name),
        })

    shown = [f for f in findings if f["status"] != "passed"]
    shown.sort(key=lambda f: (f["status"] != "failed", not f.get("blocking"), ORDER.index(f["severity"])
                              if f["severity"] in ORDER else 9, f.get("env") or "", _pillar_order(f.get("pillar") or ""),
                              _natural(f["check_id"]), f.get("stack", ""), f.get("address", "")))
    views = []
    root = doc.get("source_root") or ""  # `gate --path`: files from the repository root, like SARIF's
    base = (root if root != "." else "") if root else (doc.get("target") or "").rstrip("/")
    for i, f in enumerate(shown, 1):
        state = "blocking" if f.get("blocking") else {"failed": "below threshold", "not_evaluated": "not evaluated"}.get(
            f["status"], "suppressed")
        controls, titles = [], {}
        for k in FRAMEWORKS:
            for c in (f.get("controls") or {}).get(k, []):
                label = f"{FRAMEWORK_LABELS.get(k, k).split(' ')[0]} {c}"
                controls.append(label)
                titles[label] = control_titles(k).get(c, "")
        location = f"{base}/{f['file']}".lstrip("/") if f.get("file") else ""
        construct = f.get("construct_path") or ""
        caller = f.get("caller_file") or ""
        views.append({**f, "n": i, "state": state, "control_labels": controls, "control_titles": titles,
                      "location": location + (f":{f['line']}" if f.get("line") else ""),
                      "construct_shown": construct not in ("", f.get("address"), f.get("stack"),
                                                           f"{f.get('stack')}/{f.get('address')}"),
                      "called_from": caller + (f":{f['caller_line']}" if caller and f.get("caller_line") else ""),
                      "why": f.get("why") or ""})

    suppressions = []
    for s in sorted(doc.get("suppressions") or [], key=lambda s: (s.get("expires") or "9999", s["check_id"],
                                                                  s.get("where", ""))):
        state, days = suppression_state(s, today)
        suppressions.append({**s, "state": state, "days": days})

    pillars_seen = sorted({f.get("pillar") or "-" for f in findings}, key=_pillar_order)
    return {
        "doc": doc, "tool": doc.get("tool", "aegis-gate"), "verdict": doc.get("verdict", "error"),
        "target": doc.get("target", ""), "checkov_version": doc.get("checkov_version", ""),
        "summary": doc.get("summary") or {}, "errors": errors, "notes": notes + list(doc.get("notes") or []),
        "envs": envs, "findings": views, "app_sections": bool(envs) or doc.get("mode") != "path", "suppressions": suppressions, "severities": ORDER,
        "pillars": pillars_seen, "plans": plans, "blocked": _blocked(findings, plans),
        "plan_kinds": [k for k in ("create", "update", "replace", "delete", "forget", "no-op")
                       if k != "forget" or any("forget" in (p.get("changes") or {}) for p in plans)],
        "generated": generated.isoformat().replace("+00:00", "Z"), "today": today.isoformat(),
        "near_expiry_days": NEAR_EXPIRY_DAYS, "stack_count": len(doc.get("stacks") or {}),
        "resource_count": sum((doc.get("stacks") or {}).values()),
        "suppression_states": Counter(s["state"] for s in suppressions),
    }


# ---------------------------------------------------------------- rendering

def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["tojson_attr"] = lambda value: json.dumps(value, sort_keys=True)
    return env


def render_document(doc: Mapping[str, Any], *, synth_out: Path | None = None, stacks: Mapping[str, dict] | None = None,
                    environments_dir: Path | None = None, env_info: Mapping[str, EnvInfo] | None = None,
                    catalog_rules: Mapping[str, dict] | None = None, generated: dt.datetime | None = None) -> str:
    """The report from a gate JSON document. Inventory and diagrams need the synth output (`stacks`, or
    `synth_out` to read them from, else the document's target when it still exists)."""
    notes = []
    if stacks is None:
        folder = synth_out or locate_synth(str(doc.get("target") or ""))
        if folder is not None:
            try:
                stacks = load_stacks(folder)
            except (SynthOutputError, OSError, ValueError, KeyError) as exc:
                notes.append(f"synth output {folder.name}/ not readable ({exc}): no inventory or diagrams")
        elif doc.get("mode") != "path":  # hand-written Terraform has no synth output to draw
            notes.append("no synth output found next to this result: no inventory or diagrams "
                         "(render with `python main.py report --synth-out DIR`)")
    if env_info is None:
        names = sorted({f.get("env") for f in doc.get("findings") or [] if f.get("env")} | set(doc.get("thresholds") or {}))
        env_info, note = load_env_info(names, environments_dir)
        if note:
            notes.append(note)
    if catalog_rules is None:
        catalog_rules = _catalog_rules()
    context = build_context(doc, stacks=stacks, env_info=env_info, catalog_rules=catalog_rules, generated=generated,
                            notes=notes)
    return _environment().get_template("report.html.j2").render(**context)


def _catalog_rules(catalog=None) -> dict[str, dict]:
    """Every catalogued check (also those without a result here), as the JSON document's `rules`."""
    if catalog is None:
        from modules.errors import ConfigError
        from policies.catalog import load_catalog

        try:
            catalog = load_catalog()
        except ConfigError:
            return {}
    return {i: {"title": r.title, "severity": r.severity, "pillar": r.pillar, "remediation": r.remediation,
                "controls": {k: list(v) for k, v in r.controls.items()}, "catalogued": True}
            for i, r in sorted(catalog.rules.items())}


def document_of(result) -> dict:
    """The JSON document of a result, with the plan gate's planned changes when it has them."""
    from policies.report.json_report import document

    doc = dict(document(result))  # shared with the JSON writer: add keys to a copy
    if getattr(result, "plans", None):
        doc["plans"] = [p.as_dict() for p in result.plans]
        doc["notes"] = list(getattr(result, "notes", []) or [])
    return doc


def _cli_folders() -> tuple[Path | None, Path | None]:
    """(synth output, environments folder) of the running command (`gate`, `plan` …) when it has them:
    `gate --format html --synth-out DIR` renders through FORMATS, which passes the result only."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None, None
    synth = ctx.params.get("synth_out")
    environments = ctx.find_root().params.get("environments")
    synth_path = Path(synth) if synth and holds_synth_output(Path(synth)) else None
    return synth_path, Path(environments) if environments else None


def _stacks_of_every_environment(result, synth_out: Path | None) -> Mapping[str, dict] | None:
    """The stacks the gate itself read, when they are every stack of the folder the report draws from
    (`load_stacks` reads them all): the same documents, not parsed a second time. Else None: read the folder."""
    docs = getattr(result, "stack_docs", None) or {}
    if not docs or synth_out is None:
        return None
    try:
        names = set(manifest_stacks(synth_out))
    except (SynthOutputError, OSError):
        return None
    return dict(sorted(docs.items())) if names == set(docs) else None


def render(result, *, synth_out: Path | None = None, environments_dir: Path | None = None,
           generated: dt.datetime | None = None) -> str:
    """The `html` format of `policies.report.FORMATS`."""
    if synth_out is None or environments_dir is None:
        cli_synth, cli_environments = _cli_folders()
        synth_out = synth_out or cli_synth
        environments_dir = environments_dir or cli_environments
    return render_document(document_of(result), synth_out=synth_out, environments_dir=environments_dir,
                           stacks=_stacks_of_every_environment(result, synth_out),
                           catalog_rules=_catalog_rules(result.catalog) if getattr(result, "catalog", None) else None,
                           generated=generated)
