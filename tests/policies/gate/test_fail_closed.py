"""Every way the gate could pass something it did not read ends in exit 2 with a clear message."""
from __future__ import annotations

import builtins
import datetime as dt
import json
import sys

import pytest

from modules.synth_record import RECORD
from policies import engine, scanner
from policies import gate as gate_module
from policies.gate import EXIT_ERROR, run_gate
from tests.policies.gate.conftest import bucket, stack_doc, write_out


def _run(out, exceptions, **kwargs):
    return run_gate(out, exceptions_file=exceptions, checks_dir=None, app_checks=False, **kwargs)


def _assert_error(result, *words):
    assert result.exit_code == EXIT_ERROR
    text = " ".join(result.errors)
    for word in words:
        assert word in text, text


def test_checkov_missing(small_out, no_exceptions, monkeypatch):
    real_import = builtins.__import__

    def no_checkov(name, *args, **kwargs):
        if name == "checkov" or name.startswith("checkov."):
            raise ModuleNotFoundError("No module named 'checkov'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_checkov)
    _assert_error(_run(small_out, no_exceptions), "checkov", "not importable")


def test_checkov_wrong_version(small_out, no_exceptions, monkeypatch):
    import checkov.version

    monkeypatch.setattr(checkov.version, "version", "3.2.0")
    _assert_error(_run(small_out, no_exceptions), "3.2.0", "pinned to 3.3.30")


def test_checkov_crash(small_out, no_exceptions, monkeypatch):
    from checkov.terraform_json.runner import TerraformJsonRunner

    def boom(self, *args, **kwargs):
        raise RuntimeError("graph builder exploded")

    monkeypatch.setattr(TerraformJsonRunner, "run", boom)
    _assert_error(_run(small_out, no_exceptions), "checkov crashed", "graph builder exploded")


def test_parsing_error(tmp_path, no_exceptions):
    # Valid JSON the gate can read, that checkov's terraform_json parser rejects.
    doc = stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}}, variable={"region": "not-a-block"})
    out = write_out(tmp_path, {"dev-data": doc})
    _assert_error(_run(out, no_exceptions), "could not parse 1 file", "stacks/dev-data/cdk.tf.json")


def test_stack_in_manifest_not_scanned(tmp_path, no_exceptions):
    # checkov only picks up *.tf.json: a stack file under another name would silently be skipped.
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    (out / "stacks/dev-data/cdk.tf.json").rename(out / "stacks/dev-data/cdk.json")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["stacks"]["dev-data"]["synthesizedStackPath"] = "stacks/dev-data/cdk.json"
    (out / "manifest.json").write_text(json.dumps(manifest))
    _assert_error(_run(out, no_exceptions), "dev-data is in the manifest but checkov did not scan it")


def test_stack_file_missing(tmp_path, no_exceptions):
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    (out / "stacks/dev-data/cdk.tf.json").unlink()
    _assert_error(_run(out, no_exceptions), "stack dev-data", "missing")


def test_resource_not_scanned(small_out, no_exceptions, monkeypatch):
    real = scanner.scan_json

    def lossy(files, external_dir=None, **options):
        scan = real(files, external_dir, **options)
        for addresses in scan.parsed.values():
            addresses.discard("aws_s3_bucket.b1")
        return scan

    monkeypatch.setattr(gate_module.scanner, "scan_json", lossy)
    _assert_error(_run(small_out, no_exceptions), "1 resource(s) were not scanned", "aws_s3_bucket.b1")


def test_zero_resources(tmp_path, no_exceptions):
    out = write_out(tmp_path, {"dev-data": stack_doc({}), "dev-access": stack_doc()})
    _assert_error(_run(out, no_exceptions), "zero resources were scanned")


def test_synth_output_older_than_config(small_out, no_exceptions):
    record = json.loads((small_out / RECORD).read_text())
    record["environments"]["dev"] = "0" * 64  # synthesized from a config that has since changed
    (small_out / RECORD).write_text(json.dumps(record))
    _assert_error(_run(small_out, no_exceptions), "older than its configuration", "python main.py synth")


@pytest.mark.parametrize("part, reason", [("generator", "the generator code (modules/) changed"),
                                          ("toolchain", "the toolchain (dependencies, Python or Node.js) changed")])
def test_synth_output_of_another_generator_or_toolchain(small_out, no_exceptions, part, reason):
    record = json.loads((small_out / RECORD).read_text())
    record[part] = "0" * 64  # what the commands would synthesize again, the gate does not judge
    (small_out / RECORD).write_text(json.dumps(record))
    _assert_error(_run(small_out, no_exceptions), reason, "python main.py synth")


def test_synth_output_without_record(tmp_path, no_exceptions):
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})}, record=False)
    _assert_error(_run(out, no_exceptions), RECORD, "missing")


def test_environment_not_synthesized(small_out, no_exceptions):
    _assert_error(_run(small_out, no_exceptions, env_names=["prod"]), "'prod' was not synthesized")


def test_missing_manifest(tmp_path, no_exceptions):
    (tmp_path / "empty").mkdir()
    _assert_error(_run(tmp_path / "empty", no_exceptions), "manifest.json is missing")


