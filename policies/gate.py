"""The gate: synthesized stacks → checkov + app-level checks → findings → verdict.

Exit codes: 0 pass; 1 a failure at or above an environment's threshold (`gate.fail_on`); 2 error.
It fails closed: anything it could not read, or any doubt about what it read, is an error (2),
never a pass. `run_gate` judges an existing synth output; it never synthesizes.

The steps are the engine's (policies/engine.py); this module is what the synth output feeds it.
The other modes: `gate --path` (policies/path_gate.py) and plans (policies/plan/plan_gate.py).
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from modules.synth_output import MANIFEST, load_stack, manifest_stacks, split_stack
from policies import scanner
from policies.catalog import Catalog
from policies.config_keys import name_config_key
from policies.engine import (
    CHECKS_DIR,
    JudgeOptions,
    Resource,
    Source,
    check_scan_complete,
    checkov_finding,
    run,
    stack_resources,
)
from policies.findings import FAILED, PASSED, Finding, Suppression
from policies.gate_result import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, GateError, GateResult, display_path, make_finding
from policies.path_gate import run_path_gate
from policies.suppressions import in_scope, load_exceptions

if TYPE_CHECKING:
    from policies.gate_cache import GateCache
__all__ = ["run_gate", "check_fresh", "load_app_checks", "run_path_gate", "GateResult", "GateError", "CHECKS_DIR",
           "EXIT_PASS", "EXIT_FAIL", "EXIT_ERROR", "display_path"]


def run_gate(out_dir: Path, env_names: list[str] | None = None, *, exceptions_file: Path | None = None,
             today: dt.date | None = None, environments_dir: Path | None = None,
             catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR, app_checks: bool = True,
             progress: Callable[[str], Any] | None = None, cache: bool = False,
             refresh_cache: bool = False) -> GateResult:
    """Judge an existing synth output folder (`manifest.json`, `aegis-synth.json`, `stacks/*/cdk.tf.json`).

    `checks_dir=None` / `app_checks=False` leave out the Aegis pack (tests of the engine itself).
    `cache=True` reuses checkov's scan of stacks whose inputs did not change (policies/gate_cache.py);
    `refresh_cache=True` scans every stack and writes its entry afresh, reading none.
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    options = JudgeOptions(today=today or dt.date.today(), catalog_file=catalog_file, checks_dir=checks_dir,
                           exceptions_file=exceptions_file, environments_dir=environments_dir,
                           app_checks=app_checks, cache=cache, refresh_cache=refresh_cache, progress=progress)
    result = GateResult(exit_code=EXIT_ERROR, target=display_path(out_dir))
    run(SynthOutput(out_dir, env_names), options, result)
    result.seconds = time.monotonic() - started
    return result


def check_fresh(out_dir: Path, configs: dict[str, Any]) -> None:
    """The output must come from these very configs, this generator and this toolchain: the rule the
    commands synthesize by (modules/synth_record.py), so the gate never judges what they would redo."""
    from modules.synth_record import why_stale

    stale = why_stale(out_dir, configs.values())
    if stale:
        raise GateError(f"{stale}: run `python main.py synth`")


def load_app_checks() -> tuple[Callable, set[str]]:
    """(`policies.app_checks.run_app_checks`, the app-level check IDs it registers). Failing to import
    them is an error, never a silent skip."""
    try:
        from policies.app_checks import all_checks, run_app_checks

        ids = {check.check_id for check in all_checks()}
    except Exception as exc:
        raise GateError(f"app-level checks (policies/app_checks) failed to import: {type(exc).__name__}: {exc}") from exc
    return run_app_checks, ids


