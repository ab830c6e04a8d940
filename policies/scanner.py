"""Run the pinned checkov in this process, offline, over many files at once.

In-process (not a subprocess per stack) so its start-up (importing ~1,000 check modules) is paid
once, and so the gate can see what checkov parsed: every resource of every file must reach the
checks, or the gate fails closed.

Fixes over plain checkov 3.3.30, each pinned by a test:
- its terraform_json parser raises on a scalar in the `terraform` block (`required_version`, which
  every Aegis stack sets) and then reports 0 checks with exit 0. The scalar is kept the way the HCL
  parser represents it (`{"required_version": [">= 1.10"]}`), so the file is scanned whole;
- Python-check records of terraform_json carry `resource.<name>` (the type is lost); each record is
  given its real address `<type>.<name>` again;
- its JSON reading goes through Python's JSON parser (or libyaml) instead of pure-Python YAML, with
  the same line marks (same result, a fraction of the time);
- it reuses one expression interpreter instead of building one per expression (same result);
- CDKTF's `//` metadata stays out of its graph, and its search for count/for_each instances (quadratic
  in a stack's resources) is skipped when a stack has none (same result);
- the loaded checks are frozen out of the garbage collector's way while a scan runs;
- a stack too big for one worker's share has its two passes (resource checks, graph checks) run by
  two workers: the resource checks never read the graph (same result, tested).
"""
from __future__ import annotations

import atexit
import bisect
import gc
import json
import logging
import multiprocessing
import os
import re
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

# Offline: no update check, no platform mapping download, no SCA. Set before checkov is imported.
OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKOV_ENABLE_DATAS_FOREACH_HANDLING": "false",
}
for _key, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

CHECKOV_VERSION = "3.3.30"


class ScanError(Exception):
    """checkov is missing, crashed, or could not load a check: the gate must not pass."""


@dataclass(frozen=True)
class RawResult:
    check_id: str
    check_name: str
    passed: bool
    file: Path  # absolute
    address: str  # "<type>.<name>", "data.<type>.<name>" or "provider.<name>"
    lines: tuple[int, int]
    skip_reason: str | None = None  # a checkov skip comment (HCL only)


@dataclass
class Scan:
    results: list[RawResult] = field(default_factory=list)
    # What checkov parsed and handed to the checks, per file: addresses of resources and data sources.
    parsed: dict[Path, set[str]] = field(default_factory=dict)
    lines: dict[tuple[Path, str], tuple[int, int]] = field(default_factory=dict)  # (file, address) → lines
    parsing_errors: list[str] = field(default_factory=list)
    builtin_checks: dict[str, str] = field(default_factory=dict)  # id → name
    external_checks: dict[str, str] = field(default_factory=dict)  # id → name, from the external dir
    passes: dict[Path, set[str]] = field(default_factory=dict)  # file → checkov passes run on it


_external_loaded: dict[str, dict[str, str]] = {}
_patched = False


def _import_checkov():
    try:
        import checkov.version
        from checkov.terraform_json import parser
        from checkov.terraform_json.runner import TerraformJsonRunner
    except Exception as exc:  # ImportError, or a broken install
        raise ScanError(f"checkov {CHECKOV_VERSION} is not importable ({exc}); run `make setup`") from exc
    if checkov.version.version != CHECKOV_VERSION:
        raise ScanError(f"checkov {checkov.version.version} is installed; Aegis is pinned to {CHECKOV_VERSION} "
                        "(run `make setup`)")
    _patch_parser(parser)
    return TerraformJsonRunner


class _FastJsonLoader:
    """checkov's terraform_json parser reads JSON with the pure-Python YAML loader (for line numbers),
    which is most of its time. The same documents, line marks included, come from Python's JSON parser
    where YAML would read the text the same way (`_json_with_lines`), else from libyaml's parser with
    checkov's loader class; anything that rejects falls back to checkov's own path. Tests keep all
    three outputs identical."""

    _loader_class = None

    @classmethod
    def loads(cls, content: str):
        from checkov.common.parsers.yaml import loader

        doc = _json_with_lines(content)
        if doc is not None:
            return [doc]
        if cls._loader_class is None:
            cls._loader_class = _c_line_loader(loader.SafeLineLoader)
        if cls._loader_class is not None:
            try:
                return list(yaml.load_all(content, Loader=cls._loader_class))
            except Exception:
                pass
        return loader.loads(content)


