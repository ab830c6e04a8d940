"""Run the pinned checkov in this process, offline, over many files at once: the gate's scanning API.

In-process (not a subprocess per stack) so its start-up (importing ~1,000 check modules) is paid
once, and so the gate can see what checkov parsed: every resource of every file must reach the
checks, or the gate fails closed.

The parts, one concern each, live in `policies/scan/`: the pinned checkov and its loaded checks
(`registry`), what Aegis changes in checkov's behaviour, each change pinned by a test (`patches`),
and the checkov runs of a scan shared among workers, a big stack's two passes apart (`passes`).
Here: `scan_json` (CDKTF output), `scan_hcl` (`gate --path`) and `prewarm` (checkov loading in a
forked process while the synth runs).
"""
from __future__ import annotations

import atexit
import multiprocessing
import sys
from pathlib import Path
from typing import Callable

from policies.scan import passes
from policies.scan.checked_run import checked_run
from policies.scan.registry import (
    CHECKOV_VERSION,
    OFFLINE_ENV,
    builtin_checks,
    import_checkov,
    load_external,
    pack_traits,
)
from policies.scan.result import RawResult, Scan, ScanError

__all__ = ["CHECKOV_VERSION", "OFFLINE_ENV", "RawResult", "Scan", "ScanError", "builtin_checks", "load_external",
           "pack_traits",
           "prewarm", "scan_hcl", "scan_json"]


class _Prewarmed:
    """A forked process that imports checkov and loads the checks at once, then runs one `scan_json`
    for the parent (forking its own workers, which inherit the loaded checks) and sends the Scan back.
    Started before a synth, so checkov's start-up (seconds) overlaps the synth on another core."""

    def __init__(self, external_dir: Path | None) -> None:
        context = multiprocessing.get_context("fork")
        self.external_dir = external_dir.resolve() if external_dir else None
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve_prewarmed, args=(child, self.external_dir), daemon=False)
        self.process.start()
        child.close()

    def scan(self, files: list[Path], meanwhile: Callable[[], object] | None = None) -> Scan:
        """The scan of `files`; `meanwhile` runs here while the process scans (this process is idle otherwise)."""
        try:
            try:
                self.conn.send([str(f) for f in files])
                if meanwhile is not None:
                    meanwhile()
                kind, value = self.conn.recv()
            except (EOFError, OSError) as exc:
                raise ScanError(f"a checkov worker died: {type(exc).__name__} {exc}".strip()) from None
        except BaseException:
            self.process.kill()  # whatever stopped us, the scan's result will not be read
            raise
        finally:
            self.close()
        if kind != "ok":
            raise ScanError(value)
        return value

    def close(self, wait: float = 10.0) -> None:
        """After a scan the process exits by itself; one never used is stopped at once (it only loads checks)."""
        self.conn.close()  # an idle process reads end-of-file and exits
        self.process.join(timeout=wait)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _serve_prewarmed(conn, external_dir: Path | None) -> None:
    global _prewarmed
    _prewarmed = None
    problem = None
    try:
        import_checkov()
        builtin_checks()
        if external_dir:
            load_external(external_dir)
    except ScanError as exc:
        problem = str(exc)
    try:
        files = conn.recv()
    except (EOFError, OSError):
        return  # not needed after all
    try:
        if problem:
            raise ScanError(problem)
        conn.send(("ok", scan_json([Path(f) for f in files], external_dir)))
    except ScanError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # fail closed: the parent turns it into an error
        conn.send(("error", f"checkov crashed: {type(exc).__name__}: {exc}"))


_prewarmed: _Prewarmed | None = None


def prewarm(external_dir: Path | None = None) -> None:
    """Start loading checkov in a forked process now; the next `scan_json` with the same external dir
    uses it. A no-op where checkov is already loaded here or processes cannot fork."""
    global _prewarmed
    if _prewarmed is None and "checkov" not in sys.modules and "fork" in multiprocessing.get_all_start_methods():
        _prewarmed = _Prewarmed(external_dir)
        atexit.register(_drop_prewarmed)


def _drop_prewarmed() -> None:
    global _prewarmed
    warm, _prewarmed = _prewarmed, None
    if warm is not None:
        warm.close(wait=0)