class SynthOutput(Source[GateResult]):
    """The stacks of a synth output, each judged at its environment's threshold, plus the app-level checks."""

    def __init__(self, out_dir: Path, env_names: list[str] | None) -> None:
        self.out_dir = out_dir
        self.env_names = env_names
        self.envs: list[str] = []
        self.configs: dict[str, Any] = {}
        self.stacks: dict[str, Path] = {}  # stack → its cdk.tf.json, of the judged environments
        self.docs: dict[str, dict] = {}
        self.resources: dict[tuple[str, str], Resource] = {}
        self.scan_result = scanner.Scan()
        self.by_file: dict[Path, str] = {}  # scanned file → its stack
        self.shown: dict[str, str] = {}  # stack → its file as reports show it
        self._app: tuple[list, set[str], Any] | Exception | None = None  # see _app_results

    def read(self, options: JudgeOptions, result: GateResult) -> None:
        from modules.config import load_all
        from modules.synth_record import RECORD, read_record, recorded_environments, recorded_stacks

        out_dir = self.out_dir
        all_stacks = manifest_stacks(out_dir)
        if self.env_names:
            envs = list(dict.fromkeys(self.env_names))
        else:
            envs = recorded_environments(out_dir)
            if not envs:
                read_record(out_dir)  # the precise reason when it is missing or unreadable
                raise GateError(f"{out_dir.name}/{RECORD} names no environment (written by `python main.py synth`)")
        self.envs = envs
        configs = self.configs = {c.name: c for c in load_all(envs, options.environments_dir)}
        check_fresh(out_dir, configs)
        result.thresholds = {name: c.gate.fail_on for name, c in configs.items()}

        for name, path in sorted(all_stacks.items()):
            env, _pillar = split_stack(name)
            if env in configs:
                self.stacks[name] = path
        for env in envs:
            if not any(split_stack(s)[0] == env for s in self.stacks):
                raise GateError(f"environment '{env}' has no stack in {out_dir.name}/{MANIFEST}")
        recorded = recorded_stacks(out_dir)  # judged only as synth wrote them: `//` metadata is Aegis's own
        for name, path in self.stacks.items():
            if name not in recorded:
                raise GateError(f"stack {name} is in {out_dir.name}/{MANIFEST} but not in {out_dir.name}/{RECORD}: "
                                "it was not synthesized by Aegis; run `python main.py synth`")
            doc = self.docs[name] = load_stack(out_dir, name, path, sha256=recorded[name])
            for address, res in stack_resources(name, doc).items():
                self.resources[(name, address)] = res
        result.stack_docs = self.docs

    def scan(self, options: JudgeOptions, result: GateResult) -> list[scanner.Scan]:
        stacks, checks_dir = self.stacks, options.checks_dir
        catalog = result.catalog

        def app_checks() -> None:  # they read the stacks, never the scan: run while checkov scans elsewhere
            if catalog is not None:  # the engine loads it first; without it, own_findings works them out
                self._app_results(catalog)
        meanwhile = app_checks if options.app_checks else None
        if options.progress:
            options.progress(f"checkov {scanner.CHECKOV_VERSION} on {len(stacks)} stacks, {len(self.resources)} resources")
        if options.cache or options.refresh_cache:
            from policies.catalog import CATALOG_FILE
            from policies.gate_cache import GateCache
            from policies.suppressions import EXCEPTIONS_FILE

            store = GateCache(checks_dir, options.catalog_file or CATALOG_FILE, options.exceptions_file or EXCEPTIONS_FILE,
                              read=not options.refresh_cache)
            scan = _scan_cached(stacks, checks_dir, store, self.configs, self.docs, meanwhile=meanwhile)
            result.cache_note = store.note()
        else:
            scan = scanner.scan_json(list(stacks.values()), checks_dir, meanwhile=meanwhile)
        check_scan_complete(scan, stacks, self.resources, self.out_dir)
        self.scan_result = scan
        self.by_file = {path.resolve(): name for name, path in stacks.items()}
        self.shown = {name: path.relative_to(self.out_dir).as_posix() for name, path in stacks.items()}  # once per stack
        return [scan]

    def checkov_finding(self, catalog: Catalog, raw: scanner.RawResult) -> Finding:
        stack = self.by_file.get(raw.file)
        if stack is None:
            raise GateError(f"checkov reported a result for a file it was not given: {raw.file.name}")
        env, pillar = split_stack(stack)
        res = self.resources.get((stack, raw.address))
        return checkov_finding(catalog, raw, env=env, stack=stack, pillar=pillar,
                               construct_path=res.construct_path if res else stack, file=self.shown[stack])

    def own_findings(self, options: JudgeOptions, result: GateResult, catalog: Catalog) -> list[Finding]:
        """The app-level checks (policies/app_checks), over every judged stack with its environment's config."""
        if not options.app_checks:
            return []
        app_findings, app_ids, result.access_matrix = self._app_results(catalog)
        findings = []
        for app in app_findings:
            if app.stack not in self.stacks:
                raise GateError(f"app-level check {app.check_id} reported on unknown stack '{app.stack}'")
            if app.address and (app.stack, app.address) not in self.resources:
                raise GateError(f"app-level check {app.check_id} reported on unknown resource "
                                f"{app.stack}/{app.address}")
            env, pillar = split_stack(app.stack)
            res = self.resources.get((app.stack, app.address))
            start, end = self.scan_result.lines.get((self.stacks[app.stack].resolve(), app.address), (0, 0))
            app_ids.add(app.check_id)
            findings.append(make_finding(
                catalog, app.check_id, PASSED if app.passed else FAILED, app.message, env=env, stack=app.stack,
                pillar=pillar, address=app.address, construct_path=res.construct_path if res else app.stack,
                file=self.shown[app.stack], line=start or 1, end_line=end or None,
                source="app", message=app.message))
        self.own_check_ids = app_ids
        return findings

    def _app_results(self, catalog: Catalog) -> tuple[list, set[str], Any]:
        """The app-level checks' results, their IDs and the access matrix, worked out once (during the scan
        when it runs in another process). What goes wrong is kept and raised where the results are used,
        so an error reads the same whichever step worked them out."""
        if self._app is None:
            try:
                self._app = self._judge_app(catalog)
            except Exception as exc:
                self._app = exc
        if isinstance(self._app, Exception):
            raise self._app
        return self._app

    def _judge_app(self, catalog: Catalog) -> tuple[list, set[str], Any]:
        run_app_checks, app_ids = load_app_checks()
        missing = sorted(i for i, rule in catalog.section("custom").items()
                         if not rule.checkov and i not in app_ids)
        if missing:  # fail closed even when none registered: a catalogued check that never runs never fails
            raise GateError(f"app-level check(s) in the catalog are not registered in policies/app_checks: "
                            f"{', '.join(missing)}")
        from policies.access.matrix import access_matrix_of
        from policies.app_checks import AppCheckNotJudged
        from policies.app_checks.view import AppView

        app_view = AppView.build(self.docs, self.configs)
        try:
            app_findings = run_app_checks(self.docs, self.configs, app_view)
        except AppCheckNotJudged as exc:
            raise GateError(str(exc)) from exc
        except Exception as exc:
            raise GateError(f"app-level checks crashed: {type(exc).__name__}: {exc}") from exc
        return app_findings, set(app_ids), access_matrix_of(app_view)

    def suppressions(self, options: JudgeOptions) -> list[Suppression]:
        suppressions = [s for res in self.resources.values() for s in res.suppressions]
        exceptions = load_exceptions(options.exceptions_file)
        _check_exception_envs(exceptions, options.environments_dir)
        return suppressions + [s for s in exceptions if in_scope(s, self.envs)]

    def conclude(self, result: GateResult) -> None:
        scan = self.scan_result
        result.stacks = {name: len(scan.parsed.get(path.resolve(), ())) for name, path in self.stacks.items()}
        for finding in result.findings:  # the failures left once suppressions applied: those are to fix
            name_config_key(finding)
        super().conclude(result)