# A JSON string, a brace outside strings, or (group 1) what YAML 1.1 reads differently from JSON
# outside strings: numbers with an exponent (strings to YAML unless written with a dot and a signed
# exponent) and NaN/Infinity. Inside strings, escaped surrogate pairs differ too (JSON joins them
# into one character), and so does the merge key "<<".
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}]|([0-9][eE]|NaN|Infinity)')
_SURROGATE_ESCAPE = re.compile(r'\\u[dD][89a-fA-F]')


def _json_with_lines(content: str) -> dict | None:
    """The JSON object in `content` with `__startline__`/`__endline__` on every object, as checkov's
    SafeLineLoader marks its mappings (the lines of its `{` and `}`); None when YAML could read the
    text differently, or it is not a JSON object: the caller then takes the YAML path."""
    if '"<<"' in content or _SURROGATE_ESCAPE.search(content):
        return None
    line_starts = [0] + [m.end() for m in re.finditer("\n", content)]
    opened: list[int] = []
    spans: list[tuple[int, int]] = []  # (start line, end line) of each object, in the order it closes
    for match in _JSON_TOKEN.finditer(content):
        if match.group(1):
            return None
        token = match.group()
        if token == "{":
            opened.append(match.start())
        elif token == "}" and opened:
            spans.append((bisect.bisect_right(line_starts, opened.pop()), bisect.bisect_right(line_starts, match.start())))
    closing = iter(spans)  # json.loads builds each object when it closes: the same order

    def mark(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = {}
        for key, value in pairs:
            mapping[key] = value
        mapping["__startline__"], mapping["__endline__"] = next(closing)
        return mapping

    try:
        doc = json.loads(content, object_pairs_hook=mark)
    except (ValueError, StopIteration):
        return None
    return doc if isinstance(doc, dict) and next(closing, None) is None else None


def _c_line_loader(line_loader):
    try:
        from yaml.cyaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return None

    class CSafeLineLoader(CParser, line_loader):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return CSafeLineLoader


def _without_metadata(named: Any) -> Any:
    """A resource type's blocks without CDKTF's `//` metadata (construct path, unique id): no check
    reads it, and checkov would otherwise carry it through the graph as attributes of every resource.
    Line numbers are kept: they belong to the blocks, not to their keys."""
    if not isinstance(named, dict):
        return named
    return {name: ({k: v for k, v in conf.items() if k != "//"} if isinstance(conf, dict) and "//" in conf else conf)
            for name, conf in named.items()}


def _patch_parser(parser) -> None:
    global _patched
    if _patched:
        return
    parser.loader = _FastJsonLoader
    original = parser.handle_block_type

    def handle_block_type(block_type: str, blocks: Any) -> list[dict[str, Any]]:
        if block_type == "terraform" and isinstance(blocks, dict):
            scalars = {k: v for k, v in blocks.items()
                       if k not in parser.IGNORE_FILED_NAMES and not isinstance(v, (dict, list))}
            if scalars:
                rest = {k: v for k, v in blocks.items() if k not in scalars}
                return original(block_type, rest) + [{k: [v]} for k, v in scalars.items()]
        if block_type in ("resource", "data") and isinstance(blocks, dict):
            blocks = {rtype: _without_metadata(named) for rtype, named in blocks.items()}
        return original(block_type, blocks)

    parser.handle_block_type = handle_block_type
    _reuse_asteval()
    _skip_empty_index_search()
    _patched = True


def _reuse_asteval() -> None:
    """checkov builds a new asteval Interpreter for every expression it evaluates (thousands per
    scan, ~10% of the time). Its symbol table is a shared module-level dict anyway, and `eval`
    resets the per-run state (errors, start time), so one interpreter per process gives the same
    results; a test compares scans with and without it."""
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions as sef

    original = sef.get_asteval
    local = threading.local()  # one per thread, should checkov render in threads (RENDER_VARIABLES_ASYNC)

    def get_asteval():
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            interpreter = local.interpreter = original()
        interpreter.code_text.clear()  # it keeps every expression for error messages
        return interpreter

    get_asteval.original = original
    sef.get_asteval = get_asteval


def _skip_empty_index_search() -> None:
    """When checkov cannot find a referenced name among a block type's vertices, it tries every vertex
    name for `name[` (instances of count/for_each): a loop over all resources per missed reference,
    quadratic in the resources of a stack (a million string compares on a 30-model platform stack).
    CDKTF output has no such instances, so the loop can only come back empty when no vertex name has
    a '['; then the same empty answer is given without it. A test compares scans with and without."""
    from checkov.terraform.graph_builder.local_graph import (LEFT_BRACKET, LEFT_BRACKET_WITH_QUOTATION,
                                                             RIGHT_BRACKET, RIGHT_BRACKET_WITH_QUOTATION,
                                                             TerraformLocalGraph)

    def get_possible_vertices(self, module, block_type: str, name: str) -> list[int]:
        names = self.vertices_by_module_dependency_by_name.get(module, {}).get(block_type, {})
        # Per graph: id(name map) → (the map, its size, whether any name has a '['), redone if it grew.
        seen = self.__dict__.setdefault("_aegis_bracketed_names", {})
        known = seen.get(id(names))
        if known is None or known[0] is not names or known[1] != len(names):
            known = seen[id(names)] = (names, len(names), any("[" in key for key in names))
        if known[2]:
            return get_possible_vertices.original(self, module, block_type, name)
        return names.get(name, []) or names.get(name.replace(LEFT_BRACKET_WITH_QUOTATION, LEFT_BRACKET)
                                                .replace(RIGHT_BRACKET_WITH_QUOTATION, RIGHT_BRACKET), [])

    get_possible_vertices.original = TerraformLocalGraph._get_possible_vertices
    TerraformLocalGraph._get_possible_vertices = get_possible_vertices


class _LoadErrors(logging.Handler):
    """Collects what checkov only logs while loading checks (a broken check is skipped, silently)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.messages.append(message)


def _registries():
    from checkov.common.bridgecrew.check_type import CheckType
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    graph = get_graph_checks_registry(CheckType.TERRAFORM)
    graph.load_checks()
    return resource_registry, data_registry, provider_registry, graph


def _origin(check) -> str:
    """Absolute path of the file a check came from (its YAML, or its Python module)."""
    path = getattr(check, "check_path", "")
    if not path:
        module = sys.modules.get(type(check).__module__)
        path = getattr(module, "__file__", "") or ""
    return os.path.abspath(path) if path else ""


def registered_checks() -> dict[str, tuple[str, str]]:
    """Every Terraform check registered now: id → (name, file it came from)."""
    _import_checkov()
    resource, data, provider, graph = _registries()
    out: dict[str, tuple[str, str]] = {}
    for registry in (resource, data, provider):
        for checks in list(registry.checks.values()) + list(registry.wildcard_checks.values()):
            for check in checks:
                if check.id not in out:
                    out[check.id] = (check.name, _origin(check))
    for check in graph.checks:
        out[check.id] = (check.name, _origin(check))
    return out


def _under(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip(os.sep) + os.sep)


_builtin: dict[str, str] = {}


def builtin_checks() -> dict[str, str]:
    """checkov's own Terraform checks (those whose source is inside the checkov package): id → name."""
    if not _builtin:
        import checkov

        root = os.path.dirname(os.path.abspath(checkov.__file__))
        _builtin.update({i: name for i, (name, origin) in registered_checks().items() if _under(origin, root)})
    return _builtin


def load_external(directory: Path) -> dict[str, str]:
    """Load a checkov external checks dir (once per process); return its checks: id → name."""
    directory = directory.resolve()
    key = str(directory)
    if key not in _external_loaded:
        _import_checkov()
        builtin_checks()  # fixed before anything external registers
        resource, _data, _provider, graph = _registries()
        if not (directory / "__init__.py").is_file():
            raise ScanError(f"{directory.name}/ has no __init__.py: checkov would load no check from it")
        handler = _LoadErrors()
        logger = logging.getLogger("checkov")
        logger.addHandler(handler)
        try:
            resource.load_external_checks(key)
            graph.load_external_checks(key)
        except Exception as exc:
            raise ScanError(f"loading custom checks from {directory.name}/ failed: {exc}") from exc
        finally:
            logger.removeHandler(handler)
        if handler.messages:
            raise ScanError(f"custom checks in {directory.name}/ did not load: " + "; ".join(handler.messages))
        _external_loaded[key] = {i: name for i, (name, origin) in registered_checks().items() if _under(origin, key)}
    return dict(_external_loaded[key])


def _runner_filter():
    from checkov.runner_filter import RunnerFilter

    return RunnerFilter(framework=["terraform_json"], show_progress_bar=False)


def _addresses(definition: dict[str, Any]) -> Iterator[tuple[str, int, int]]:
    """(address, start line, end line) of each resource and data source in one parsed file."""
    for block_type, prefix in (("resource", ""), ("data", "data.")):
        for entity in definition.get(block_type, []) or []:
            for rtype, named in entity.items():
                for name, conf in named.items():
                    yield f"{prefix}{rtype}.{name}", conf.get("__startline__", 0), conf.get("__endline__", 0)


def _record_parsed(scan: Scan, path: Path, definition: dict[str, Any]) -> None:
    seen = scan.parsed.setdefault(path, set())
    for address, start, end in _addresses(definition):
        seen.add(address)
        scan.lines[(path, address)] = (start, end)


def _json_runner(runner_class):
    class Runner(runner_class):
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

        def run_block(self, entities, definition_context, full_file_path, root_folder, report, scanned_file,
                      block_type, runner_filter=None, entity_context_path_header=None, module_referrer=None):
            # One entity at a time, so the records it adds can be given their real address.
            for entity in entities:
                marks = [len(report.passed_checks), len(report.failed_checks), len(report.skipped_checks)]
                super().run_block([entity], definition_context, full_file_path, root_folder, report, scanned_file,
                                  block_type, runner_filter, entity_context_path_header, module_referrer)
                rtype = next(iter(entity))
                if block_type == "provider":
                    alias = (entity[rtype].get("alias") or [None])[0]
                    address = f"provider.{rtype}" + (f".{alias}" if alias else "")
                else:
                    name = next(iter(entity[rtype]))
                    address = ("data." if block_type == "data" else "") + f"{rtype}.{name}"
                for records, mark in zip((report.passed_checks, report.failed_checks, report.skipped_checks), marks):
                    for record in records[mark:]:
                        record.resource = address

    return Runner


# checkov runs two passes over a stack: its resource checks (Python classes, on the parsed definitions)
# and its graph checks (on the graph it builds from them, ~80% of the time). The resource checks never
# read the graph and building it leaves the definitions as they were (tests check both), so the passes
# of one big stack can run in two workers. A task is one stack file and the passes to run on it.
RESOURCE_PASS, GRAPH_PASS = "resource checks", "graph checks"
BOTH_PASSES = (RESOURCE_PASS, GRAPH_PASS)
Task = tuple[Path, tuple[str, ...]]
# Rough CPU seconds of each pass: a fixed part and a part per byte of stack JSON (measured on the
# 30-model fixture), only to balance the workers; results never depend on them.
_PASS_COST = {RESOURCE_PASS: (0.015, 0.45e-6), GRAPH_PASS: (0.08, 1.95e-6)}


def _cost(size: int, passes: tuple[str, ...]) -> float:
    return sum(_PASS_COST[p][0] + _PASS_COST[p][1] * size for p in passes)


def _scan_group(tasks: list[Task], wanted: set[str]) -> Scan:
    """One checkov terraform_json run per task (in this process or a forked worker)."""
    runner_class = _import_checkov()
    scan = Scan()
    # What is loaded by now (checkov, its ~2,000 checks) is most of the heap and none of it is garbage:
    # frozen, the cyclic collector stops re-walking it on every collection during the scan, a cost that
    # grew with the size of the stack (~15% of a 30-model platform scan). Unfrozen afterwards.
    gc.freeze()
    try:
        for file, passes in tasks:
            _scan_file(file, passes, wanted, scan, runner_class)
    finally:
        gc.unfreeze()
    return scan


def _scan_file(file: Path, passes: tuple[str, ...], wanted: set[str], scan: Scan, runner_class) -> None:
    from checkov.common.models.enums import CheckResult

    # One checkov graph per stack: each stack is its own Terraform root module. Scanning several in one
    # graph would connect resources across stacks (and environments) that share logical ids, and make
    # graph checks depend on which stacks happened to share a group.
    runner = _json_runner(runner_class)(passes)
    try:
        report = runner.run(root_folder=None, files=[str(file)], runner_filter=_runner_filter())
    except Exception as exc:
        raise ScanError(f"checkov crashed: {type(exc).__name__}: {exc}") from None
    if isinstance(report, list):  # pragma: no cover - terraform_json returns one report
        report = report[0]
    path = file.resolve()
    scan.passes.setdefault(path, set()).update(passes)
    if RESOURCE_PASS in passes:  # what the resource checks were handed (the graph pass parses the same)
        scan.parsing_errors += [str(p) for p in report.parsing_errors]
        for parsed_path, definition in runner.definitions.items():
            _record_parsed(scan, Path(parsed_path).resolve(), definition)
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
                file=where, address=record.resource, lines=(start, end)))


