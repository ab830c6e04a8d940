"""The plan gate: Terraform plan JSON files → checkov `terraform_plan` + the custom plan checks →
findings → verdict (0 pass, 1 fail, 2 error), and an attestation beside each plan that passes.

Same catalog (policies/catalog.yaml, plus the plan checks' policies/plan/catalog.yaml), same
thresholds (`gate.fail_on` of the plan's environment; every severity when the environment is not
known), same suppressions (inline ones from the stack's cdk.tf.json beside the plan, and
policies/exceptions.yaml) and the same fail-closed rules as the synth gate: a plan that cannot be
read, a file checkov could not parse, a planned resource checkov did not scan, custom checks
that did not load, or nothing scanned at all is an error, never a pass.

Differences, on purpose: app-level checks (policies/app_checks) judge the synthesized app and do
not run here; a suppression that matches nothing in a plan is reported, not an error (a plan
judges one stack's changes, and the synth gate already enforces that every suppression is used).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from modules.errors import ConfigError
from policies import scanner
from policies.catalog import CATALOG_FILE, Catalog, load_catalog
from policies.findings import FAILED, PASSED, SUPPRESSED, Finding, Suppression
from policies.gate import (CHECKS_DIR, EXIT_ERROR, EXIT_FAIL, EXIT_PASS, GateError, GateResult, check_custom_loaded,
                           make_finding, sort_findings, verdict_of, display_path, split_stack)
from policies.plan import attestation, plan_json, summary
from policies.plan.approvals import Approval, load_approvals
from policies.plan.checkov_view import checkov_text
from policies.plan.plan_checks import Context, all_checks, run_checks
from policies.suppressions import apply as apply_suppressions
from policies.suppressions import in_scope, inline_suppressions, load_exceptions

PLAN_CATALOG_FILE = Path(__file__).resolve().parent / "catalog.yaml"
PLAN_CATALOG_DISPLAY = "policies/plan/catalog.yaml"
SOURCE = "plan"
SYNTH_FILE = "cdk.tf.json"


@dataclass
class PlanInput:
    """One plan to judge. The deploy flow knows everything; `gate --plan` infers the rest."""

    json_path: Path
    stack: str | None = None
    env: str | None = None
    binary: Path | None = None  # the binary plan (`terraform plan -out`), for the attestation
    display: str | None = None  # how reports name the JSON (never a machine path)
    synth_doc: Path | None = None  # the stack's cdk.tf.json: inline suppressions and construct paths
    binary_sha256: str | None = None  # hash of the binary right after `terraform plan` wrote it

    @classmethod
    def infer(cls, path: Path, env: str | None = None) -> "PlanInput":
        """A plan JSON given on the command line: stack and environment from a synthesized stack
        folder around it (`cdktf.out/stacks/<env>-<pillar>/`), else from the file name."""
        path = Path(path)
        folder = path.resolve().parent
        synth = folder / SYNTH_FILE
        stack = None
        if synth.exists():
            try:
                found_env, _ = split_stack(folder.name)
                stack, env = folder.name, env or found_env
            except GateError:
                pass
        if stack is None:
            stack = path.name.removesuffix(".json").removesuffix(".tfplan") or path.name
        binary = None
        for candidate in (path.with_name(path.name.removesuffix(".json")), path.with_suffix(".tfplan")):
            if candidate != path and candidate.is_file():
                binary = candidate
                break
        return cls(json_path=path, stack=stack, env=env, binary=binary, display=display_path(path),
                   synth_doc=synth if synth.exists() else None)


@dataclass
class PlanReport:
    """What the gate concluded about one plan."""

    stack: str
    env: str | None
    file: str
    changes: dict[str, int]
    verdict: str = "error"  # pass | fail | error
    encoding: str = "utf-8"
    terraform_version: str = ""
    resources: int = 0
    attestation: str | None = None  # file name written beside the plan
    note: str = ""

    def as_dict(self) -> dict:
        return {"stack": self.stack, "env": self.env, "file": self.file, "verdict": self.verdict,
                "changes": dict(self.changes), "terraform_version": self.terraform_version,
                "encoding": self.encoding, "resources": self.resources, "attestation": self.attestation,
                "note": self.note}


@dataclass
class PlanGateResult(GateResult):
    plans: list[PlanReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> dict[str, dict[str, int]]:
        """stack → planned change counts, in the order the plans were given."""
        return {p.stack: p.changes for p in self.plans}


@dataclass
class _Judged:
    source: PlanInput
    plan: plan_json.Plan
    stack: str
    env: str | None
    pillar: str
    display: str
    copy: Path | None = None  # the UTF-8 copy checkov reads
    synthesized: dict | None = None  # the stack's cdk.tf.json, when it came with the plan
    construct_paths: dict[str, str] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)


_catalogs: dict[tuple, Catalog] = {}


def _load_catalog(path: Path | None, display: str | None = None) -> Catalog:
    """`load_catalog`, remembered while the file is unchanged (the YAML takes ~0.5 s to parse)."""
    real = path or CATALOG_FILE
    stat = real.stat() if real.exists() else None
    key = (str(real), display, stat and (stat.st_mtime_ns, stat.st_size))
    if stat is None or key not in _catalogs:
        catalog = load_catalog(path, display)
        if stat is None:
            return catalog
        _catalogs[key] = catalog
    return Catalog(rules=dict(_catalogs[key].rules))


def plan_checks_catalog(plan_catalog_file: Path | None = None) -> Catalog:
    """The plan checks' own entries (policies/plan/catalog.yaml)."""
    plan_file = plan_catalog_file or PLAN_CATALOG_FILE
    return _load_catalog(plan_file, PLAN_CATALOG_DISPLAY if plan_file == PLAN_CATALOG_FILE else plan_file.name)


