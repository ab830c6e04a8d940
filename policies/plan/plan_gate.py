"""The plan gate: Terraform plan JSON files → checkov `terraform_plan` + the custom plan checks →
findings → verdict (0 pass, 1 fail, 2 error), and an attestation beside each plan that passes.

Same catalog (policies/catalog.yaml, plus the plan checks' policies/plan/catalog.yaml), same
thresholds (`gate.fail_on` of the plan's environment; every severity when the environment is not
known), same suppressions (inline ones from the stack's cdk.tf.json beside the plan, when synth
recorded that very file, and policies/exceptions.yaml) and the same fail-closed rules as the synth gate: a plan that cannot be
read, a file checkov could not parse, a planned resource checkov did not scan, custom checks
that did not load, or nothing scanned at all is an error, never a pass.

Differences, on purpose: app-level checks (policies/app_checks) judge the synthesized app and do
not run here; a suppression that matches nothing in a plan is reported, not an error (a plan
judges one stack's changes, and the synth gate already enforces that every suppression is used).

The steps are the engine's (policies/engine.py); what plans feed it is policies/plan/plan_source.py,
and the catalog policies/plan/plan_catalog.py.
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from modules.synth_output import STACK_FILE, stack_parts
from policies.engine import CHECKS_DIR, JudgeOptions, run
from policies.findings import FAILED, PASSED, SUPPRESSED, Finding
from policies.gate_result import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, GateResult, display_path, verdict_of
from policies.plan import attestation, summary
from policies.plan.plan_catalog import catalog_files, load_plan_catalog, plan_checks_catalog
from policies.plan.plan_source import JudgedPlan, Plans


@dataclass
class PlanInput:
    """One plan to judge. The deploy flow knows everything; `gate --plan` infers the rest."""

    json_path: Path
    stack: str | None = None
    env: str | None = None  # given (`--env`, the deploy flow); a stack named <env>-<pillar> must agree with it
    binary: Path | None = None  # the binary plan (`terraform plan -out`), beside which the attestation goes
    display: str | None = None  # how reports name the JSON (never a machine path)
    synth_doc: Path | None = None  # the stack's cdk.tf.json: used only when synth recorded it (plan_source.py)
    binary_sha256: str | None = None  # hash of the binary right after `terraform plan` wrote it
    json_derived: bool = False  # Aegis ran `terraform show -json` on exactly the bytes of binary_sha256

    @classmethod
    def infer(cls, path: Path, env: str | None = None) -> "PlanInput":
        """A plan JSON given on the command line: the stack from a synthesized stack folder around it
        (`cdktf.out/stacks/<env>-<pillar>/`), else from the file name; the environment is the one given,
        else the stack's (policies/plan/plan_source.py refuses one that contradicts the stack)."""
        path = Path(path)
        folder = path.resolve().parent
        synth = folder / STACK_FILE
        stack = folder.name if synth.exists() and stack_parts(folder.name) else None
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


