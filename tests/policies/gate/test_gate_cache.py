"""Gate cache (policies/gate_cache.py): each input of a stack's scan changes its key, a hit gives the same
findings as a fresh scan without running checkov, suppressions and app-level checks are always judged
afresh, damaged entries are ignored, `--no-cache` scans anyway. Parallel and serial gates agree."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from policies import gate_cache, scanner
from policies.catalog import load_catalog
from policies.gate import run_gate
from tests.policies.gate.conftest import bucket, stack_doc, write_out
from tests.synthesized import record_stacks_as_synthesized

TODAY = dt.date(2026, 12, 1)  # the default app's suppressions expire within a year of it


@pytest.fixture
def two_stacks(tmp_path) -> Path:
    """Two dev stacks: a bucket that fails a few checks and one with an inline suppression."""
    suppressed = bucket("aegis-dev-b2")
    suppressed["//"]["aegis_suppressions"] = [{"id": "CKV_AWS_18", "reason": "access logs are the bucket's own "
                                                                                "target; logging it would loop",
                                                "expires": "2027-03-31"}]
    return write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}}),
                                "dev-access": stack_doc({"aws_s3_bucket": {"b2": suppressed}})})


@pytest.fixture
def scans(monkeypatch) -> list[list[str]]:
    """The stack files each checkov run was given."""
    calls: list[list[str]] = []
    real = scanner.scan_json

    def counting(files, *args, **kwargs):
        calls.append(sorted(Path(f).parent.name for f in files))
        return real(files, *args, **kwargs)

    monkeypatch.setattr(scanner, "scan_json", counting)
    return calls


def _view(result) -> list[tuple]:
    return [(f.env, f.stack, f.address, f.check_id, f.status, f.severity, f.blocking, f.line, f.end_line,
             f.message, f.suppression.reason if f.suppression else None) for f in result.findings]


def test_a_hit_gives_the_fresh_findings_without_checkov(two_stacks, private_cache, scans, no_exceptions):
    fresh = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY)
    first = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert "cache miss for 2 of 2 stacks" in first.cache_note
    second = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert second.cache_note == "cache hit (2 stacks, checkov not run)"
    assert scans == [["dev-access", "dev-data"], ["dev-access", "dev-data"]]  # the hit ran no scan
    assert fresh.errors == first.errors == second.errors == []
    assert _view(fresh) == _view(first) == _view(second)
    assert (fresh.exit_code, fresh.stacks, fresh.check_names) == (second.exit_code, second.stacks, second.check_names)
    assert any(f.status == "suppressed" for f in second.findings)


def test_a_changed_stack_misses_alone(two_stacks, private_cache, scans, no_exceptions):
    run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    path = two_stacks / "stacks" / "dev-data" / "cdk.tf.json"
    doc = json.loads(path.read_text())
    doc["resource"]["aws_s3_bucket"]["b1"]["force_destroy"] = True
    path.write_text(json.dumps(doc, indent=2))
    record_stacks_as_synthesized(two_stacks)
    result = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert scans[-1] == ["dev-data"]
    assert "cache miss for 1 of 2 stacks (scanned: dev-data)" in result.cache_note
    assert _view(result) == _view(run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY))


def test_each_input_changes_the_key(tmp_path, monkeypatch):
    catalog = tmp_path / "catalog.yaml"
    exceptions = tmp_path / "exceptions.yaml"
    checks = tmp_path / "checks"
    shutil.copy(gate_cache.POLICIES / "catalog.yaml", catalog)
    exceptions.write_text("exceptions: []\n")
    shutil.copytree(gate_cache.POLICIES / "checks", checks, ignore=shutil.ignore_patterns("__pycache__"))
    pack = tmp_path / "pack"
    shutil.copytree(gate_cache.POLICIES, pack / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(gate_cache, "POLICIES", pack / "policies")
    versions = {"checkov": "3.3.30", "pyyaml": "6.0.4"}
    monkeypatch.setattr(gate_cache, "_version", lambda dist: versions[dist])
    stack, config = b'{"resource": {}}', "c" * 64

    def key(stack_bytes=stack, config_digest=config) -> str:
        return gate_cache.GateCache(checks, catalog, exceptions).stack_key(stack_bytes, config_digest)

    seen = {key()}
    assert key() in seen  # stable

    def changed(label: str, value: str | None = None) -> None:
        new = value or key()
        assert new not in seen, f"{label} did not change the key"
        seen.add(new)

    changed("the stack JSON", key(stack_bytes=b'{"resource": {"x": {}}}'))
    changed("the environment (threshold and all)", key(config_digest="d" * 64))
    catalog.write_text(catalog.read_text().replace("severity: high", "severity: medium", 1))
    changed("the catalog")
    exceptions.write_text("exceptions:\n  - {check: CKV_AWS_18, reason: why not, expires: 2027-01-01}\n")
    changed("the exceptions file")
    (checks / "ecr_model_key.py").write_text((checks / "ecr_model_key.py").read_text() + "\n# changed\n")
    changed("a custom check")
    (pack / "policies" / "app_checks" / "base.py").write_text("# changed\n")
    changed("an app-level check")
    (pack / "policies" / "scan" / "patches.py").write_text("# changed\n")
    changed("the scanner's fixes to checkov")
    (pack / "policies" / "report" / "sarif.py").write_text("# changed\n")
    assert key() in seen  # report writers do not decide findings
    versions["checkov"] = "3.3.31"
    changed("the checkov version")
    versions["pyyaml"] = "6.0.5"
    changed("the PyYAML version")
    monkeypatch.setattr(gate_cache.platform, "python_version", lambda: "3.11.99")
    changed("the Python version")
    monkeypatch.setenv("CKV_FRAMEWORK", "terraform_json")
    changed("a checkov setting")
    assert gate_cache.GateCache(None, catalog, exceptions).stack_key(stack, config) not in seen  # no custom checks


def test_suppressions_and_app_checks_are_judged_on_every_run(two_stacks, private_cache, tmp_path, monkeypatch):
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions: []\n")
    before = run_gate(two_stacks, exceptions_file=exceptions, today=TODAY, cache=True)
    # The same cached scan, judged a year later: the inline suppression has expired since.
    later = run_gate(two_stacks, exceptions_file=exceptions, today=dt.date(2028, 1, 1), cache=True)
    assert "cache hit" in later.cache_note
    assert any("expired" in e for e in later.errors) and not before.errors

    import policies.gate as engine

    calls = []
    real = engine.load_app_checks

    def counting():
        calls.append(1)
        return real()

    monkeypatch.setattr(engine, "load_app_checks", counting)
    result = run_gate(two_stacks, exceptions_file=exceptions, today=TODAY, cache=True)
    assert "cache hit" in result.cache_note and calls == [1]
    assert any(f.source == "app" for f in result.findings)


def test_damaged_entries_are_ignored(two_stacks, private_cache, scans, no_exceptions):
    fresh = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    entries = sorted((private_cache / "gate").glob("*.json"))
    assert len(entries) == 3  # two stacks and the check registry
    for entry in entries:
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) - 40])  # truncated, as by a crash mid-write without the rename
    result = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert "cache miss for 2 of 2 stacks" in result.cache_note and "checksum mismatch" in result.cache_note
    assert _view(result) == _view(fresh) and len(scans) == 2
    again = run_gate(two_stacks, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert again.cache_note == "cache hit (2 stacks, checkov not run)"  # rewritten whole


def test_gate_cli_reports_hits_and_no_cache_scans(two_stacks, private_cache, scans, tmp_path, no_exceptions):
    args = ["gate", "--no-synth", "--env", "dev", "--synth-out", str(two_stacks), "--out", str(tmp_path / "r"),
            "--format", "json", "--exceptions", str(no_exceptions)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code in (0, 1) and "gate: cache miss for 2 of 2 stacks" in first.stderr
    second = CliRunner().invoke(cli, args + ["--format", "sarif"])  # another run (formats), the same scans
    assert "gate: cache hit (2 stacks, checkov not run)" in second.stderr and len(scans) == 1
    forced = CliRunner().invoke(cli, args + ["--no-cache"])  # reads nothing, replaces every entry
    assert forced.exit_code == first.exit_code and len(scans) == 2
    assert "gate: cache refreshed (2 stacks scanned, entries replaced)" in forced.stderr
    assert "cache hit" not in forced.stderr


def test_parallel_and_serial_gates_agree(synthesized, no_exceptions, monkeypatch):
    results = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("AEGIS_GATE_WORKERS", workers)
        results[workers] = run_gate(synthesized.out, ["dev"], exceptions_file=no_exceptions, today=TODAY)
    serial, parallel = results["1"], results["2"]
    assert serial.errors == parallel.errors == []
    assert [dataclasses.asdict(f) for f in serial.findings] == [dataclasses.asdict(f) for f in parallel.findings]
    assert (serial.exit_code, serial.stacks) == (parallel.exit_code, parallel.stacks)


def test_an_unchanged_run_reuses_verdict_and_reports(two_stacks, private_cache, scans, tmp_path, no_exceptions):
    reports = tmp_path / "r"
    args = ["gate", "--no-synth", "--env", "dev", "--synth-out", str(two_stacks), "--out", str(reports),
            "--format", "json", "--format", "sarif", "--exceptions", str(no_exceptions)]
    first = CliRunner().invoke(cli, args)
    written = {p.name: p.read_bytes() for p in reports.iterdir()}
    second = CliRunner().invoke(cli, args)
    assert "gate: cache hit (nothing changed since the last gate" in second.stderr and len(scans) == 1
    assert second.exit_code == first.exit_code and second.stdout.splitlines()[0] == first.stdout.splitlines()[0]
    assert {p.name: p.read_bytes() for p in reports.iterdir()} == written
    (reports / "aegis-gate.json").write_text("{}")  # a damaged report is written again from the kept result
    CliRunner().invoke(cli, args)
    assert (reports / "aegis-gate.json").read_bytes() == written["aegis-gate.json"] and len(scans) == 1
    (two_stacks / "stacks" / "dev-access" / "cdk.tf.json").write_text(
        (two_stacks / "stacks" / "dev-access" / "cdk.tf.json").read_text() + "\n")  # any input: a new run
    record_stacks_as_synthesized(two_stacks)
    third = CliRunner().invoke(cli, args)
    assert "gate: cache miss for 1 of 2 stacks" in third.stderr and scans[-1] == ["dev-access"]
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions: []\n# reviewed\n")
    fourth = CliRunner().invoke(cli, args[:-1] + [str(exceptions)])
    assert "cache miss for 2 of 2 stacks" in fourth.stderr  # the exceptions file is part of every key


def test_run_keys_cover_the_date_the_reports_and_the_output(two_stacks, tmp_path, monkeypatch):
    from modules.config import load_all
    from policies.gate_cache import GateCache
    from policies.run_memo import RunMemo

    store = GateCache(None, gate_cache.POLICIES / "catalog.yaml", tmp_path / "none.yaml")
    configs = {c.name: c for c in load_all(("dev",))}

    def key(today=TODAY, formats=("json",), target="cdktf.out") -> str:
        return RunMemo.for_run(store, two_stacks, configs, None, today, list(formats), target).key

    base = key()
    assert key() == base
    assert key(today=dt.date(2026, 6, 2)) != base  # suppressions expire by the day
    assert key(formats=("json", "html")) != base and key(target="other.out") != base
    (two_stacks / "aegis-synth.json").write_text((two_stacks / "aegis-synth.json").read_text() + " ")
    assert key() != base  # every file of the synth output
    report = tmp_path / "report"
    shutil.copytree(gate_cache.POLICIES / "report", report, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(gate_cache, "POLICIES", tmp_path)
    changed = key()
    (report / "markdown.py").write_text("# changed\n")
    assert key() != changed  # the report writers


def test_a_prewarmed_scan_equals_a_local_one(two_stacks):
    files = sorted(two_stacks.rglob("cdk.tf.json"))
    local = scanner.scan_json(files, gate_cache.POLICIES / "checks", workers=1)
    scanner._prewarmed = scanner._Prewarmed(gate_cache.POLICIES / "checks")
    warm = scanner.scan_json(files, gate_cache.POLICIES / "checks")
    assert scanner._prewarmed is None  # used once
    key = lambda r: (str(r.file), r.address, r.check_id)  # noqa: E731
    assert sorted(local.results, key=key) == sorted(warm.results, key=key)
    assert (local.parsed, local.lines, local.builtin_checks, local.external_checks) == (
        warm.parsed, warm.lines, warm.builtin_checks, warm.external_checks)


def test_work_meanwhile_runs_while_the_prewarmed_process_scans(two_stacks):
    files = sorted(two_stacks.rglob("cdk.tf.json"))
    warm = scanner._prewarmed = scanner._Prewarmed(gate_cache.POLICIES / "checks")
    seen = []

    class Recorded:  # the pipe to the prewarmed process, noting when the request goes and the answer comes
        def __init__(self, conn):
            self.conn = conn

        def send(self, value):
            seen.append("request sent")
            self.conn.send(value)

        def recv(self):
            seen.append("answer read")
            return self.conn.recv()

        def close(self):
            self.conn.close()

    warm.conn = Recorded(warm.conn)
    scan = scanner.scan_json(files, gate_cache.POLICIES / "checks", meanwhile=lambda: seen.append("meanwhile"))
    assert seen == ["request sent", "meanwhile", "answer read"]  # the other process scans while this one works
    assert set(scan.parsed) == {f.resolve() for f in files} and scan.results
    assert not warm.process.is_alive()


def test_work_meanwhile_runs_once_without_a_prewarmed_process(two_stacks):
    seen = []
    scan = scanner.scan_json(sorted(two_stacks.rglob("cdk.tf.json")), workers=1, meanwhile=lambda: seen.append(1))
    assert seen == [1] and scan.results


def test_work_meanwhile_that_fails_stops_the_prewarmed_scan(two_stacks):
    warm = scanner._prewarmed = scanner._Prewarmed(None)

    def meanwhile():
        raise KeyboardInterrupt  # e.g. Ctrl-C while the app-level checks run

    with pytest.raises(KeyboardInterrupt):
        scanner.scan_json(sorted(two_stacks.rglob("cdk.tf.json")), meanwhile=meanwhile)
    assert not warm.process.is_alive() and scanner._prewarmed is None


def test_a_dying_prewarmed_process_is_an_error(two_stacks):
    warm = scanner._Prewarmed(None)
    warm.process.kill()
    warm.process.join()
    scanner._prewarmed = warm
    with pytest.raises(scanner.ScanError, match="worker died"):
        scanner.scan_json(sorted(two_stacks.rglob("cdk.tf.json")))
    unused = scanner._Prewarmed(None)
    unused.close(wait=0)  # an unused one is stopped at once
    assert not unused.process.is_alive()


def test_an_unchanged_run_parses_the_catalog_only_to_write_a_report_again(two_stacks, private_cache, scans, tmp_path,
                                                                           no_exceptions, monkeypatch):
    from policies import run_memo

    reports = tmp_path / "r"
    args = ["gate", "--no-synth", "--env", "dev", "--synth-out", str(two_stacks), "--out", str(reports),
            "--format", "html", "--exceptions", str(no_exceptions)]
    CliRunner().invoke(cli, args)
    written = (reports / "aegis-gate.html").read_bytes()
    parsed = []
    monkeypatch.setattr(run_memo, "load_catalog", lambda path: parsed.append(path) or load_catalog(path))
    assert "cache hit" in CliRunner().invoke(cli, args).stderr and parsed == []  # nothing to write: not parsed
    (reports / "aegis-gate.html").write_text("damaged")
    assert "cache hit" in CliRunner().invoke(cli, args).stderr and len(parsed) == 1 and len(scans) == 1
    # The catalog's rules, as the first run wrote them (the report's generation time aside).
    stamp = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert stamp.sub(b"T", (reports / "aegis-gate.html").read_bytes()) == stamp.sub(b"T", written)
