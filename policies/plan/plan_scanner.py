"""checkov's `terraform_plan` framework over plan JSON files, in this process and offline.

An adapter beside `policies.scanner` (which scans CDKTF JSON and HCL): same pinned checkov, same
offline settings (importing `policies.scanner` sets them before checkov loads), same external
checks folder and built-in check registry, same `Scan` result, so the plan gate judges with
exactly the pack the synth gate uses. checkov reads `planned_values` (with `configuration`
references and `resource_changes` actions) and reports each resource under its plan address.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from policies import scanner
from policies.scan.checked_run import checked_run


def _parsed(definition: dict[str, Any]) -> set[str]:
    from checkov.terraform.plan_parser import TF_PLAN_RESOURCE_ADDRESS

    out = set()
    for block_type in ("resource", "data"):
        for entity in definition.get(block_type, []) or []:
            for _rtype, named in entity.items():
                for _name, conf in named.items():
                    address = conf.get(TF_PLAN_RESOURCE_ADDRESS) if isinstance(conf, dict) else None
                    if address:
                        out.add(address)
    return out


# Listing the registered checks resolves ~3,000 source paths (about a second): once per process.
# Built-in checks never change after import; an external dir's checks are fixed once loaded.
_listed: dict[str, dict[str, str]] = {}


def _checks(key: str, list_them) -> dict[str, str]:
    if key not in _listed:
        _listed[key] = list_them()
    return dict(_listed[key])


def scan_plans(files: list[Path], external_dir: Path | None = None) -> scanner.Scan:
    """Scan plan JSON files with every built-in check plus the external dir."""
    external = (_checks(str(Path(external_dir).resolve()), lambda: scanner.load_external(external_dir))
                if external_dir else {})  # also imports and pins checkov
    builtin = _checks("builtin", scanner.builtin_checks)
    from checkov.common.models.enums import CheckResult
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.plan_runner import Runner

    files = [Path(f).resolve() for f in files]
    runner = Runner()
    report = checked_run(lambda: runner.run(root_folder=None, files=[str(f) for f in files], runner_filter=RunnerFilter(
        framework=["terraform_plan"], show_progress_bar=False)), "the plan", "checkov crashed on the plan")
    if isinstance(report, list):  # pragma: no cover - only with the image referencer, which is off
        report = report[0]
    scan = scanner.Scan(builtin_checks=builtin, external_checks=dict(external))
    scan.parsing_errors = [str(p) for p in report.parsing_errors]
    for path, definition in (runner.definitions or {}).items():
        scan.parsed[Path(getattr(path, "file_path", path)).resolve()] = _parsed(definition)
    wanted = set(builtin) | set(external)
    for records, status in ((report.passed_checks, CheckResult.PASSED), (report.failed_checks, CheckResult.FAILED)):
        for record in records:
            if record.check_id not in wanted:
                continue  # a check another external dir loaded earlier in this process
            start, end = record.file_line_range
            scan.results.append(scanner.RawResult(
                check_id=record.check_id, check_name=record.check_name, passed=status == CheckResult.PASSED,
                file=Path(record.file_abs_path).resolve(), address=record.resource, lines=(start, end)))
    return scan