def run_plan_gate(plan_files: Sequence[Path | PlanInput], *, env: str | None = None,
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
    options = JudgeOptions(today=today or dt.date.today(), catalog_file=catalog_file, checks_dir=checks_dir,
                           exceptions_file=exceptions_file, environments_dir=environments_dir, progress=progress)
    workdir = Path(tempfile.mkdtemp(prefix="aegis-plan-gate-"))
    try:
        source = Plans(inputs, env, approvals_file, plan_catalog_file, workdir)
        judged = source.judged if run(source, options, result) else []
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _conclude(result, judged)
    if attest and result.exit_code != EXIT_ERROR and _key_present(result, judged):
        files = Inputs.of(result, exceptions_file, approvals_file, catalog_file, plan_catalog_file)
        _attest(result, judged, files, now)
    result.seconds = time.monotonic() - started
    return result


def _conclude(result: PlanGateResult, judged: list[JudgedPlan]) -> None:
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


def _key_present(result: PlanGateResult, judged: list[JudgedPlan]) -> bool:
    """A prod-tier plan is judged, but attested only with the key (exit 2 without it, nothing attested)."""
    key = attestation.configured_key()
    for j in judged:
        try:
            attestation.require_key(j.config.tier if j.config else None, j.env, key)
        except attestation.AttestationError as exc:
            result.errors.append(f"{exc} (no attestation was written)")
            result.exit_code = EXIT_ERROR
            for report in result.plans:
                report.verdict = "error"
            return False
    return True


@dataclass(frozen=True)
class Inputs:
    """What a verdict depends on besides the plan, as the attestation records it: the policy pack, the
    catalog, and the exceptions and approvals files it used (the project's own unless others were given)."""

    pack: dict[str, Any]
    catalog: dict[str, Any]
    inputs: dict[str, Any]

    @classmethod
    def of(cls, result: PlanGateResult, exceptions_file: Path | None, approvals_file: Path | None,
           catalog_file: Path | None, plan_catalog_file: Path | None) -> Inputs:
        return cls(pack=attestation.policy_pack_digest(),
                   catalog=attestation.catalog_version(catalog_files(catalog_file, plan_catalog_file),
                                                       len(result.catalog or ())),
                   inputs=attestation.input_files(exceptions_file, approvals_file))


def _attest(result: PlanGateResult, judged: list[JudgedPlan], files: Inputs, now: dt.datetime | None) -> None:
    """An attestation beside every passing plan with a binary, or none at all: a run that ends in an error
    (a binary changed since `terraform plan`, an attestation that cannot be written) attests no stack,
    so `apply` never takes part of a run that was not judged whole."""
    reports = {p.stack: p for p in result.plans}
    passing = [j for j in judged if reports[j.stack].verdict == "pass"]
    for j in passing:
        if j.source.binary is None:
            reports[j.stack].note = "no binary plan beside the JSON: no attestation written (apply needs both)"
            result.notes.append(f"{j.display}: {reports[j.stack].note}")
    binaries = {j.stack: j.source.binary for j in passing if j.source.binary is not None}
    changed = [j for j in passing if j.stack in binaries and j.source.binary_sha256
               and attestation.sha256_file(binaries[j.stack]) != j.source.binary_sha256]
    if changed:
        for j in changed:
            result.errors.append(f"{j.stack}: {binaries[j.stack].name} changed between `terraform plan` and the gate")
        _attest_nothing(result, "no attestation was written for any stack of this run")
        return
    records = [(j, _record(result, j, files, now)) for j in passing if j.stack in binaries]
    written: list[Path] = []
    for j, record in records:
        try:
            written.append(attestation.write(record, binaries[j.stack]))
        except OSError as exc:
            for path in written:
                path.unlink(missing_ok=True)
            result.errors.append(f"{j.stack}: the attestation could not be written ({exc.strerror or exc})")
            _attest_nothing(result, "the attestations this run wrote were removed: no stack of it is attested")
            return
    for (j, _), path in zip(records, written, strict=True):
        reports[j.stack].attestation = path.name
        if not (j.source.json_derived and j.source.binary_sha256 is not None):
            result.notes.append(f"{j.display}: the attestation covers this JSON only (Aegis did not derive it from "
                                f"{binaries[j.stack].name}); `apply` ties the binary to it with `terraform show -json`")


def _attest_nothing(result: PlanGateResult, why: str) -> None:
    result.errors.append(why)
    result.exit_code = EXIT_ERROR
    for report in result.plans:
        report.verdict = "error"
        report.attestation = None


def _record(result: PlanGateResult, j: JudgedPlan, files: Inputs, now: dt.datetime | None) -> dict[str, Any]:
    """The attestation of one passing plan (policies/plan/attestation.py)."""
    mine = [f for f in result.findings if f.stack == j.stack]
    derived = j.source.json_derived and j.source.binary_sha256 is not None
    report = next(p for p in result.plans if p.stack == j.stack)
    return attestation.build(
        stack=j.stack, binding=attestation.Binding.of(j.config, j.env),
        plan_file=j.source.binary if derived else None, plan_sha256=j.source.binary_sha256 if derived else None,
        plan_json=j.source.json_path, json_sha256=j.plan.sha256, terraform_version=j.plan.terraform_version,
        summary=report.changes, results=_results(mine), approved=_approved(mine), pack=files.pack,
        catalog=files.catalog, inputs=files.inputs, now=now, key=attestation.configured_key())


def _results(mine: list[Finding]) -> dict[str, int]:
    def approval(f: Finding) -> bool:
        return f.status == SUPPRESSED and f.suppression is not None and f.suppression.origin == "approval"

    return {"checks": len(mine), "passed": sum(f.status == PASSED for f in mine),
            "failed_below_threshold": sum(f.status == FAILED for f in mine),
            "suppressed": sum(f.status == SUPPRESSED and not approval(f) for f in mine),
            "approved": sum(approval(f) for f in mine)}


def _approved(mine: list[Finding]) -> list[dict[str, Any]]:
    return [{"check": f.check_id, "address": f.address, "reason": f.suppression.reason,
             "approved_by": f.suppression.owner, "where": f.suppression.where}
            for f in mine if f.suppression is not None and f.suppression.origin == "approval"]


__all__ = ["PlanGateResult", "PlanInput", "PlanReport", "run_plan_gate", "load_plan_catalog", "plan_checks_catalog",
           "EXIT_PASS", "EXIT_FAIL", "EXIT_ERROR"]