def worker_count(files: int) -> int:
    """Stacks are independent checkov graphs (one folder each), so they can be scanned in parallel, one
    worker per core at most. AEGIS_GATE_WORKERS overrides (1 = in this process)."""
    configured = int(os.environ.get("AEGIS_GATE_WORKERS", "0") or 0)
    wanted = configured or os.cpu_count() or 1
    if "fork" not in multiprocessing.get_all_start_methods():
        wanted = 1  # workers inherit the imported checks by forking; without fork, one process
    return max(1, min(wanted, files))


def _partition(files: list[Path], groups: int) -> list[list[Task]]:
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

    def scan(self, files: list[Path]) -> Scan:
        try:
            self.conn.send([str(f) for f in files])
            kind, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise ScanError(f"a checkov worker died: {type(exc).__name__} {exc}".strip()) from None
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
        _import_checkov()
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


def scan_json(files: list[Path], external_dir: Path | None = None, workers: int | None = None) -> Scan:
    """Scan CDKTF JSON files (`terraform_json`), every built-in check plus the external dir.

    checkov is imported and the checks loaded once, here; with several workers the scan runs in forked
    processes that inherit them (start-up is not paid twice), one group of stack folders each. After
    `prewarm`, the prewarmed process does the scan.
    """
    global _prewarmed
    warm, _prewarmed = _prewarmed, None
    if warm is not None:
        if workers is None and warm.external_dir == (external_dir.resolve() if external_dir else None):
            return warm.scan(files)
        warm.close(wait=0)
    _import_checkov()
    external = load_external(external_dir) if external_dir else {}
    builtin = builtin_checks()
    files = sorted(f.resolve() for f in files)
    wanted = set(builtin) | set(external)
    count = worker_count(len(files)) if workers is None else max(1, min(workers, len(files)))
    if count <= 1:
        parts = [_scan_group([(f, BOTH_PASSES) for f in files], wanted)]
    else:
        context = multiprocessing.get_context("fork")
        groups = _partition(files, count)
        try:
            with ProcessPoolExecutor(len(groups), mp_context=context) as pool:
                parts = list(pool.map(_scan_group, groups, [wanted] * len(groups)))
        except BrokenProcessPool as exc:
            raise ScanError(f"a checkov worker died: {exc}") from None
    scan = Scan(builtin_checks=dict(builtin), external_checks=dict(external))
    for part in parts:
        scan.results += part.results
        scan.parsed.update(part.parsed)
        scan.lines.update(part.lines)
        scan.parsing_errors += part.parsing_errors
        for path, passes in part.passes.items():
            scan.passes.setdefault(path, set()).update(passes)
    unscanned = sorted(f"{f.parent.name}/{f.name}" for f in files if scan.passes.get(f) != set(BOTH_PASSES))
    if unscanned:  # never judge a stack on half of checkov's checks
        raise ScanError(f"checkov did not run both its passes on: {', '.join(unscanned)}")
    return scan


