"""The checkov runs of one scan: one per stack file, shared among forked workers.

Stacks are independent checkov graphs, so they can be scanned in parallel. checkov runs two passes
over a stack: its resource checks (Python classes, on the parsed definitions) and its graph checks
(on the graph it builds from them, ~80% of the time). The resource checks never read the graph and
building it leaves the definitions as they were (tests check both), so the passes of one big stack
can run in two workers. A task is one stack file and the passes to run on it.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from modules.collector import collector_frozen
from policies.scan import patches
from policies.scan.checked_run import checked_run
from policies.scan.registry import import_checkov
from policies.scan.result import RawResult, Scan, ScanError

RESOURCE_PASS, GRAPH_PASS = "resource checks", "graph checks"
BOTH_PASSES = (RESOURCE_PASS, GRAPH_PASS)
Task = tuple[Path, tuple[str, ...]]
# Rough CPU seconds of each pass: a fixed part and a part per byte of stack JSON (measured on the
# 30-model fixture), only to balance the workers; results never depend on them.
_PASS_COST = {RESOURCE_PASS: (0.015, 0.27e-6), GRAPH_PASS: (0.08, 1.95e-6)}


def _cost(size: int, passes: tuple[str, ...]) -> float:
    return sum(_PASS_COST[p][0] + _PASS_COST[p][1] * size for p in passes)


def pass_runner(runner_class: Any) -> Any:
    """checkov's terraform_json runner (`runner_class`, from `import_checkov`) running only the given passes."""
    base: Any = patches.with_real_addresses(runner_class)  # checkov's classes are untyped

    class Runner(base):
        def __init__(self, passes: tuple[str, ...] = BOTH_PASSES) -> None:
            super().__init__()
            self.passes = passes
            if GRAPH_PASS not in passes:  # no graph checks to run: build the graph of nothing
                build = self.graph_manager.build_graph_from_definitions
                self.graph_manager.build_graph_from_definitions = lambda definitions, *a, **k: build({}, *a, **k)

        def add_python_check_results(self, report, runner_filter) -> None:
            if RESOURCE_PASS in self.passes:
                super().add_python_check_results(report, runner_filter)

        def add_graph_check_results(self, report, runner_filter) -> None:
            if GRAPH_PASS in self.passes:
                super().add_graph_check_results(report, runner_filter)

    return Runner


def _runner_filter():
    from checkov.runner_filter import RunnerFilter

    return RunnerFilter(framework=["terraform_json"], show_progress_bar=False)


def scan_group(tasks: list[Task], wanted: set[str]) -> Scan:
    """One checkov terraform_json run per task (in this process or a forked worker)."""
    runner_class = import_checkov()
    scan = Scan()
    with collector_frozen():  # the loaded checks: out of the collector's way while the stacks are scanned
        for file, passes in tasks:
            _scan_file(file, passes, wanted, scan, runner_class)
    return scan


def _scan_file(file: Path, passes: tuple[str, ...], wanted: set[str], scan: Scan, runner_class) -> None:
    from checkov.common.models.enums import CheckResult

    # One checkov graph per stack: each stack is its own Terraform root module. Scanning several in one
    # graph would connect resources across stacks (and environments) that share logical ids, and make
    # graph checks depend on which stacks happened to share a group.
    runner = pass_runner(runner_class)(passes)
    report = checked_run(lambda: runner.run(root_folder=None, files=[str(file)], runner_filter=_runner_filter()),
                         f"{file.parent.name}/{file.name}")
    if isinstance(report, list):  # pragma: no cover - terraform_json returns one report
        report = report[0]
    path = file.resolve()
    scan.passes.setdefault(path, set()).update(passes)
    if RESOURCE_PASS in passes:  # what the resource checks were handed (the graph pass parses the same)
        scan.parsing_errors += [str(p) for p in report.parsing_errors]
        for parsed_path, definition in runner.definitions.items():
            scan.record_parsed(Path(parsed_path).resolve(), definition)
    # Each name checkov gives a file is resolved once, not once per result; the gate refuses a result
    # for any file it did not hand over.
    resolved: dict[str, Path] = {str(file): path}
    for records, status in ((report.passed_checks, CheckResult.PASSED), (report.failed_checks, CheckResult.FAILED)):
        for record in records:
            if record.check_id not in wanted:
                continue  # a check another external dir loaded earlier in this process
            start, end = record.file_line_range
            where = resolved.get(record.file_abs_path)
            if where is None:
                where = resolved[record.file_abs_path] = Path(record.file_abs_path).resolve()
            scan.results.append(RawResult(
                check_id=record.check_id, check_name=record.check_name, passed=status == CheckResult.PASSED,
                file=where, address=record.resource, lines=(start, end), details=tuple(record.details or ())))


def worker_count(files: int) -> int:
    """Stacks are independent checkov graphs (one folder each), so they can be scanned in parallel, one
    worker per core at most. AEGIS_GATE_WORKERS overrides (1 = in this process)."""
    configured = int(os.environ.get("AEGIS_GATE_WORKERS", "0") or 0)
    wanted = configured or os.cpu_count() or 1
    if "fork" not in multiprocessing.get_all_start_methods():
        wanted = 1  # workers inherit the imported checks by forking; without fork, one process
    return max(1, min(wanted, files))


def partition(files: list[Path], groups: int) -> list[list[Task]]:
    """Tasks for `groups` workers, the costliest first onto the least loaded (balanced work per worker).
    A stack that would take most of a worker's even share on its own would make that worker the last
    to finish, so its two passes go out as two tasks."""
    sizes = {path: path.stat().st_size for path in files}
    share = sum(_cost(size, BOTH_PASSES) for size in sizes.values()) / groups
    tasks: list[Task] = []
    for path in files:
        if groups > 1 and _cost(sizes[path], BOTH_PASSES) > 0.75 * share:
            tasks += [(path, (p,)) for p in BOTH_PASSES]
        else:
            tasks.append((path, BOTH_PASSES))
    buckets: list[tuple[float, int, list[Task]]] = [(0.0, slot, []) for slot in range(groups)]
    for task in sorted(tasks, key=lambda t: (-_cost(sizes[t[0]], t[1]), str(t[0]), t[1])):
        # The two passes of a split stack go to different workers, whatever the estimates say.
        total, slot, members = min(b for b in buckets if all(m[0] != task[0] for m in b[2]))
        buckets[slot] = (total + _cost(sizes[task[0]], task[1]), slot, members + [task])
    return [sorted(members, key=lambda t: (str(t[0]), t[1])) for _, _, members in buckets if members]


def scan_parts(files: list[Path], wanted: set[str], count: int) -> list[Scan]:
    """The scans of `files` (sorted, resolved) by `count` workers: forked processes that inherit the
    loaded checks (start-up is not paid twice), or this process alone when `count` is 1."""
    if count <= 1:
        return [scan_group([(f, BOTH_PASSES) for f in files], wanted)]
    context = multiprocessing.get_context("fork")
    groups = partition(files, count)
    try:
        with ProcessPoolExecutor(len(groups), mp_context=context) as pool:
            return list(pool.map(scan_group, groups, [wanted] * len(groups)))
    except BrokenProcessPool as exc:
        raise ScanError(f"a checkov worker died: {exc}") from None
