"""`evidence`: the record built from a gate result (per framework and control: checks, every resource with
its result and location, suppressions, runtime Config rules), its CSV and HTML, the signature and
`--verify`, and refusing to write evidence from a gate that did not complete."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modules.config import load_env
from policies.evidence import files, record
from policies.evidence.verify import TAMPERED, UNVERIFIABLE, VALID, verify
from policies.findings import Finding, Suppression
from policies.gate_result import GateResult

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)
KEY = "evidence-test-key"
SYNTH = {"generator": "g" * 64, "toolchain": "t" * 64, "environments": {"prod": "c" * 64},
         "stacks": {"prod-data": "d" * 64, "dev-data": "e" * 64}}


def finding(check: str, status: str, address: str, controls: dict, suppression: Suppression | None = None,
            message: str = "") -> Finding:
    return Finding(check_id=check, status=status, severity="high", env="prod", stack="prod-data", pillar="data",
                   address=address, construct_path=f"prod-data/{address}", title=f"{check} title", remediation="fix",
                   controls=controls, file="stacks/prod-data/cdk.tf.json", line=12, message=message,
                   suppression=suppression)


SUPPRESSION = Suppression(check_id="CKV_AWS_18", reason="Log target: logging it would loop", expires="2027-11-30",
                          origin="exceptions", where="policies/exceptions.yaml:4", owner="data-team",
                          approver="security-lead")


def gate(*extra: Finding, errors: list[str] | None = None, exit_code: int = 0) -> GateResult:
    findings = [
        finding("CKV_AWS_18", "passed", "aws_s3_bucket.datasets", {"hipaa": ["164.312(b)"], "gdpr": ["Art.5(2)"]}),
        finding("CKV_AWS_18", "suppressed", "aws_s3_bucket.logs", {"hipaa": ["164.312(b)"]}, SUPPRESSION),
        finding("CKV_AWS_19", "failed", "aws_s3_bucket.logs", {"hipaa": ["164.312(a)(2)(iv)"]},
                message="<script>alert(1)</script>"),
        *extra]
    return GateResult(exit_code=exit_code, findings=findings, errors=errors or [], thresholds={"prod": "low"},
                      target="cdktf.out")


def built(result: GateResult | None = None, frameworks: tuple[str, ...] = ("hipaa",)) -> dict:
    return record.build(result or gate(), load_env("prod"), list(frameworks), synth_record=SYNTH, now=NOW)


def test_each_control_lists_its_checks_resources_suppressions_and_runtime_rules():
    controls = built()["frameworks"]["hipaa"]["controls"]
    logging = controls["164.312(b)"]
    (check,) = logging["checks"]
    assert (check["id"], check["passed"], check["suppressed"], check["failed"]) == ("CKV_AWS_18", 1, 1, 0)
    assert [(r["resource"], r["result"], r["file"], r["line"]) for r in check["resources"]] == [
        ("prod-data/aws_s3_bucket.datasets", "passed", "stacks/prod-data/cdk.tf.json", 12),
        ("prod-data/aws_s3_bucket.logs", "suppressed", "stacks/prod-data/cdk.tf.json", 12)]
    (why,) = logging["suppressions"]
    assert (why["reason"], why["owner"], why["approver"], why["expires"]) == (
        SUPPRESSION.reason, "data-team", "security-lead", "2027-11-30")
    # prod deploys the HIPAA pack: the rules mapped to the control watch it at runtime
    assert "CLOUD_TRAIL_ENABLED" in {r["identifier"] for r in logging["config_rules"]}
    # a control only the pack watches is still listed, with no check
    assert any(not entry["checks"] and entry["config_rules"] for entry in controls.values())


def test_record_names_gate_catalog_synth_and_time_and_only_this_environment():
    data = built()
    assert data["generated_at"] == "2026-12-03T12:00:00Z"
    assert data["gate"]["verdict"] == "pass" and data["environment"]["threshold"] == "low"
    assert len(data["catalog"]["sha256"]) == 64
    assert data["synth"]["stacks"] == {"prod-data": "d" * 64} and data["synth"]["config"] == "c" * 64
    assert data["aws_artifact"]["url"].startswith("https://console.aws.amazon.com/artifact/")


def test_framework_the_environment_does_not_deploy_has_no_runtime_rules():
    data = built(frameworks=("iso27001",))
    assert all(not entry["config_rules"] for entry in data["frameworks"]["iso27001"]["controls"].values())


def test_same_inputs_give_the_same_bytes():
    assert files.finish(built(), KEY)[1] == files.finish(built(), KEY)[1]


def test_csv_has_one_row_per_control_check_and_resource():
    data = built(frameworks=("hipaa", "gdpr"))
    rows = list(csv.DictReader(io.StringIO(files.render_csv(data))))
    assert [(r["framework"], r["control"], r["check"], r["resource"], r["result"]) for r in rows] == [
        ("hipaa", "164.312(a)(2)(iv)", "CKV_AWS_19", "prod-data/aws_s3_bucket.logs", "failed"),
        ("hipaa", "164.312(b)", "CKV_AWS_18", "prod-data/aws_s3_bucket.datasets", "passed"),
        ("hipaa", "164.312(b)", "CKV_AWS_18", "prod-data/aws_s3_bucket.logs", "suppressed"),
        ("gdpr", "Art.5(2)", "CKV_AWS_18", "prod-data/aws_s3_bucket.datasets", "passed")]
    suppressed = rows[2]
    assert (suppressed["suppression_owner"], suppressed["suppression_approver"]) == ("data-team", "security-lead")
    assert "CLOUD_TRAIL_ENABLED" in suppressed["config_rules"].split()


def test_csv_cells_from_the_judged_code_never_start_a_formula():
    data = built(gate(finding("CKV_AWS_21", "failed", "=HYPERLINK(\"http://x\")", {"hipaa": ["164.312(c)(1)"]})))
    (row,) = [r for r in csv.DictReader(io.StringIO(files.render_csv(data))) if r["check"] == "CKV_AWS_21"]
    assert row["resource"] == "prod-data/=HYPERLINK(\"http://x\")"  # not at the start: left as it is
    data["frameworks"]["hipaa"]["controls"]["164.312(c)(1)"]["checks"][0]["resources"][0]["resource"] = "=1+1"
    (row,) = [r for r in csv.DictReader(io.StringIO(files.render_csv(data))) if r["check"] == "CKV_AWS_21"]
    assert row["resource"] == "'=1+1"


def test_html_is_self_contained_and_escapes_what_the_judged_code_says():
    page = files.render_html(built(), signed=False)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<link" not in page and "src=" not in page  # nothing fetched
    assert "not signed" in page


@pytest.mark.parametrize("errors, exit_code", [(["checkov crashed on prod-data"], 2), ([], 2)])
def test_no_evidence_from_a_gate_that_did_not_complete(errors, exit_code):
    with pytest.raises(record.EvidenceError, match="did not complete"):
        built(gate(errors=errors, exit_code=exit_code))


def test_unknown_framework_is_refused():
    with pytest.raises(record.EvidenceError, match="unknown framework"):
        record.frameworks_of(load_env("prod"), ["sox"])


def written(tmp_path: Path, key: str | None) -> dict[str, Path]:
    return files.write(built(), tmp_path, key)


@pytest.mark.parametrize("kind", ["json", "csv", "html"])
def test_signed_evidence_verifies_and_a_changed_byte_does_not(tmp_path, kind):
    paths = written(tmp_path, KEY)
    assert verify(paths[kind], KEY)[0] == VALID
    data = bytearray(paths[kind].read_bytes())
    position = data.index(b"prod-data/aws_s3_bucket.logs") + len("prod-data/aws_s3_bucket.")
    data[position] = ord("L")  # still readable, one byte different
    paths[kind].write_bytes(bytes(data))
    code, line = verify(paths[kind], KEY)
    assert code == TAMPERED, line


def test_another_key_is_tampering(tmp_path):
    assert verify(written(tmp_path, KEY)["json"], "another-key")[0] == TAMPERED


def test_unsigned_evidence_says_so(tmp_path):
    paths = written(tmp_path, None)
    assert json.loads(paths["json"].read_text())["signature"] is None
    code, line = verify(paths["csv"], KEY)
    assert code == UNVERIFIABLE and "not signed" in line


@pytest.mark.parametrize("setup, fragment", [
    (lambda p: None, "is not set"),  # signed, but verified without a key
    (lambda p: p["json"].write_text("{not json"), "not readable JSON"),
    (lambda p: p["json"].unlink(), "cannot read"),
])
def test_what_cannot_be_checked_is_not_called_valid(tmp_path, setup, fragment):
    paths = written(tmp_path, KEY)
    setup(paths)
    code, line = verify(paths["csv"], None if fragment == "is not set" else KEY)
    assert code == UNVERIFIABLE and fragment in line


def cli(*args: str, env: dict | None = None):
    from main import cli as main_cli

    return CliRunner().invoke(main_cli, ["evidence", *args], env=env or {}, catch_exceptions=False)


def test_cli_verify_exit_codes(tmp_path):
    paths = written(tmp_path, KEY)
    assert cli("--verify", str(paths["html"]), env={"AEGIS_ATTESTATION_KEY": KEY}).exit_code == 0
    paths["html"].write_text(paths["html"].read_text().replace("164.312(b)", "164.312(c)"))
    assert cli("--verify", str(paths["html"]), env={"AEGIS_ATTESTATION_KEY": KEY}).exit_code == 1
    assert cli("--verify", str(paths["json"]), env={"AEGIS_ATTESTATION_KEY": ""}).exit_code == 2


def test_cli_refuses_without_an_environment_or_with_an_unknown_framework(tmp_path):
    assert cli("--out", str(tmp_path)).exit_code == 2
    result = cli("--env", "prod", "--framework", "sox", "--out", str(tmp_path))
    assert result.exit_code == 2 and not any(tmp_path.iterdir())


def test_evidence_of_the_default_app(app_gate):
    """From the real gate result: every HIPAA control the catalog maps has judged resources."""
    data = record.build(app_gate, load_env("prod"), ["hipaa", "pci-dss"], synth_record=SYNTH, now=NOW)
    hipaa = data["frameworks"]["hipaa"]["controls"]
    judged = [entry for entry in hipaa.values() if entry["checks"]]
    assert len(judged) > 20
    assert all(r["file"].startswith("stacks/prod-") for entry in judged for c in entry["checks"]
               for r in c["resources"])
    assert any(entry["suppressions"] for entry in hipaa.values())
    assert data["frameworks"]["pci-dss"]["controls"], "PCI is evidenced at least by its runtime rules"