def scan_hcl(directory: Path, external_dir: Path | None = None) -> Scan:
    """Scan a directory of HCL (`.tf`) with checkov's terraform framework (for `gate --path`)."""
    _import_checkov()
    from checkov.common.models.enums import CheckResult
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner

    external = load_external(external_dir) if external_dir else {}
    builtin = builtin_checks()
    runner = Runner()
    try:
        report = runner.run(root_folder=str(directory.resolve()),
                            runner_filter=RunnerFilter(framework=["terraform"], show_progress_bar=False))
    except Exception as exc:
        raise ScanError(f"checkov crashed: {type(exc).__name__}: {exc}") from exc
    if isinstance(report, list):  # pragma: no cover
        report = report[0]
    scan = Scan(builtin_checks=builtin, external_checks=dict(external))
    scan.parsing_errors = [str(p) for p in report.parsing_errors]
    for key, definition in (runner.definitions or {}).items():
        _record_parsed(scan, Path(getattr(key, "file_path", key)).resolve(), definition)
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
            scan.results.append(RawResult(
                check_id=record.check_id, check_name=record.check_name, passed=status == CheckResult.PASSED,
                file=Path(record.file_abs_path).resolve(), address=record.resource, lines=(start, end),
                skip_reason=skip))
    return scan