def _scan_cached(stacks: dict[str, Path], checks_dir: Path | None, store: GateCache, configs: dict[str, Any],
                 docs: dict[str, dict], meanwhile: Callable[[], object] | None = None) -> scanner.Scan:
    """The scan of every stack: from the cache where its key matches and the entry holds up against the
    stack (policies/gate_cache.py), checkov for the rest (checkov is not even imported when every stack
    and the check registry hit)."""
    from modules.synth_record import config_digest
    from policies.gate_cache import StackFacts

    env_digests = {name: config_digest(config) for name, config in configs.items()}
    digests = {name: env_digests[split_stack(name)[0]] for name in stacks}
    keys, facts = {}, {}
    for name, path in stacks.items():
        data = path.read_bytes()
        keys[name], facts[name] = store.stack_key(data, digests[name]), StackFacts.of(data, docs[name])
    parts = {name: store.load_scan(keys[name], name, path, facts[name], digests[name]) for name, path in stacks.items()}
    missing = [name for name, part in parts.items() if part is None]
    registry = store.load_registry()
    if missing:
        fresh = scanner.scan_json([stacks[name] for name in missing], checks_dir, meanwhile=meanwhile)
        for name in missing:
            store.store_scan(keys[name], stacks[name], fresh, facts[name], digests[name])
        registry = (fresh.builtin_checks, fresh.external_checks)
        store.store_registry(*registry)
        parts.update({name: fresh for name in missing})
    elif registry is None:
        registry = (scanner.builtin_checks(), scanner.load_external(checks_dir) if checks_dir else {})
        store.store_registry(*registry)
    store.prune()
    scan = scanner.Scan(builtin_checks=dict(registry[0]), external_checks=dict(registry[1]))
    for part in {id(p): p for p in parts.values() if p is not None}.values():  # every stack has one by now
        scan.results += part.results
        scan.parsed.update(part.parsed)
        scan.lines.update(part.lines)
        scan.parsing_errors += part.parsing_errors
    return scan


def _check_exception_envs(exceptions: list[Suppression], environments_dir: Path | None) -> None:
    """An exception naming an environment that does not exist would silently never apply."""
    from modules.config import env_files
    from modules.config import environments_dir as default_dir

    known = set(env_files(environments_dir or default_dir()))
    for item in exceptions:
        unknown = sorted(set(item.environments) - known - {"*"})
        if unknown:
            raise GateError(f"{item.where}: exception for {item.check_id} names unknown environment(s) "
                            f"{', '.join(unknown)} (have: {', '.join(sorted(known))})")
