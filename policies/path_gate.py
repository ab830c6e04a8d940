"""`gate --path`: any folder of hand-written Terraform (HCL `.tf` and/or `.tf.json`), judged at every
severity (it has no environment). What it feeds the engine (policies/engine.py): its files, each
folder a "stack", and checkov's skip comments, judged by the suppression policy like any other
suppression (policies/suppression_policy.py: a reason, an expiry at its end, no CRITICAL check).

A hand-written file could suppress its own findings through `//` metadata: that metadata is honoured
only in Aegis's own synthesized output (`gate`), so here it is refused (exit 2), never applied.

Modules: checkov follows local module sources, also outside the folder (`examples/complete` calling
`source = "../../"`); locations are then relative to the folder holding both. A finding inside a module
names the module call too (`caller_file`, `caller_line`). It never passes what it did not read (exit 2):
a module call whose source is not on disk (registry, git) and a listed `.tf` file checkov did not parse
(checkov skips dot-folders) are errors, reported with every finding of what was read; a folder where
no check applied to anything is an error alone.

The pack on third-party code: a pack check that could not evaluate a resource (a reference it cannot
resolve) is its own status, `not evaluated`, shown and counted but not a failure unless `strict`; checks
that rest on Aegis's naming conventions do not run; a pack failure that repeats a failing checkov
built-in on the same resource is dropped (policies/checks/aegis_checklib.py).
"""
from __future__ import annotations

import datetime as dt
import os
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
from policies.findings import FAILED, NOT_EVALUATED, SKIP_COMMENT, Finding, Suppression
from policies.gate_result import EXIT_ERROR, GateError, GateResult, display_path
from policies.suppression_policy import split_skip_comment
from policies.suppressions import in_scope, load_exceptions

# Folders checkov never reads as Terraform of the folder (its CKV_IGNORED_DIRECTORIES, and where it and
# Terraform keep downloaded modules); any other dot-folder holding `.tf` files is listed and refused.
TOOL_FOLDERS = frozenset({".terraform", ".external_modules", ".serverless", "node_modules"})


def run_path_gate(directory: Path, *, exceptions_file: Path | None = None, today: dt.date | None = None,
                  catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR,
                  strict: bool = False) -> GateResult:
    """Judge a folder of hand-written Terraform (HCL `.tf` and/or `.tf.json`) at every severity.
    `strict`: a pack check that could not evaluate a resource fails it."""
    started = time.monotonic()
    directory = Path(directory)
    options = JudgeOptions(today=today or dt.date.today(), catalog_file=catalog_file, checks_dir=checks_dir,
                           exceptions_file=exceptions_file)
    result = GateResult(exit_code=EXIT_ERROR, target=display_path(directory), mode="path")
    run(TerraformFolder(directory, strict=strict), options, result)
    result.seconds = time.monotonic() - started
    return result


def _terraform_files(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.rglob(f"*{suffix}")
                  if p.is_file() and not TOOL_FOLDERS.intersection(p.relative_to(directory).parts)
                  and (suffix != ".tf" or p.suffix == ".tf"))


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above `path` holding `.git` (a folder, or a file in worktrees), if any."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


