"""SARIF 2.1.0: one rule per check (catalog metadata), one result per failed or suppressed finding,
located at the resource's lines in its cdk.tf.json; severity → level (and GitHub's security-severity)."""
from __future__ import annotations

from policies.findings import NOT_EVALUATED, PASSED, SUPPRESSED
from policies.report.json_text import indented_json
from policies.report.model import TOOL, artifact_uri, control_labels, rules, shows_construct

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _rule(check_id: str, meta: dict) -> dict:
    help_text = meta["remediation"]
    tags = ["security", f"severity:{meta['severity']}"] + control_labels(meta["controls"])
    if meta["pillar"]:
        tags.append(f"pillar:{meta['pillar']}")
    if not meta["catalogued"]:
        tags.append("uncatalogued")
    return {
        "id": check_id,
        "name": check_id,
        "shortDescription": {"text": meta["title"]},
        "fullDescription": {"text": meta["title"]},
        "help": {"text": help_text, "markdown": f"**{meta['title']}**\n\n{help_text}"},
        "defaultConfiguration": {"level": LEVELS[meta["severity"]]},
        "properties": {"tags": tags, "security-severity": SECURITY_SEVERITY[meta["severity"]],
                       "severity": meta["severity"], "controls": meta["controls"]},
    }


def _location(result, f) -> dict:
    region = {"startLine": f.line or 1}
    if f.end_line and f.end_line >= region["startLine"]:
        region["endLine"] = f.end_line
    location = {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(result, f.file)}, "region": region}}
    if f.construct_path:
        location["logicalLocations"] = [{"fullyQualifiedName": f.construct_path, "kind": "resource"}]
    return location


def _caller(result, f) -> dict:
    """The module call that instantiated a resource inside a module (`gate --path`)."""
    return {"id": 1, "message": {"text": "module call"},
            "physicalLocation": {"artifactLocation": {"uri": artifact_uri(result, f.caller_file)},
                                 "region": {"startLine": f.caller_line or 1}}}


def document(result) -> dict:
    metadata = rules(result)
    ids = list(metadata)
    results = []
    for f in result.findings:
        if f.status == PASSED:
            continue
        where = f"{f.stack}/{f.address}" if f.address else f.stack
        if shows_construct(f):
            where += f" ({f.construct_path})"
        why = f" Why: {f.why}." if f.why else ""
        entry = {
            "ruleId": f.check_id,
            "ruleIndex": ids.index(f.check_id),
            "level": LEVELS[f.severity],
            "message": {"text": f"{f.title} — {where}.{why} {f.remediation}"},
            "locations": [_location(result, f)],
            "partialFingerprints": {"aegisResource/v1": f"{f.check_id}|{f.stack}|{f.address}"},
            "properties": {"severity": f.severity, "env": f.env or "", "stack": f.stack, "pillar": f.pillar,
                           "blocking": f.blocking, "source": f.source, "why": f.why},
        }
        if f.status == NOT_EVALUATED:  # SARIF's own word for it: the analysis could not decide
            entry["kind"], entry["level"] = "review", "none"
        if f.caller_file:
            entry["relatedLocations"] = [_caller(result, f)]
        if f.status == SUPPRESSED and f.suppression:
            s = f.suppression
            entry["suppressions"] = [{
                "kind": "inSource" if s.origin == "inline" else "external",
                "status": "accepted",
                "justification": f"{s.reason} (expires {s.expires or 'never'}"
                                 + (f", owner {s.owner}" if s.owner else "")
                                 + (f", approver {s.approver}" if s.approver else "") + ")",
            }]
        results.append(entry)
    notifications = [{"level": "error", "message": {"text": e}} for e in result.errors]
    notifications += [{"level": "error" if s.problem else "note",
                       "message": {"text": f"suppression {s.check_id} at {s.where}: "
                                           f"{s.problem or 'ok'} — {s.reason} (expires {s.expires or 'never'})"}}
                      for s in result.suppressions]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": TOOL, "semanticVersion": "0.1.0",
                                "rules": [_rule(i, metadata[i]) for i in ids],
                                "properties": {"checkov": result.checkov_version}}},
            "invocations": [{"executionSuccessful": result.exit_code != 2,
                             "exitCode": result.exit_code,
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"verdict": result.verdict, "thresholds": dict(sorted(result.thresholds.items()))},
        }],
    }


def render(result) -> str:
    return indented_json(document(result))