def load_plan_catalog(catalog_file: Path | None = None, plan_catalog_file: Path | None = None) -> Catalog:
    """The synth gate's catalog with the plan checks' entries added (an ID in both is an error)."""
    catalog = _load_catalog(catalog_file)
    extra = plan_checks_catalog(plan_catalog_file)
    for check_id, rule in extra.rules.items():
        if check_id in catalog.rules:
            raise GateError(f"{PLAN_CATALOG_DISPLAY}: {check_id} is already in policies/catalog.yaml")
        catalog.rules[check_id] = rule
    registered = {c.id for c in all_checks()}
    missing = sorted(registered - set(extra.rules))
    if missing:
        raise GateError(f"plan check(s) without a catalog entry in {PLAN_CATALOG_DISPLAY}: {', '.join(missing)}")
    unregistered = sorted(i for i, rule in extra.section("custom").items() if not rule.checkov and i not in registered)
    if unregistered:
        raise GateError(f"plan check(s) in {PLAN_CATALOG_DISPLAY} are not registered in policies/plan/plan_checks: "
                        f"{', '.join(unregistered)}")
    return catalog


def catalog_files(catalog_file: Path | None = None, plan_catalog_file: Path | None = None) -> list[Path]:
    return [catalog_file or CATALOG_FILE, plan_catalog_file or PLAN_CATALOG_FILE]


def run_plan_gate(plan_files: list[Path | PlanInput], *, env: str | None = None,
                  environments_dir: Path | None = None, exceptions_file: Path | None = None,
                  approvals_file: Path | None = None, today: dt.date | None = None,
                  now: dt.datetime | None = None, catalog_file: Path | None = None,
                  plan_catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR,
                  attest: bool = True, target: str = "",
                  progress: Callable[[str], Any] | None = None) -> PlanGateResult:
    """Judge plan JSON files. `env` names the environment of plans whose folder does not say it.

    With `attest`, an attestation is written beside each plan that passes (when its binary plan
    file is known), and a stale one removed from each plan that does not.
    """
    started = time.monotonic()
    inputs = [p if isinstance(p, PlanInput) else PlanInput.infer(Path(p), env) for p in plan_files]
    result = PlanGateResult(exit_code=EXIT_ERROR, target=target)
    if attest:
        for item in inputs:
            if item.binary is not None:
                attestation.attestation_path(item.binary).unlink(missing_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="aegis-plan-gate-"))
    try:
        judged = _judge(result, inputs, env, environments_dir, exceptions_file, approvals_file,
                        today or dt.date.today(), catalog_file, plan_catalog_file, checks_dir, workdir, progress)
    except (GateError, ConfigError, scanner.ScanError, plan_json.PlanError) as exc:
        result.errors.append(str(exc))
        result.exit_code = EXIT_ERROR
        judged = []
    except Exception as exc:  # a bug must not look like a verdict: fail closed
        result.errors.append(f"internal error: {type(exc).__name__}: {exc}")
        result.exit_code = EXIT_ERROR
        judged = []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _conclude(result, judged)
    if attest and result.exit_code != EXIT_ERROR:
        _attest(result, judged, exceptions_file, approvals_file, catalog_file, plan_catalog_file, now)
    result.seconds = time.monotonic() - started
    return result


