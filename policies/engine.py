"""The judging engine every gate mode runs: catalog → checkov scan → findings → suppressions → verdict.

A mode (the synth output, `--path`, Terraform plans) is a `Source`: it says what to read and
scan, where each checkov result belongs, which findings of its own to add (app-level checks, plan
checks) and which suppressions apply. The engine runs the steps in one order for every mode,
and fails closed: anything it could not read or trust is an error (exit 2), never a pass.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import AbstractSet, Any, Callable, Generic, TypeVar

from modules.cache import CacheError
from modules.errors import ConfigError
from modules.synth_output import SynthOutputError, resources
from policies import scanner
from policies.catalog import UNCATALOGUED_SEVERITY, Catalog, load_catalog
from policies.findings import FAILED, PASSED, SKIP_COMMENT, Finding, Suppression
from policies.gate_result import EXIT_ERROR, GateError, GateResult, make_finding, sort_findings, verdict_of
from policies.suppression_policy import environment_tiers, environments_named, load_policy
from policies.suppression_policy import judge as judge_policy
from policies.suppressions import apply as apply_suppressions
from policies.suppressions import inline_suppressions

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
ResultT = TypeVar("ResultT", bound=GateResult)


@dataclass(frozen=True)
class JudgeOptions:
    """What every mode is judged with. `checks_dir=None` / `app_checks=False` leave out the Aegis pack
    (tests of the engine itself); `cache` reuses checkov's scans (policies/gate_cache.py), and
    `refresh_cache` (`--no-cache`) scans everything and replaces the cache's entries without reading one."""

    today: dt.date
    catalog_file: Path | None = None
    checks_dir: Path | None = CHECKS_DIR
    exceptions_file: Path | None = None
    environments_dir: Path | None = None
    policy_file: Path | None = None  # policies/suppression_policy.yaml unless given (tests)
    app_checks: bool = True
    cache: bool = False
    refresh_cache: bool = False
    progress: Callable[[str], Any] | None = None


class Source(Generic[ResultT]):
    """One mode of the gate: what it feeds the engine. The engine calls the steps in this order. `ResultT`
    is what the mode concludes into (a GateResult, or a subclass with what the mode adds)."""

    errors: tuple[type[Exception], ...] = ()  # the mode's own "could not read it" errors (exit 2)
    own_check_ids: AbstractSet[str] = frozenset()  # the IDs of the mode's own checks, set by `own_findings`

    def check_target(self) -> None:
        """Refuse at once what cannot be judged at all (before anything is loaded)."""

    def load_catalog(self, options: JudgeOptions) -> Catalog:
        return load_catalog(options.catalog_file)

    def read(self, options: JudgeOptions, result: ResultT) -> None:  # pragma: no cover - abstract
        """Read what to judge (and the thresholds it is judged at); refuse anything unreadable."""
        raise NotImplementedError

    def scan(self, options: JudgeOptions, result: ResultT) -> list[scanner.Scan]:  # pragma: no cover - abstract
        """checkov over everything read; refuse a scan that left anything out."""
        raise NotImplementedError

    def checkov_finding(self, catalog: Catalog, raw: scanner.RawResult) -> Finding:  # pragma: no cover - abstract
        """The finding of one checkov result, placed in its stack (an unknown file is an error)."""
        raise NotImplementedError

    def scanned(self, result: ResultT) -> None:
        """Once checkov's findings are made: record what the scans covered, if the mode does it here."""

    def own_findings(self, options: JudgeOptions, result: ResultT, catalog: Catalog) -> list[Finding]:
        """Findings of the mode's own checks (app-level, plan); their IDs go to `own_check_ids`."""
        return []

    def suppressions(self, options: JudgeOptions) -> list[Suppression]:  # pragma: no cover - abstract
        """Every suppression that applies to this run, in the order reports list them."""
        raise NotImplementedError

    def listed_suppressions(self, problems: list[Suppression], suppressions: list[Suppression],
                            result: ResultT) -> list[Suppression]:
        """Turn suppression problems into errors; return the suppressions the reports list."""
        for item in problems:
            result.errors.append(f"suppression of {item.check_id} ({item.where}): {item.problem}")
        return suppressions

    def conclude(self, result: ResultT) -> None:
        """The verdict: the findings against the thresholds, or an error when there is any."""
        result.exit_code = verdict_of(result.findings, dict(result.thresholds))
        if result.errors:
            result.exit_code = EXIT_ERROR


def run(source: Source[ResultT], options: JudgeOptions, result: ResultT) -> bool:
    """Judge into `result`; any error, expected or not, is an error verdict (fail closed). True when
    the judging ran to its end."""
    expected: tuple[type[Exception], ...] = (GateError, SynthOutputError, ConfigError, CacheError, scanner.ScanError,
                                             *source.errors)
    try:
        judge(source, options, result)
        return True
    except expected as exc:
        result.errors.append(str(exc))
    except Exception as exc:  # a bug must not look like a verdict
        result.errors.append(f"internal error: {type(exc).__name__}: {exc}")
    result.exit_code = EXIT_ERROR
    return False