def test_broken_custom_check(small_out, no_exceptions, tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "aegis_fixture_broken_check.py").write_text("raise ImportError('half-written check')\n")
    result = run_gate(small_out, exceptions_file=no_exceptions, checks_dir=checks, app_checks=False)
    _assert_error(result, "did not load", "half-written check")


def test_catalogued_custom_check_that_did_not_load(small_out, no_exceptions, tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "builtin: {}\ncustom:\n  CKV_AEGIS_999:\n    title: A check that does not exist\n    severity: high\n"
        "    pillar: data\n    remediation: Nothing to remediate here.\n"
        '    controls: {hipaa: ["164.312(b)"], nist-800-53: [AU-2], gdpr: [Art. 32(1)(d)], cis: ["3.4"], '
        "iso27001: [A.8.15], pci-dss: [\"10.2.1\"]}\n")
    result = run_gate(small_out, exceptions_file=no_exceptions, checks_dir=checks, catalog_file=catalog,
                      app_checks=False)
    _assert_error(result, "CKV_AEGIS_999", "did not load")


def test_app_checks_import_error(small_out, no_exceptions, monkeypatch):
    monkeypatch.setitem(sys.modules, "policies.app_checks", None)  # import now raises ImportError
    result = run_gate(small_out, exceptions_file=no_exceptions, checks_dir=None)
    _assert_error(result, "app-level checks (policies/app_checks) failed to import")


def test_app_checks_crash(small_out, no_exceptions, monkeypatch):
    def crash(stacks, configs):
        raise KeyError("resource")

    registered = gate_module.load_app_checks()[1]
    monkeypatch.setattr(gate_module, "load_app_checks", lambda: (crash, registered))
    _assert_error(run_gate(small_out, exceptions_file=no_exceptions, checks_dir=None), "app-level checks crashed")


def test_app_checks_crash_while_a_prewarmed_process_scans(small_out, no_exceptions, monkeypatch):
    """The app-level checks run during the scan when it runs in the prewarmed process: a crash there is the
    same error, and the scan's process does not outlive the gate."""
    def crash(stacks, configs, view):
        raise KeyError("resource")

    registered = gate_module.load_app_checks()[1]
    monkeypatch.setattr(gate_module, "load_app_checks", lambda: (crash, registered))
    warm = scanner._prewarmed = scanner._Prewarmed(None)
    _assert_error(run_gate(small_out, exceptions_file=no_exceptions, checks_dir=None), "app-level checks crashed",
                  "KeyError")
    assert scanner._prewarmed is None and not warm.process.is_alive()


def test_attack_no_app_check_registered_skips_every_catalogued_app_check_is_refused(small_out, no_exceptions,
                                                                                    monkeypatch):
    """An app_checks package that registers nothing (a broken registry, an emptied __init__) must not turn
    every catalogued app-level check into a silent pass."""
    monkeypatch.setattr(gate_module, "load_app_checks", lambda: (lambda stacks, configs: [], set()))
    result = run_gate(small_out, exceptions_file=no_exceptions, checks_dir=None)
    _assert_error(result, "app-level check(s) in the catalog are not registered", "AEGIS_BUCKET_KEY_CLASS")


def test_bad_catalog_is_an_error(small_out, no_exceptions, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("builtin:\n  CKV_AWS_7:\n    title: x\n")
    result = run_gate(small_out, exceptions_file=no_exceptions, catalog_file=catalog, checks_dir=None,
                      app_checks=False)
    _assert_error(result, "catalog.yaml:2", "CKV_AWS_7", "'severity' is missing")


@pytest.mark.parametrize("problem", ["expired", "unused", "unknown"])
def test_suppression_problems_fail_closed(tmp_path, no_exceptions, problem):
    entry = {"id": "CKV_AWS_18", "reason": "Fixture: log target of itself, see the audit trail",
             "expires": (dt.date.today() + dt.timedelta(days=90)).isoformat()}
    if problem == "expired":
        entry["expires"] = "2020-01-01"
    elif problem == "unused":
        entry["id"] = "CKV_AWS_21"  # versioning: passes on this bucket, so nothing is suppressed
    else:
        entry["id"] = "CKV_AWS_99999"
    b1 = bucket("b1")
    b1["//"]["aegis_suppressions"] = [entry]
    versioning = {"aws_s3_bucket_versioning": {"v": {"bucket": "${aws_s3_bucket.b1.id}",
                                                     "versioning_configuration": {"status": "Enabled"}}}}
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": b1}, **versioning})})
    result = _run(out, no_exceptions)
    _assert_error(result, problem)
    assert result.suppressions[0].problem.startswith(problem)


def test_unexpected_exception_is_an_error_not_a_verdict(small_out, no_exceptions, monkeypatch):
    monkeypatch.setattr(engine, "verdict_of", lambda findings, thresholds: 1 / 0)
    _assert_error(_run(small_out, no_exceptions), "internal error", "ZeroDivisionError")


def test_exception_for_an_unknown_environment(small_out, tmp_path):
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n  - check: CKV_AWS_18\n    resource: aws_s3_bucket.b1\n    environments: [prd]\n"
        "    reason: Fixture with a typo in the environment name\n    owner: ml-platform\n    expires: 2099-01-01\n")
    _assert_error(_run(small_out, exceptions), "unknown environment(s) prd")