def _judge(result: PlanGateResult, inputs: list[PlanInput], env, environments_dir, exceptions_file,
           approvals_file, today, catalog_file, plan_catalog_file, checks_dir, workdir, progress) -> list[_Judged]:
    from modules.config import load_all

    if not inputs:
        raise GateError("no plan to judge")
    catalog = result.catalog = load_plan_catalog(catalog_file, plan_catalog_file)
    judged: list[_Judged] = []
    errors: list[str] = []
    for item in inputs:
        display = item.display or display_path(item.json_path)
        try:
            plan = plan_json.load(item.json_path, display)
        except plan_json.PlanError as exc:
            errors.append(str(exc))
            continue
        stack = item.stack or item.json_path.stem
        plan_env = item.env or env
        try:
            found_env, pillar = split_stack(stack)
            plan_env = plan_env or found_env
        except GateError:
            pillar = ""
        judged.append(_Judged(item, plan, stack, plan_env, pillar, display))
        if plan.encoding == "utf-16":
            result.notes.append(f"{display}: UTF-16 (with a byte-order mark) decoded explicitly and judged; "
                                "Terraform writes UTF-8, so prefer `terraform show -json PLAN > plan.json` "
                                "from a shell that keeps it")
    if errors:
        raise plan_json.PlanError("; ".join(errors))
    seen: dict[str, str] = {}
    for j in judged:
        if j.stack in seen:
            raise GateError(f"two plans for stack {j.stack}: {seen[j.stack]} and {j.display}")
        seen[j.stack] = j.display

    # Thresholds and key naming of the environments these plans belong to.
    names = sorted({j.env for j in judged if j.env})
    configs = {}
    if names:
        from modules.config import env_files, environments_dir as default_dir

        known = set(env_files(environments_dir or default_dir()))
        for name in names:
            if name not in known:
                result.notes.append(f"environment '{name}' has no environment file: its plans are judged at "
                                    "every severity")
        configs = {c.name: c for c in load_all([n for n in names if n in known], environments_dir)}
    for j in judged:
        if j.env and j.env not in configs:
            j.env = None
    result.thresholds = {name: c.gate.fail_on for name, c in configs.items()}

    # Inline suppressions and construct paths from the stack's synthesized JSON beside the plan.
    for j in judged:
        if j.source.synth_doc is None:
            continue
        try:
            doc = json.loads(j.source.synth_doc.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GateError(f"{j.stack}: {SYNTH_FILE} beside the plan is not readable JSON ({exc})") from None
        j.synthesized = doc if isinstance(doc, dict) else None
        for block in ("resource",):
            for rtype, items in (doc.get(block) or {}).items():
                for name, conf in (items or {}).items() if isinstance(items, dict) else ():
                    if name == "//" or not isinstance(conf, dict):
                        continue
                    address = f"{rtype}.{name}"
                    meta = (conf.get("//") or {}).get("metadata") or {}
                    j.construct_paths[address] = meta.get("path", f"{j.stack}/{name}")
                    j.suppressions.extend(inline_suppressions(j.stack, address, conf))

    # checkov, on UTF-8 copies of the plans (attributes set by reference in their reference form).
    planned = sum(len(j.plan.planned) for j in judged)
    changed = sum(1 for j in judged for rc in j.plan.changes if rc.managed)
    if planned + changed == 0:
        raise GateError("zero resources in the plan(s): nothing was judged")
    scan = scanner.Scan()
    if planned:
        for index, j in enumerate(judged):
            j.copy = workdir / f"{index:03d}-{j.stack}.json"
            j.copy.write_text(checkov_text(j.plan, j.synthesized)[0], encoding="utf-8")
        if progress:
            progress(f"checkov {scanner.CHECKOV_VERSION} (terraform_plan) on {len(judged)} plan(s), {planned} resources")
        from policies.plan.plan_scanner import scan_plans

        scan = scan_plans([j.copy for j in judged], checks_dir)
        _check_scan_complete(scan, judged)
        check_custom_loaded(catalog, scan, checks_dir)
    result.check_names = {**scan.builtin_checks, **scan.external_checks}

    findings: list[Finding] = []
    by_copy = {j.copy.resolve(): j for j in judged if j.copy is not None}
    for raw in scan.results:
        j = by_copy.get(raw.file)
        if j is None:
            raise GateError(f"checkov reported a result for a file it was not given: {raw.file.name}")
        findings.append(make_finding(
            catalog, raw.check_id, PASSED if raw.passed else FAILED, raw.check_name, env=j.env, stack=j.stack,
            pillar=j.pillar, address=raw.address, construct_path=j.construct_paths.get(raw.address, raw.address),
            file=j.display, line=raw.lines[0] or None, end_line=raw.lines[1] or None, source="checkov",
            message=raw.check_name))

    deletions: list[tuple[Finding, str]] = []  # (finding, change kind) approvals may cover
    for j in judged:
        ctx = Context.of(j.plan, _alias_prefix(configs.get(j.env)))
        kinds = {rc.address: rc.kind for rc in j.plan.changes}
        for check_id, res in run_checks(ctx, catalog.rules):  # catalog order: data loss first
            finding = make_finding(catalog, check_id, PASSED if res.passed else FAILED, res.message, env=j.env,
                               stack=j.stack, pillar=j.pillar, address=res.address,
                               construct_path=j.construct_paths.get(res.address, res.address), file=j.display,
                               source=SOURCE, message=res.message)
            findings.append(finding)
            if res.deletion and not res.passed:
                deletions.append((finding, kinds.get(res.address, "delete")))

    stacks = {j.stack for j in judged}
    approvals = [a for a in load_approvals(approvals_file) if a.stack in stacks]
    approved = _apply_approvals(result, deletions, approvals, today)

    envs = [j.env for j in judged]
    suppressions = [s for j in judged for s in j.suppressions]
    suppressions += [s for s in load_exceptions(exceptions_file) if in_scope(s, envs)]
    known = set(catalog.rules) | set(result.check_names)
    problems = apply_suppressions(findings, suppressions, known, today)
    unused = [item for item in problems if item.problem.startswith("unused")]
    for item in problems:
        if item not in unused:
            result.errors.append(f"suppression of {item.check_id} ({item.where}): {item.problem}")
    if unused:
        # A plan judges changes, not the whole configuration: the synth gate enforces that every
        # suppression is used. Here an unused one is left out of the reports, counted in a note.
        shown = ", ".join(sorted({f"{s.check_id} ({s.where})" for s in unused})[:3])
        result.notes.append(f"{len(unused)} suppression(s) match nothing in these plans and are not listed: "
                            f"{shown}{', …' if len(unused) > 3 else ''}")
    result.findings = sort_findings(findings)
    result.suppressions = [s for s in suppressions if s not in unused] + approved
    result.stacks = {j.stack: len(scan.parsed.get(j.copy.resolve(), ())) if j.copy else 0 for j in judged}
    return judged


def _alias_prefix(config) -> str | None:
    return f"alias/{config.project}-{config.name}-" if config is not None else None


def _check_scan_complete(scan: scanner.Scan, judged: list[_Judged]) -> None:
    if scan.parsing_errors:
        names = {j.copy.resolve(): j.display for j in judged if j.copy}
        shown = ", ".join(names.get(Path(p).resolve(), Path(p).name) for p in sorted(scan.parsing_errors))
        raise GateError(f"checkov could not parse {len(scan.parsing_errors)} plan(s): {shown}")
    for j in judged:
        expected = set(j.plan.planned)
        if not expected:
            continue
        parsed = scan.parsed.get(j.copy.resolve())
        if parsed is None:
            raise GateError(f"{j.display}: checkov did not scan this plan")
        missing = sorted(expected - parsed)
        if missing:
            raise GateError(f"{j.display}: {len(missing)} planned resource(s) were not scanned: {', '.join(missing[:5])}")


def _apply_approvals(result: PlanGateResult, deletions: list[tuple[Finding, str]], approvals: list[Approval],
                     today: dt.date) -> list[Suppression]:
    """Turn approved deletion findings into suppressed ones; return the approvals as suppressions."""
    out: dict[Approval, Suppression] = {}
    for approval in approvals:
        if approval.expires < today:
            result.errors.append(f"approval of {approval.stack}/{approval.address} ({approval.where}) expired on "
                                 f"{approval.expires.isoformat()}: renew it with a new review, or remove it")
    live = [a for a in approvals if a.expires >= today]
    for finding, kind in deletions:
        for approval in live:
            if approval.covers(finding.stack, finding.address, kind):
                item = out.setdefault(approval, approval.as_suppression(finding.check_id, finding.env))
                item.matched.append(finding.resource_key)
                finding.status = SUPPRESSED
                finding.suppression = item
                break
    for approval in live:
        if approval not in out:
            result.notes.append(f"approval of {approval.stack}/{approval.address} ({approval.where}) matches no "
                                "deletion in these plans")
    return list(out.values())


def _conclude(result: PlanGateResult, judged: list[_Judged]) -> None:
    if judged and not result.errors:
        result.exit_code = verdict_of(result.findings, dict(result.thresholds))
    else:
        result.exit_code = EXIT_ERROR
    for j in judged:
        mine = [f for f in result.findings if f.stack == j.stack]
        verdict = "error" if result.errors else ("fail" if any(f.blocking for f in mine) else "pass")
        result.plans.append(PlanReport(stack=j.stack, env=j.env, file=j.display, changes=summary.summarize(j.plan),
                                       verdict=verdict, encoding=j.plan.encoding,
                                       terraform_version=j.plan.terraform_version,
                                       resources=result.stacks.get(j.stack, 0)))
    if result.errors:
        result.exit_code = EXIT_ERROR


def _attest(result: PlanGateResult, judged: list[_Judged], exceptions_file, approvals_file, catalog_file,
            plan_catalog_file, now) -> None:
    import os

    pack = attestation.policy_pack_digest()
    catalog = attestation.catalog_version(catalog_files(catalog_file, plan_catalog_file), len(result.catalog or ()))
    inputs = {name: ({"name": path.name, "sha256": attestation.sha256_file(path)} if path and path.exists() else None)
              for name, path in (("exceptions", exceptions_file), ("approvals", approvals_file))}
    key = os.environ.get(attestation.KEY_ENV) or None
    reports = {p.stack: p for p in result.plans}
    for j in judged:
        report = reports[j.stack]
        if report.verdict != "pass":
            continue
        if j.source.binary is None:
            report.note = "no binary plan beside the JSON: no attestation written (apply needs both)"
            result.notes.append(f"{j.display}: {report.note}")
            continue
        if j.source.binary_sha256 and attestation.sha256_file(j.source.binary) != j.source.binary_sha256:
            report.verdict = "error"
            result.errors.append(f"{j.stack}: {j.source.binary.name} changed between `terraform plan` and the gate: "
                                 "no attestation written")
            result.exit_code = EXIT_ERROR
            continue
        mine = [f for f in result.findings if f.stack == j.stack]
        results = {"checks": len(mine), "passed": sum(f.status == PASSED for f in mine),
                   "failed_below_threshold": sum(f.status == FAILED for f in mine),
                   "suppressed": sum(f.status == SUPPRESSED and (f.suppression is None
                                     or f.suppression.origin != "approval") for f in mine),
                   "approved": sum(f.status == SUPPRESSED and f.suppression is not None
                                   and f.suppression.origin == "approval" for f in mine)}
        approved = [{"check": f.check_id, "address": f.address, "reason": f.suppression.reason,
                     "approved_by": f.suppression.owner, "where": f.suppression.where}
                    for f in mine if f.suppression is not None and f.suppression.origin == "approval"]
        record = attestation.build(
            stack=j.stack, env=j.env, plan_file=j.source.binary, plan_json=j.source.json_path,
            json_sha256=j.plan.sha256, terraform_version=j.plan.terraform_version,
            threshold=result.thresholds.get(j.env, "low") if j.env else "low", summary=report.changes,
            results=results, approved=approved, pack=pack, catalog=catalog, inputs=inputs, now=now, key=key)
        report.attestation = attestation.write(record, j.source.binary).name


__all__ = ["PlanGateResult", "PlanInput", "PlanReport", "run_plan_gate", "load_plan_catalog",
           "EXIT_PASS", "EXIT_FAIL", "EXIT_ERROR"]