def scan_json(files: list[Path], external_dir: Path | None = None, workers: int | None = None,
              meanwhile: Callable[[], object] | None = None) -> Scan:
    """Scan CDKTF JSON files (`terraform_json`), every built-in check plus the external dir.

    checkov is imported and the checks loaded once, here; with several workers the scan runs in forked
    processes that inherit them (start-up is not paid twice), one group of stack folders each. After
    `prewarm`, the prewarmed process does the scan, and `meanwhile` (work that does not need the scan)
    runs in this process at the same time; otherwise `meanwhile` runs first, then the scan. Never in a
    thread: forking workers from a process with another thread running is unsafe.
    """
    global _prewarmed
    warm, _prewarmed = _prewarmed, None
    if warm is not None:
        if workers is None and warm.external_dir == (external_dir.resolve() if external_dir else None):
            return warm.scan(files, meanwhile)
        warm.close(wait=0)
    if meanwhile is not None:
        meanwhile()
    import_checkov()
    external = load_external(external_dir) if external_dir else {}
    builtin = builtin_checks()
    files = sorted(f.resolve() for f in files)
    wanted = set(builtin) | set(external)
    count = passes.worker_count(len(files)) if workers is None else max(1, min(workers, len(files)))
    parts = passes.scan_parts(files, wanted, count)
    scan = Scan(builtin_checks=dict(builtin), external_checks=dict(external))
    for part in parts:
        scan.results += part.results
        scan.parsed.update(part.parsed)
        scan.lines.update(part.lines)
        scan.parsing_errors += part.parsing_errors
        for path, run in part.passes.items():
            scan.passes.setdefault(path, set()).update(run)
    unscanned = sorted(f"{f.parent.name}/{f.name}" for f in files if scan.passes.get(f) != set(passes.BOTH_PASSES))
    if unscanned:  # never judge a stack on half of checkov's checks
        raise ScanError(f"checkov did not run both its passes on: {', '.join(unscanned)}")
    return scan


def scan_hcl(directory: Path, external_dir: Path | None = None) -> Scan:
    """Scan a directory of HCL (`.tf`) with checkov's terraform framework (for `gate --path`): every
    built-in check (resource, data, provider and module checks) plus the external dir. The Aegis pack
    sees `aws_iam_policy_document` data sources rendered (policies/scan/policy_documents.py)."""
    import_checkov()
    from checkov.common.models.enums import CheckResult
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner

    from policies.scan import policy_documents

    class DocumentRunner(Runner):
        def check_tf_definition(self, *args, **kwargs):
            policy_documents.attach(self.definitions or {})
            return super().check_tf_definition(*args, **kwargs)

    external = load_external(external_dir) if external_dir else {}
    builtin = builtin_checks()
    runner = DocumentRunner()
    root = directory.resolve()
    report = checked_run(lambda: runner.run(root_folder=str(root), runner_filter=RunnerFilter(
        framework=["terraform"], show_progress_bar=False)), "the folder")
    if isinstance(report, list):  # pragma: no cover
        report = report[0]
    scan = Scan(builtin_checks=builtin, external_checks=dict(external))
    scan.parsing_errors = [str(p) for p in report.parsing_errors]
    for key, definition in (runner.definitions or {}).items():
        path = Path(getattr(key, "file_path", key)).resolve()
        scan.record_parsed(path, definition)
        scan.unresolved_modules += _unresolved_modules(path, definition)
    wanted = set(builtin) | set(external)
    groups = ((report.passed_checks, CheckResult.PASSED), (report.failed_checks, CheckResult.FAILED),
              (report.skipped_checks, CheckResult.SKIPPED))
    for records, status in groups:
        for record in records:
            if record.check_id not in wanted:
                continue
            start, end = record.file_line_range
            skip = None
            if status == CheckResult.SKIPPED:
                skip = record.check_result.get("suppress_comment") or "checkov skip comment"
            address = record.resource
            if record.check_class.startswith("checkov.terraform.checks.module") and "." not in address:
                address = f"module.{address}"  # checkov names a module call by its bare name
            caller = caller_lines = None
            if record.caller_file_path:  # relative to the root, with a leading separator
                caller = (root / record.caller_file_path.lstrip("/\\")).resolve()
                caller_lines = tuple(record.caller_file_line_range or (0, 0))
            scan.results.append(RawResult(
                check_id=record.check_id, check_name=record.check_name, passed=status == CheckResult.PASSED,
                file=Path(record.file_abs_path).resolve(), address=address, lines=(start, end),
                skip_reason=skip, details=tuple(record.details or ()), caller_file=caller,
                caller_lines=caller_lines))
    return scan


def _unresolved_modules(path: Path, definition: dict) -> list[tuple[Path, tuple[int, int], str, str]]:
    """Module calls of one parsed file that checkov did not resolve to any file (not downloaded)."""
    out = []
    for entity in definition.get("module", []) or []:
        for name, conf in entity.items():
            if isinstance(conf, dict) and not conf.get("__resolved__"):
                source = conf.get("source")
                source = source[0] if isinstance(source, list) and source else source
                out.append((path, (conf.get("__start_line__", 0), conf.get("__end_line__", 0)), name, str(source)))
    return out
