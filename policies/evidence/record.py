"""The evidence record of one environment, built from a gate result (no I/O but the synth record).

Deterministic: the same gate result, configuration and `now` give the same record. Controls, checks,
resources and rules are sorted; the time is the only moving part and is passed in.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modules.governance.conformance.catalog import RuleListError, framework, framework_path
from policies.catalog import CATALOG_FILE, FRAMEWORKS
from policies.findings import Finding, Suppression
from policies.gate_result import GateResult
from policies.signing import catalog_version, gate_version, utc_stamp

if TYPE_CHECKING:
    from modules.config import EnvConfig

FORMAT = "aegis-evidence/1"
# AWS's side of shared responsibility (physical security, the hypervisor, the services' own controls) is
# evidenced by AWS's audit reports and agreements, downloaded by the account from AWS Artifact.
AWS_ARTIFACT = {"url": "https://console.aws.amazon.com/artifact/home",
                "covers": "AWS's audit reports and agreements (SOC 1/2/3, PCI DSS attestation of compliance, "
                          "ISO/IEC 27001 certificate, the HIPAA business associate addendum) for the controls "
                          "AWS operates under the shared responsibility model"}


class EvidenceError(Exception):
    """The evidence cannot be built truthfully (an error in the gate, an unknown framework): exit 2."""


def frameworks_of(config: "EnvConfig", chosen: list[str]) -> list[str]:
    """The frameworks to evidence: those asked for, else those the environment lists."""
    known = set(FRAMEWORKS) | {p.stem for p in framework_path("x").parent.glob("*.yaml")}
    selected = list(dict.fromkeys(chosen or [str(f) for f in config.compliance]))
    unknown = [f for f in selected if f not in known]
    if unknown:
        raise EvidenceError(f"unknown framework(s) {unknown} (known: {', '.join(sorted(known))})")
    if not selected:
        raise EvidenceError(f"environment '{config.name}' lists no compliance framework: name one with --framework")
    return selected


def _title(key: str) -> str:
    if key in FRAMEWORKS:
        return FRAMEWORKS[key][0]
    return framework(key).title


def _runtime_rules(key: str, config: "EnvConfig") -> dict[str, list[dict[str, str]]]:
    """Control → the Config rules of the framework's conformance pack, when the environment deploys it."""
    if key not in [str(f) for f in config.compliance]:
        return {}
    try:
        rules = framework(key).rules
    except RuleListError:
        return {}  # no rule list for this framework (cis, iso27001): no pack watches it
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for use in rules:
        for control in use.controls:
            out[control].append({"identifier": use.rule.identifier, "name": use.rule.name,
                                 "pack": f"{config.project}-{config.name}-{key}"})
    return out


def _resource(finding: Finding) -> dict[str, Any]:
    return {"resource": finding.resource_key, "stack": finding.stack, "address": finding.address,
            "construct_path": finding.construct_path, "file": finding.file, "line": finding.line,
            "result": finding.status, "severity": finding.severity, "blocking": finding.blocking,
            "message": finding.message}


def _suppression(item: Suppression, resource: str) -> dict[str, Any]:
    return {"check": item.check_id, "resource": resource, "reason": item.reason, "owner": item.owner,
            "approver": item.approver, "expires": item.expires, "origin": item.origin, "where": item.where,
            "problem": item.problem}


def _controls(key: str, findings: list[Finding], runtime: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    by_control: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in findings:
        for control in finding.controls.get(key, ()):
            by_control[control][finding.check_id].append(finding)
    controls = {}
    for control in sorted(set(by_control) | set(runtime)):
        checks, suppressions = [], []
        for check_id, judged in sorted(by_control.get(control, {}).items()):
            judged = sorted(judged, key=lambda f: (f.stack, f.address))
            first = judged[0]
            checks.append({"id": check_id, "title": first.title, "severity": first.severity,
                           "passed": sum(f.status == "passed" for f in judged),
                           "failed": sum(f.status == "failed" for f in judged),
                           "suppressed": sum(f.status == "suppressed" for f in judged),
                           "resources": [_resource(f) for f in judged]})
            suppressions += [_suppression(f.suppression, f.resource_key) for f in judged if f.suppression]
        controls[control] = {"checks": checks, "suppressions": suppressions,
                             "config_rules": sorted(runtime.get(control, []), key=lambda r: r["identifier"])}
    return controls


def build(result: GateResult, config: "EnvConfig", frameworks: list[str], *, synth_record: dict[str, Any],
          now: dt.datetime) -> dict[str, Any]:
    """The record for `config`'s environment. Refuses a gate result with errors: evidence is never built
    from a judgement that did not complete."""
    if result.errors or result.exit_code not in (0, 1):
        raise EvidenceError("the gate did not complete (" + "; ".join(result.errors or ["no verdict"]) + "): "
                            "no evidence is written from it")
    findings = [f for f in result.findings if f.env == config.name]
    if not findings:
        raise EvidenceError(f"the gate result holds no finding for environment '{config.name}'")
    stacks = {name: digest for name, digest in (synth_record.get("stacks") or {}).items()
              if name.startswith(f"{config.name}-")}
    rules = len(result.catalog) if result.catalog is not None else 0
    return {
        "format": FORMAT,
        "environment": {"name": config.name, "tier": str(config.tier), "account": config.account_id,
                        "region": config.region, "threshold": result.thresholds.get(config.name, "")},
        "generated_at": utc_stamp(now),
        "gate": {"version": gate_version(), "verdict": result.verdict, "checkov": result.checkov_version,
                 "target": result.target},
        "catalog": {**catalog_version([CATALOG_FILE], rules), "file": Path(CATALOG_FILE).name},
        "synth": {"generator": synth_record.get("generator", ""), "toolchain": synth_record.get("toolchain", ""),
                  "config": (synth_record.get("environments") or {}).get(config.name, ""), "stacks": stacks},
        "aws_artifact": AWS_ARTIFACT,
        "frameworks": {key: {"title": _title(key),
                             "controls": _controls(key, findings, _runtime_rules(key, config))}
                       for key in frameworks},
    }