class TerraformFolder(Source[GateResult]):
    """A folder's Terraform files; a file's stack is its folder relative to the base (the root, or the folder
    holding the root and the modules it calls from outside it; the base's name at the top)."""

    def __init__(self, directory: Path, strict: bool = False) -> None:
        self.directory = directory
        self.strict = strict
        self.root = directory.resolve()
        self.base = self.root  # what locations are relative to: the root, or a folder holding its modules too
        self.json_files: list[Path] = []
        self.hcl_files: list[Path] = []
        self.docs: dict[Path, dict] = {}  # the `.tf.json` files, read
        self.resources: dict[tuple[str, str], Resource] = {}
        self.scans: list[scanner.Scan] = []
        self.skipped: list[Suppression] = []  # checkov skip comments, in the order of the results
        self.unread: list[str] = []  # what checkov did not read: errors, once the rest is judged

    def check_target(self) -> None:
        if not self.directory.is_dir():
            raise GateError(f"{self.directory.name}: not a directory")

    def stack_of(self, path: Path) -> str:
        parent = path.resolve().parent.relative_to(self.base).as_posix()
        return parent if parent != "." else self.base.name

    def shown(self, path: Path) -> str:
        return relative_name(path, self.base)

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
            self.docs[path] = doc

    def scan(self, options: JudgeOptions, result: GateResult) -> list[scanner.Scan]:
        directory, json_files, hcl_files = self.directory, self.json_files, self.hcl_files
        if hcl_files:
            scan = scanner.scan_hcl(directory, options.checks_dir)
            if scan.parsing_errors:
                names = ", ".join(relative_name(Path(p), directory) for p in sorted(scan.parsing_errors))
                raise GateError(f"checkov could not parse {len(scan.parsing_errors)} file(s): {names}")
            self.unread = self._unread(scan)
            self.base = Path(os.path.commonpath([self.root, *scan.parsed]))
            self.scans.append(scan)
        for path, doc in self.docs.items():
            for address, res in stack_resources(self.stack_of(path), doc).items():
                self.resources[(self.stack_of(path), address)] = res
        if json_files:
            scan = scanner.scan_json(json_files, options.checks_dir)
            check_scan_complete(scan, {p.relative_to(directory).as_posix(): p for p in json_files},
                                {(p.relative_to(directory).as_posix(), a): r for p in json_files
                                 for (s, a), r in self.resources.items() if s == self.stack_of(p)},
                                directory, allow_empty=True)
            self.scans.append(scan)
        if not any(addresses for scan in self.scans for addresses in scan.parsed.values()):
            raise GateError("zero resources were scanned: nothing was judged")
        if options.checks_dir is not None:
            self._third_party_pack(options.checks_dir)
        if not any(scan.results for scan in self.scans):
            raise GateError("no check applied to any resource, data source, provider or module: nothing was judged")
        return self.scans

    def _unread(self, scan: scanner.Scan) -> list[str]:
        """What checkov did not read: listed `.tf` files it did not parse, module calls it could not resolve."""
        gaps = []
        unread = [p for p in self.hcl_files if p.resolve() not in scan.parsed]
        if unread:
            names = ", ".join(p.relative_to(self.directory).as_posix() for p in unread[:5])
            hidden = any(part.startswith(".") for p in unread for part in p.relative_to(self.directory).parts)
            gaps.append(f"checkov did not read {len(unread)} listed file(s), so nothing in them was judged: {names}"
                        + (" (it skips dot-folders: gate such a folder with its own --path)" if hidden else ""))
        if scan.unresolved_modules:
            calls = sorted({(relative_name(path, self.root), lines[0], name, source)
                            for path, lines, name, source in scan.unresolved_modules})
            shown = "; ".join(f"module.{name} ({source}) at {file}:{line}" for file, line, name, source in calls[:5])
            gaps.append(f"{len(calls)} module call(s) have no source on disk, so their resources were not judged: "
                        f"{shown}. The gate downloads nothing: gate the module's source with --path, "
                        "or give the call a local source")
        return gaps

    def _third_party_pack(self, checks_dir: Path) -> None:
        """Hand-written Terraform: no pack check resting on Aegis's naming conventions, and no pack failure
        repeating a failing checkov built-in on the same resource."""
        output_only, duplicates = scanner.pack_traits(checks_dir)
        for scan in self.scans:
            failing = {(r.check_id, r.file, r.address) for r in scan.results if not r.passed}
            scan.results = [
                r for r in scan.results
                if r.check_id not in output_only
                and not (not r.passed and any((d, r.file, r.address) in failing for d in duplicates.get(r.check_id, ())))]

    def checkov_finding(self, catalog: Catalog, raw: scanner.RawResult) -> Finding:
        stack = self.stack_of(raw.file)
        res = self.resources.get((stack, raw.address))
        finding = checkov_finding(catalog, raw, env=None, stack=stack, pillar="",
                                  construct_path=res.construct_path if res else raw.address,
                                  file=self.shown(raw.file))
        if raw.caller_file is not None:
            finding.caller_file = self.shown(raw.caller_file)
            finding.caller_line = (raw.caller_lines or (0, 0))[0] or None
        if finding.status == FAILED and finding.not_evaluated and not self.strict:
            finding.status = NOT_EVALUATED
        if raw.skip_reason is not None:
            reason, expires = split_skip_comment(raw.skip_reason)
            item = Suppression(raw.check_id, reason, expires, SKIP_COMMENT, f"{stack}/{raw.address}",
                               matched=[f"{stack}/{raw.address}"])
            finding.status, finding.suppression = "suppressed", item
            self.skipped.append(item)
        return finding

    def scanned(self, result: GateResult) -> None:
        result.errors += self.unread
        if self.base != self.root:  # files are named from the folder holding the modules too
            result.target = display_path(self.base)
        repository = repository_root(self.base)
        if repository is not None:
            result.source_root = self.base.relative_to(repository).as_posix()
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