def judge(source: Source[ResultT], options: JudgeOptions, result: ResultT) -> None:
    source.check_target()
    catalog = result.catalog = source.load_catalog(options)
    source.read(options, result)
    scans = source.scan(options, result)
    for scan in scans:
        check_custom_loaded(catalog, scan, options.checks_dir)
        result.check_names.update({**scan.builtin_checks, **scan.external_checks})
    findings = [source.checkov_finding(catalog, raw) for scan in scans for raw in scan.results]
    source.scanned(result)
    findings += source.own_findings(options, result, catalog)
    suppressions = source.suppressions(options)
    known = set(catalog.rules) | set(result.check_names) | source.own_check_ids
    judge_suppression_policy(suppressions, catalog, options)
    judged = [s for s in suppressions if s.origin != SKIP_COMMENT]
    problems = apply_suppressions(findings, judged, known, options.today)
    refused = [s for s in suppressions if s.origin == SKIP_COMMENT and s.problem]
    reopen(findings, refused)
    listed = source.listed_suppressions(problems + refused, suppressions, result)
    result.findings = sort_findings(findings)
    for item in listed:
        rule = catalog.rules.get(item.check_id)
        item.title = rule.title if rule else result.check_names.get(item.check_id, "")
    result.suppressions = listed
    source.conclude(result)


def judge_suppression_policy(suppressions: list[Suppression], catalog: Catalog, options: JudgeOptions) -> None:
    """Every suppression against policies/suppression_policy.yaml, before any is applied: one that breaks
    it gets a `problem` (an error) and suppresses nothing."""
    if not suppressions:
        return
    policy = load_policy(options.policy_file)
    tiers = environment_tiers(environments_named(suppressions), options.environments_dir)

    def severity_of(check_id: str) -> str:
        rule = catalog.get(check_id)
        return rule.severity if rule else UNCATALOGUED_SEVERITY

    judge_policy(suppressions, policy, severity_of, tiers, options.today)


def reopen(findings: list[Finding], refused: list[Suppression]) -> None:
    """checkov skipped these results on a skip comment the policy refuses: they fail again."""
    for finding in findings:
        if finding.suppression is not None and any(finding.suppression is s for s in refused):
            finding.status, finding.suppression = FAILED, None


def checkov_finding(catalog: Catalog, raw: scanner.RawResult, **where) -> Finding:
    """A finding from one checkov result; `where` places it (env, stack, pillar, construct_path, file)."""
    return make_finding(catalog, raw.check_id, PASSED if raw.passed else FAILED, raw.check_name,
                        address=raw.address, line=raw.lines[0] or None, end_line=raw.lines[1] or None,
                        source="checkov", message=raw.check_name, why="; ".join(raw.details), **where)


def check_custom_loaded(catalog: Catalog, scan: scanner.Scan, checks_dir: Path | None) -> None:
    if checks_dir is None:
        return
    missing = sorted(i for i, rule in catalog.section("custom").items()
                     if rule.checkov and i not in scan.external_checks)
    if missing:
        raise GateError(f"custom check(s) in the catalog did not load from policies/checks: {', '.join(missing)}")


# ---------------------------------------------------------------- Terraform JSON stacks (synth output, `--path`)

@dataclass
class Resource:
    stack: str
    address: str
    construct_path: str
    suppressions: list[Suppression]


def stack_resources(stack: str, doc: dict) -> dict[str, Resource]:
    """Every resource and data source of a stack document, with its construct path and inline suppressions."""
    return {res.address: Resource(stack, res.address, res.construct_path(f"{stack}/{res.name}"),
                                  inline_suppressions(stack, res.address, res.conf))
            for res in resources(doc)}


def check_scan_complete(scan: scanner.Scan, stacks: dict[str, Path], resources: dict, out_dir: Path,
                        allow_empty: bool = False) -> None:
    """checkov parsed every file it was given, and handed every resource of each to the checks."""
    if scan.parsing_errors:
        names = sorted(Path(p).resolve() for p in scan.parsing_errors)
        shown = ", ".join(relative_name(p, out_dir) for p in names)
        raise GateError(f"checkov could not parse {len(names)} file(s): {shown}")
    total = 0
    for name, path in stacks.items():
        parsed = scan.parsed.get(path.resolve())
        if parsed is None:
            raise GateError(f"stack {name} is in the manifest but checkov did not scan it")
        expected = {a for (s, a) in resources if s == name}
        missing = sorted(expected - parsed)
        if missing:
            raise GateError(f"stack {name}: {len(missing)} resource(s) were not scanned: {', '.join(missing[:5])}")
        total += len(expected)
    if total == 0 and not allow_empty:
        raise GateError("zero resources were scanned: nothing was judged")


def relative_name(path: Path, base: Path) -> str:
    """`path` relative to `base` (posix), or its bare name when outside it (never a machine path)."""
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name
