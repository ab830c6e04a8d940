"""The gate: synthesized stacks → checkov + app-level checks → findings → verdict.

Exit codes: 0 pass; 1 a failure at or above an environment's threshold (`gate.fail_on`); 2 error.
It fails closed: anything it could not read, or any doubt about what it read, is an error (2),
never a pass. `run_gate` judges an existing synth output; it never synthesizes.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from modules.errors import ConfigError
from modules.naming import STACK_ORDER
from policies import scanner
from policies.catalog import UNCATALOGUED_SEVERITY, Catalog, load_catalog, severity_rank
from policies.findings import FAILED, PASSED, Finding, Suppression
from policies.suppressions import apply as apply_suppressions
from policies.suppressions import in_scope, inline_suppressions, load_exceptions

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
CHECKS_DIR = Path(__file__).resolve().parent / "checks"
APP_CHECKS_DIR = Path(__file__).resolve().parent / "app_checks"
MANIFEST = "manifest.json"
PATH_MODE_THRESHOLD = "low"  # `--path` has no environment: judge every severity


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
    checkov_version: str = scanner.CHECKOV_VERSION
    seconds: float = 0.0
    catalog: Catalog | None = None
    check_names: dict[str, str] = field(default_factory=dict)  # id → checkov's own name (uncatalogued)
    cache_note: str = ""  # what the gate cache did, when the run used it (policies/gate_cache.py)

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


def _error(errors: list[str], **kwargs) -> GateResult:
    return GateResult(exit_code=EXIT_ERROR, errors=errors, **kwargs)


# ---------------------------------------------------------------- stacks of a synth output

def split_stack(name: str) -> tuple[str, str]:
    """`<env>-<pillar>` → (env, pillar); env names may contain hyphens, pillars are known."""
    for pillar in STACK_ORDER:
        if name.endswith("-" + pillar) and len(name) > len(pillar) + 1:
            return name[: -len(pillar) - 1], pillar
    raise GateError(f"stack '{name}' is not named <env>-<pillar> (pillars: {', '.join(STACK_ORDER)})")


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateError(f"{what} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GateError(f"{what} is not readable JSON: {exc}") from None


def manifest_stacks(out_dir: Path) -> dict[str, Path]:
    """Stack name → its cdk.tf.json, from the CDKTF manifest."""
    manifest = _read_json(out_dir / MANIFEST, f"{out_dir.name}/{MANIFEST}")
    stacks = manifest.get("stacks") if isinstance(manifest, dict) else None
    if not isinstance(stacks, dict):
        raise GateError(f"{out_dir.name}/{MANIFEST} has no `stacks` mapping")
    out = {}
    for name, entry in stacks.items():
        rel = entry.get("synthesizedStackPath") if isinstance(entry, dict) else None
        if not rel:
            raise GateError(f"{out_dir.name}/{MANIFEST}: stack {name} has no synthesizedStackPath")
        out[name] = out_dir / rel
    return out


def check_fresh(out_dir: Path, configs: dict[str, Any]) -> None:
    """The output must come from these very configs, this generator and this toolchain: the rule the
    commands synthesize by (modules/synth_record.py), so the gate never judges what they would redo."""
    from modules.synth_record import why_stale

    stale = why_stale(out_dir, configs.values())
    if stale:
        raise GateError(f"{stale}: run `python main.py synth`")


# ---------------------------------------------------------------- resources

@dataclass
class _Resource:
    stack: str
    address: str
    construct_path: str
    suppressions: list[Suppression]


def _stack_resources(stack: str, doc: dict) -> dict[str, _Resource]:
    out: dict[str, _Resource] = {}
    for block, prefix in (("resource", ""), ("data", "data.")):
        for rtype, items in (doc.get(block) or {}).items():
            if not isinstance(items, dict):
                continue
            for name, conf in items.items():
                if name == "//":
                    continue
                address = f"{prefix}{rtype}.{name}"
                meta = ((conf or {}).get("//") or {}).get("metadata", {}) if isinstance(conf, dict) else {}
                out[address] = _Resource(stack, address, meta.get("path", f"{stack}/{name}"),
                                         inline_suppressions(stack, address, conf))
    return out


# ---------------------------------------------------------------- app-level checks

def load_app_checks() -> tuple[Callable, set[str]] | None:
    """(`policies.app_checks.run_app_checks`, the app-level check IDs it registers), or None while the
    package does not exist. Once it exists, failing to import it is an error, never a silent skip.
    """
    if not APP_CHECKS_DIR.exists():
        return None
    try:
        import policies.app_checks as package
        from policies.app_checks import run_app_checks
    except Exception as exc:
        raise GateError(f"app-level checks (policies/app_checks) failed to import: {type(exc).__name__}: {exc}") from exc
    return run_app_checks, set(getattr(package, "REGISTRY", {}) or ())


# ---------------------------------------------------------------- findings

def make_finding(catalog: Catalog, check_id: str, status: str, check_name: str, **where) -> Finding:
    rule = catalog.get(check_id)
    if rule:
        return Finding(check_id=check_id, status=status, severity=rule.severity, title=rule.title,
                       remediation=rule.remediation, controls={k: list(v) for k, v in rule.controls.items()},
                       check_pillar=rule.pillar, **where)
    return Finding(check_id=check_id, status=status, severity=UNCATALOGUED_SEVERITY, title=check_name,
                   remediation="Uncatalogued check: fix the resource, and add the check to policies/catalog.yaml "
                               "with a severity, remediation and controls.",
                   controls={}, catalogued=False, **where)


def verdict_of(findings: list[Finding], thresholds: dict[str | None, str]) -> int:
    blocking = False
    for finding in findings:
        threshold = thresholds.get(finding.env, PATH_MODE_THRESHOLD)
        finding.blocking = finding.status == FAILED and severity_rank(finding.severity) >= severity_rank(threshold)
        blocking |= finding.blocking
    return EXIT_FAIL if blocking else EXIT_PASS


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.env or "", f.stack, f.address, f.check_id))


def run_gate(out_dir: Path, env_names: list[str] | None = None, *, exceptions_file: Path | None = None,
             today: dt.date | None = None, environments_dir: Path | None = None,
             catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR, app_checks: bool = True,
             progress: Callable[[str], Any] | None = None, cache: bool = False) -> GateResult:
    """Judge an existing synth output folder (`manifest.json`, `aegis-synth.json`, `stacks/*/cdk.tf.json`).

    `checks_dir=None` / `app_checks=False` leave out the Aegis pack (tests of the engine itself).
    `cache=True` reuses checkov's scan of stacks whose inputs did not change (policies/gate_cache.py).
    """
    started = time.monotonic()
    out_dir = Path(out_dir)
    today = today or dt.date.today()
    result = GateResult(exit_code=EXIT_ERROR, target=display_path(out_dir))
    return _judged(result, started, lambda: _judge(
        result, out_dir, env_names, exceptions_file, today, environments_dir, catalog_file, checks_dir,
        app_checks, progress, cache))


def _judged(result: GateResult, started: float, judge: Callable[[], None]) -> GateResult:
    """Run `judge` into `result`; any error, expected or not, is an error verdict (fail closed)."""
    try:
        judge()
    except (GateError, ConfigError, scanner.ScanError) as exc:
        result.errors.append(str(exc))
        result.exit_code = EXIT_ERROR
    except Exception as exc:  # a bug must not look like a verdict
        result.errors.append(f"internal error: {type(exc).__name__}: {exc}")
        result.exit_code = EXIT_ERROR
    result.seconds = time.monotonic() - started
    return result


def _judge(result: GateResult, out_dir: Path, env_names, exceptions_file, today, environments_dir,
           catalog_file, checks_dir, app_checks, progress, cache=False) -> None:
    from modules.config import load_all

    catalog = result.catalog = load_catalog(catalog_file)
    all_stacks = manifest_stacks(out_dir)
    if env_names:
        envs = list(dict.fromkeys(env_names))
    else:
        from modules.synth import RECORD

        record = _read_json(out_dir / RECORD, f"{out_dir.name}/{RECORD} (written by `python main.py synth`)")
        envs = sorted((record or {}).get("environments", {})) if isinstance(record, dict) else []
        if not envs:
            raise GateError(f"{out_dir.name}/{RECORD} names no environment")
    configs = {c.name: c for c in load_all(envs, environments_dir)}
    check_fresh(out_dir, configs)
    result.thresholds = {name: c.gate.fail_on for name, c in configs.items()}

    stacks = {}
    for name, path in sorted(all_stacks.items()):
        env, _pillar = split_stack(name)
        if env in configs:
            stacks[name] = path
    for env in envs:
        if not any(split_stack(s)[0] == env for s in stacks):
            raise GateError(f"environment '{env}' has no stack in {out_dir.name}/{MANIFEST}")
    docs: dict[str, dict] = {}
    resources: dict[tuple[str, str], _Resource] = {}
    for name, path in stacks.items():
        doc = _read_json(path, f"stack {name} ({path.relative_to(out_dir).as_posix()})")
        if not isinstance(doc, dict):
            raise GateError(f"stack {name}: cdk.tf.json is not a JSON object")
        docs[name] = doc
        for address, res in _stack_resources(name, doc).items():
            resources[(name, address)] = res

    if progress:
        progress(f"checkov {scanner.CHECKOV_VERSION} on {len(stacks)} stacks, {len(resources)} resources")
    if cache:
        from policies.catalog import CATALOG_FILE
        from policies.gate_cache import GateCache
        from policies.suppressions import EXCEPTIONS_FILE

        store = GateCache(checks_dir, catalog_file or CATALOG_FILE, exceptions_file or EXCEPTIONS_FILE)
        scan = _scan_cached(stacks, checks_dir, store, configs)
        result.cache_note = store.note()
    else:
        scan = scanner.scan_json(list(stacks.values()), checks_dir)
    _check_scan_complete(scan, stacks, resources, out_dir)
    check_custom_loaded(catalog, scan, checks_dir)
    result.check_names = {**scan.builtin_checks, **scan.external_checks}

    by_file = {path.resolve(): name for name, path in stacks.items()}
    shown = {name: path.relative_to(out_dir).as_posix() for name, path in stacks.items()}  # once per stack
    findings: list[Finding] = []
    for raw in scan.results:
        stack = by_file.get(raw.file)
        if stack is None:
            raise GateError(f"checkov reported a result for a file it was not given: {raw.file.name}")
        env, pillar = split_stack(stack)
        res = resources.get((stack, raw.address))
        findings.append(make_finding(
            catalog, raw.check_id, PASSED if raw.passed else FAILED, raw.check_name, env=env, stack=stack,
            pillar=pillar, address=raw.address, construct_path=res.construct_path if res else stack,
            file=shown[stack], line=raw.lines[0] or None,
            end_line=raw.lines[1] or None, source="checkov", message=raw.check_name))

    app_ids: set[str] = set()
    app = load_app_checks() if app_checks else None
    if app is not None:
        run_app_checks, app_ids = app
        missing = sorted(i for i, rule in catalog.section("custom").items() if not rule.checkov and i not in app_ids)
        if app_ids and missing:
            raise GateError(f"app-level check(s) in the catalog are not registered in policies/app_checks: "
                            f"{', '.join(missing)}")
        try:
            app_findings = run_app_checks(docs, configs)
        except Exception as exc:
            raise GateError(f"app-level checks crashed: {type(exc).__name__}: {exc}") from exc
        for app in app_findings:
            if app.stack not in stacks:
                raise GateError(f"app-level check {app.check_id} reported on unknown stack '{app.stack}'")
            if app.address and (app.stack, app.address) not in resources:
                raise GateError(f"app-level check {app.check_id} reported on unknown resource "
                                f"{app.stack}/{app.address}")
            env, pillar = split_stack(app.stack)
            res = resources.get((app.stack, app.address))
            start, end = scan.lines.get((stacks[app.stack].resolve(), app.address), (0, 0))
            app_ids.add(app.check_id)
            findings.append(make_finding(
                catalog, app.check_id, PASSED if app.passed else FAILED, app.message, env=env, stack=app.stack,
                pillar=pillar, address=app.address, construct_path=res.construct_path if res else app.stack,
                file=shown[app.stack], line=start or 1, end_line=end or None,
                source="app", message=app.message))

    suppressions = [s for res in resources.values() for s in res.suppressions]
    exceptions = load_exceptions(exceptions_file)
    _check_exception_envs(exceptions, environments_dir)
    suppressions += [s for s in exceptions if in_scope(s, envs)]
    known = set(catalog.rules) | set(scan.builtin_checks) | set(scan.external_checks) | app_ids
    problems = apply_suppressions(findings, suppressions, known, today)
    result.findings = sort_findings(findings)
    result.suppressions = suppressions
    result.stacks = {name: len(scan.parsed.get(path.resolve(), ())) for name, path in stacks.items()}
    result.exit_code = verdict_of(result.findings, dict(result.thresholds))
    for item in problems:
        result.errors.append(f"suppression of {item.check_id} ({item.where}): {item.problem}")
    if result.errors:
        result.exit_code = EXIT_ERROR


def _scan_cached(stacks: dict[str, Path], checks_dir: Path | None, store, configs: dict[str, Any]) -> scanner.Scan:
    """The scan of every stack: from the cache where its key matches, checkov for the rest (checkov is
    not even imported when every stack and the check registry hit)."""
    from modules.synth import config_digest

    digests = {name: config_digest(config) for name, config in configs.items()}
    keys = {name: store.stack_key(path.read_bytes(), digests[split_stack(name)[0]]) for name, path in stacks.items()}
    parts = {name: store.load_scan(keys[name], name, path) for name, path in stacks.items()}
    missing = [name for name, part in parts.items() if part is None]
    registry = store.load_registry()
    if missing:
        fresh = scanner.scan_json([stacks[name] for name in missing], checks_dir)
        for name in missing:
            store.store_scan(keys[name], stacks[name], fresh)
        registry = (fresh.builtin_checks, fresh.external_checks)
        store.store_registry(*registry)
        parts.update({name: fresh for name in missing})
    elif registry is None:
        registry = (scanner.builtin_checks(), scanner.load_external(checks_dir) if checks_dir else {})
        store.store_registry(*registry)
    store.prune()
    scan = scanner.Scan(builtin_checks=dict(registry[0]), external_checks=dict(registry[1]))
    for part in {id(p): p for p in parts.values()}.values():
        scan.results += part.results
        scan.parsed.update(part.parsed)
        scan.lines.update(part.lines)
        scan.parsing_errors += part.parsing_errors
    return scan


def _check_exception_envs(exceptions: list[Suppression], environments_dir: Path | None) -> None:
    """An exception naming an environment that does not exist would silently never apply."""
    from modules.config import env_files, environments_dir as default_dir

    known = set(env_files(environments_dir or default_dir()))
    for item in exceptions:
        unknown = sorted(set(item.environments) - known - {"*"})
        if unknown:
            raise GateError(f"{item.where}: exception for {item.check_id} names unknown environment(s) "
                            f"{', '.join(unknown)} (have: {', '.join(sorted(known))})")


def _check_scan_complete(scan: scanner.Scan, stacks: dict[str, Path], resources: dict, out_dir: Path,
                         allow_empty: bool = False) -> None:
    if scan.parsing_errors:
        names = sorted(Path(p).resolve() for p in scan.parsing_errors)
        shown = ", ".join(_rel(p, out_dir) for p in names)
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


def check_custom_loaded(catalog: Catalog, scan: scanner.Scan, checks_dir: Path | None) -> None:
    if checks_dir is None:
        return
    missing = sorted(i for i, rule in catalog.section("custom").items()
                     if rule.checkov and i not in scan.external_checks)
    if missing:
        raise GateError(f"custom check(s) in the catalog did not load from policies/checks: {', '.join(missing)}")


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


# ---------------------------------------------------------------- `gate --path`: any Terraform folder

def run_path_gate(directory: Path, *, exceptions_file: Path | None = None, today: dt.date | None = None,
                  catalog_file: Path | None = None, checks_dir: Path | None = CHECKS_DIR) -> GateResult:
    """Judge a folder of hand-written Terraform (HCL `.tf` and/or `.tf.json`) at every severity."""
    started = time.monotonic()
    directory = Path(directory)
    today = today or dt.date.today()
    result = GateResult(exit_code=EXIT_ERROR, target=display_path(directory))
    return _judged(result, started, lambda: _judge_path(
        result, directory, exceptions_file, today, catalog_file, checks_dir))


def _terraform_files(directory: Path, suffix: str) -> list[Path]:
    return sorted(p for p in directory.rglob(f"*{suffix}")
                  if p.is_file() and ".terraform" not in p.parts and (suffix != ".tf" or p.suffix == ".tf"))


def _judge_path(result: GateResult, directory: Path, exceptions_file, today, catalog_file, checks_dir) -> None:
    if not directory.is_dir():
        raise GateError(f"{directory.name}: not a directory")
    catalog = result.catalog = load_catalog(catalog_file)
    json_files = _terraform_files(directory, ".tf.json")
    hcl_files = _terraform_files(directory, ".tf")
    if not json_files and not hcl_files:
        raise GateError(f"{directory.name}/ holds no Terraform (.tf or .tf.json) file")
    root = directory.resolve()

    def stack_of(path: Path) -> str:
        parent = path.resolve().parent.relative_to(root).as_posix()
        return parent if parent != "." else root.name

    resources: dict[tuple[str, str], _Resource] = {}
    scans = []
    if json_files:
        for path in json_files:
            doc = _read_json(path, path.relative_to(directory).as_posix())
            if not isinstance(doc, dict):
                raise GateError(f"{path.relative_to(directory).as_posix()} is not a JSON object")
            for address, res in _stack_resources(stack_of(path), doc).items():
                resources[(stack_of(path), address)] = res
        scan = scanner.scan_json(json_files, checks_dir)
        _check_scan_complete(scan, {p.relative_to(directory).as_posix(): p for p in json_files},
                             {(p.relative_to(directory).as_posix(), a): r for p in json_files
                              for (s, a), r in resources.items() if s == stack_of(p)},
                             directory, allow_empty=True)
        scans.append(scan)
    if hcl_files:
        scan = scanner.scan_hcl(directory, checks_dir)
        if scan.parsing_errors:
            names = ", ".join(_rel(Path(p), directory) for p in sorted(scan.parsing_errors))
            raise GateError(f"checkov could not parse {len(scan.parsing_errors)} file(s): {names}")
        scans.append(scan)
    if not any(scan.parsed.get(p.resolve()) for scan in scans for p in json_files + hcl_files):
        raise GateError("zero resources were scanned: nothing was judged")
    for scan in scans:
        check_custom_loaded(catalog, scan, checks_dir)
        result.check_names.update({**scan.builtin_checks, **scan.external_checks})

    findings: list[Finding] = []
    suppressions: list[Suppression] = [s for res in resources.values() for s in res.suppressions]
    for scan in scans:
        for raw in scan.results:
            stack = stack_of(raw.file)
            res = resources.get((stack, raw.address))
            finding = make_finding(catalog, raw.check_id, PASSED if raw.passed else FAILED, raw.check_name, env=None,
                               stack=stack, pillar="", address=raw.address,
                               construct_path=res.construct_path if res else raw.address,
                               file=_rel(raw.file, directory), line=raw.lines[0] or None,
                               end_line=raw.lines[1] or None, source="checkov", message=raw.check_name)
            if raw.skip_reason is not None:
                item = Suppression(raw.check_id, raw.skip_reason, "", "skip-comment", f"{stack}/{raw.address}",
                                   matched=[f"{stack}/{raw.address}"])
                finding.status, finding.suppression = "suppressed", item
                suppressions.append(item)
            findings.append(finding)
    result.stacks = {}
    for scan in scans:
        for path, addresses in scan.parsed.items():
            stack = stack_of(path)
            result.stacks[stack] = result.stacks.get(stack, 0) + len(addresses)
    suppressions += [s for s in load_exceptions(exceptions_file) if in_scope(s, [None])]
    known = set(catalog.rules) | set(result.check_names)
    problems = apply_suppressions(findings, [s for s in suppressions if s.origin != "skip-comment"], known, today)
    result.findings = sort_findings(findings)
    result.suppressions = suppressions
    result.exit_code = verdict_of(result.findings, {})
    for item in problems:
        result.errors.append(f"suppression of {item.check_id} ({item.where}): {item.problem}")
    if result.errors:
        result.exit_code = EXIT_ERROR


def display_path(path: Path) -> str:
    """A folder as reports show it: relative to the working directory when inside it, else its name."""
    try:
        rel = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        return rel if rel != "." else Path.cwd().name
    except ValueError:
        return Path(path).name
