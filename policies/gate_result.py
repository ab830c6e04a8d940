"""What a gate run concludes, in every mode (synth output, `--path`, plans): findings, suppressions,
errors and the verdict, as exit codes (0 pass; 1 a failure at or above the threshold; 2 error)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from policies import scanner
from policies.catalog import UNCATALOGUED_SEVERITY, Catalog, severity_rank
from policies.findings import FAILED, PASSED, Finding, Suppression

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
PATH_MODE_THRESHOLD = "low"  # no environment (`--path`, a plan of unknown environment): judge every severity


class GateError(Exception):
    """Something the gate could not read or trust: exit 2."""


@dataclass
class GateResult:
    exit_code: int
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    thresholds: dict[str, str] = field(default_factory=dict)  # env → fail_on
    stacks: dict[str, int] = field(default_factory=dict)  # stack → resources scanned
    target: str = ""  # what was judged, for reports (a folder name, never a machine path)
    mode: str = "app"  # "path" under `gate --path` (reports leave out what needs a synth output)
    # `gate --path`: the folder findings' files are relative to, from its repository's root (posix; "" when
    # unknown), so SARIF locations map in code scanning wherever the gate ran from.
    source_root: str = ""
    checkov_version: str = scanner.CHECKOV_VERSION
    seconds: float = 0.0
    catalog: Catalog | None = None
    check_names: dict[str, str] = field(default_factory=dict)  # id → checkov's own name (uncatalogued)
    cache_note: str = ""  # what the gate cache did, when the run used it (policies/gate_cache.py)
    # env → the effective-access matrix the app-level checks judged (policies/report/access.py), plain JSON data.
    access_matrix: dict[str, dict] = field(default_factory=dict)
    # The stacks the synth gate read and verified (name → cdk.tf.json), for the reports of the same run:
    # the HTML inventory and diagrams need them, and reading them again is per-resource work. Not reported.
    stack_docs: dict[str, dict] = field(default_factory=dict, repr=False, compare=False)

    @property
    def verdict(self) -> str:
        return {EXIT_PASS: "pass", EXIT_FAIL: "fail"}.get(self.exit_code, "error")

    def failed_ids(self) -> set[str]:
        """IDs of checks that failed unsuppressed (at any severity)."""
        return {f.check_id for f in self.findings if f.status == FAILED}

    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status == FAILED]

    @property
    def envs(self) -> list[str]:
        return sorted({f.env for f in self.findings if f.env} | set(self.thresholds))


def make_finding(catalog: Catalog, check_id: str, status: str, check_name: str, **where) -> Finding:
    rule = catalog.get(check_id)
    if rule:
        finding = Finding(check_id=check_id, status=status, severity=rule.severity, title=rule.title,
                          remediation=rule.remediation, controls={k: list(v) for k, v in rule.controls.items()},
                          check_pillar=rule.pillar, **where)
    else:
        finding = Finding(check_id=check_id, status=status, severity=UNCATALOGUED_SEVERITY, title=check_name,
                          remediation="Uncatalogued check: fix the resource, and add the check to "
                                      "policies/catalog.yaml with a severity, remediation and controls.",
                          controls={}, catalogued=False, **where)
    if (not finding.why and status != PASSED and finding.source != "checkov" and finding.message
            and finding.message != finding.title):
        finding.why = finding.message  # an app-level or plan check's own words, on what it did not pass
    return finding


def verdict_of(findings: list[Finding], thresholds: Mapping[str, str]) -> int:
    blocking = False
    for finding in findings:
        env = finding.env
        threshold = thresholds.get(env, PATH_MODE_THRESHOLD) if env is not None else PATH_MODE_THRESHOLD
        finding.blocking = finding.status == FAILED and severity_rank(finding.severity) >= severity_rank(threshold)
        blocking |= finding.blocking
    return EXIT_FAIL if blocking else EXIT_PASS


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.env or "", f.stack, f.address, f.check_id))


def display_path(path: Path) -> str:
    """A folder as reports show it: relative to the working directory when inside it, else its name."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        return rel if rel != "." else Path.cwd().name
    except ValueError:
        return Path(path).name
