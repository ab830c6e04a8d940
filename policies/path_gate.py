"""`gate --path`: any folder of hand-written Terraform (HCL `.tf` and/or `.tf.json`), judged at every
severity (it has no environment). What it feeds the engine (policies/engine.py): its files, each
folder a "stack", and checkov's skip comments, judged by the suppression policy like any other
suppression (policies/suppression_policy.py: a reason, an expiry at its end, no CRITICAL check).

A hand-written file could suppress its own findings through `//` metadata: that metadata is honoured
only in Aegis's own synthesized output (`gate`), so here it is refused (exit 2), never applied.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from modules.suppress import METADATA_KEY
from modules.synth_output import read_json
from policies import scanner
from policies.catalog import Catalog
from policies.engine import (
    CHECKS_DIR,
    JudgeOptions,
    Resource,
    Source,
    check_scan_complete,
    checkov_finding,
    relative_name,
    run,
    stack_resources,
)
from policies.findings import SKIP_COMMENT, Finding, Suppression
from policies.gate_result import EXIT_ERROR, GateError, GateResult, display_path
from policies.suppression_policy import split_skip_comment
from policies.suppressions import in_scope, load_exceptions


def run_path_gate(directory: Path, *, exceptions_file: Path | None = None, today: dt.date | None = None,
                  catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR) -> GateResult:
    """Judge a folder of hand-written Terraform (HCL `.tf` and/or `.tf.json`) at every severity."""
    started = time.monotonic()
    directory = Path(directory)
    options = JudgeOptions(today=today or dt.date.today(), catalog_file=catalog_file, checks_dir=checks_dir,
                           exceptions_file=exceptions_file)
    result = GateResult(exit_code=EXIT_ERROR, target=display_path(directory))
    run(TerraformFolder(directory), options, result)
    result.seconds = time.monotonic() - started
    return result


def _terraform_files(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.rglob(f"*{suffix}")
                  if p.is_file() and ".terraform" not in p.parts and (suffix != ".tf" or p.suffix == ".tf"))


class TerraformFolder(Source[GateResult]):
    """A folder's Terraform files; a file's stack is its folder relative to the root (the root's name at the top)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = directory.resolve()
        self.json_files: list[Path] = []
        self.hcl_files: list[Path] = []
        self.resources: dict[tuple[str, str], Resource] = {}
        self.scans: list[scanner.Scan] = []
        self.skipped: list[Suppression] = []  # checkov skip comments, in the order of the results

    def check_target(self) -> None:
        if not self.directory.is_dir():
            raise GateError(f"{self.directory.name}: not a directory")

    def stack_of(self, path: Path) -> str:
        parent = path.resolve().parent.relative_to(self.root).as_posix()
        return parent if parent != "." else self.root.name

    def read(self, options: JudgeOptions, result: GateResult) -> None:
        directory = self.directory
        self.json_files = _terraform_files(directory, ".tf.json")
        self.hcl_files = _terraform_files(directory, ".tf")
        if not self.json_files and not self.hcl_files:
            raise GateError(f"{directory.name}/ holds no Terraform (.tf or .tf.json) file")
        for path in self.json_files:
            doc = read_json(path, path.relative_to(directory).as_posix())
            if not isinstance(doc, dict):
                raise GateError(f"{path.relative_to(directory).as_posix()} is not a JSON object")
            for address, res in stack_resources(self.stack_of(path), doc).items():
                self.resources[(self.stack_of(path), address)] = res

    def scan(self, options: JudgeOptions, result: GateResult) -> list[scanner.Scan]:
        directory, json_files, hcl_files = self.directory, self.json_files, self.hcl_files
        if json_files:
            scan = scanner.scan_json(json_files, options.checks_dir)
            check_scan_complete(scan, {p.relative_to(directory).as_posix(): p for p in json_files},
                                {(p.relative_to(directory).as_posix(), a): r for p in json_files
                                 for (s, a), r in self.resources.items() if s == self.stack_of(p)},
                                directory, allow_empty=True)
            self.scans.append(scan)
        if hcl_files:
            scan = scanner.scan_hcl(directory, options.checks_dir)
            if scan.parsing_errors:
                names = ", ".join(relative_name(Path(p), directory) for p in sorted(scan.parsing_errors))
                raise GateError(f"checkov could not parse {len(scan.parsing_errors)} file(s): {names}")
            self.scans.append(scan)
        if not any(scan.parsed.get(p.resolve()) for scan in self.scans for p in json_files + hcl_files):
            raise GateError("zero resources were scanned: nothing was judged")
        return self.scans

    def checkov_finding(self, catalog: Catalog, raw: scanner.RawResult) -> Finding:
        stack = self.stack_of(raw.file)
        res = self.resources.get((stack, raw.address))
        finding = checkov_finding(catalog, raw, env=None, stack=stack, pillar="",
                                  construct_path=res.construct_path if res else raw.address,
                                  file=relative_name(raw.file, self.directory))
        if raw.skip_reason is not None:
            reason, expires = split_skip_comment(raw.skip_reason)
            item = Suppression(raw.check_id, reason, expires, SKIP_COMMENT, f"{stack}/{raw.address}",
                               matched=[f"{stack}/{raw.address}"])
            finding.status, finding.suppression = "suppressed", item
            self.skipped.append(item)
        return finding

    def scanned(self, result: GateResult) -> None:
        result.stacks = {}
        for scan in self.scans:
            for path, addresses in scan.parsed.items():
                stack = self.stack_of(path)
                result.stacks[stack] = result.stacks.get(stack, 0) + len(addresses)

    def suppressions(self, options: JudgeOptions) -> list[Suppression]:
        inline = [s for res in self.resources.values() for s in res.suppressions]
        for item in inline:
            item.problem = item.problem or (
                f"`//.{METADATA_KEY}` metadata is honoured only in Aegis's synthesized output, never under "
                "--path: remove it, and except the finding in policies/exceptions.yaml if it must be")
        return inline + self.skipped + [s for s in load_exceptions(options.exceptions_file) if in_scope(s, [None])]
