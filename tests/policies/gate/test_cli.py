"""`python main.py gate` / `checks` end to end (click runner, in process): exit codes, reports,
fail-closed freshness, `--path` on hand-written Terraform."""
from __future__ import annotations

import json

from click.testing import CliRunner

from main import cli
from modules.synth_record import RECORD
from tests.policies.gate.conftest import bucket, stack_doc, write_out


def _invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_gate_no_synth_judges_and_writes_every_report(app_copy, tmp_path, app_gate, no_exceptions):
    reports = tmp_path / "reports"
    result = _invoke("gate", "--no-synth", "--synth-out", str(app_copy), "--out", str(reports),
                     "--exceptions", str(no_exceptions))
    assert result.exit_code == app_gate.exit_code, result.output
    assert "Aegis gate:" in result.output
    names = {p.name for p in reports.iterdir()}
    assert {"aegis-gate.json", "aegis-gate.sarif", "aegis-gate.junit.xml", "aegis-gate.md"} <= names
    doc = json.loads((reports / "aegis-gate.json").read_text())
    assert doc["exit_code"] == result.exit_code and doc["target"] == app_copy.name


def test_gate_no_synth_refuses_a_stale_output(app_copy, tmp_path):
    record = json.loads((app_copy / RECORD).read_text())
    record["environments"]["dev"] = "f" * 64
    (app_copy / RECORD).write_text(json.dumps(record))
    result = _invoke("gate", "--no-synth", "--synth-out", str(app_copy), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "changed since" in result.output and "python main.py synth" in result.output


def test_gate_one_format_one_env(app_copy, tmp_path, no_exceptions):
    reports = tmp_path / "reports"
    result = _invoke("gate", "--no-synth", "--synth-out", str(app_copy), "--env", "dev", "--format", "sarif",
                     "--out", str(reports), "--exceptions", str(no_exceptions))
    assert result.exit_code in (0, 1), result.output
    assert [p.name for p in reports.iterdir()] == ["aegis-gate.sarif"]
    assert "dev ≥ high" in result.output and "prod" not in result.output.split("\n")[2]


def test_gate_path_judges_hcl(tmp_path):
    tf = tmp_path / "tf"
    tf.mkdir()
    (tf / "main.tf").write_text(
        'resource "aws_security_group" "open" {\n  name = "open"\n  description = "fixture"\n'
        '  ingress {\n    from_port = 22\n    to_port = 22\n    protocol = "tcp"\n'
        '    cidr_blocks = ["0.0.0.0/0"]\n    description = "ssh"\n  }\n}\n')
    result = _invoke("gate", "--path", str(tf), "--out", str(tmp_path / "r"), "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "r" / "aegis-gate.json").read_text())
    failed = {f["check_id"] for f in doc["findings"] if f["status"] == "failed"}
    assert "CKV_AWS_24" in failed
    assert {f["file"] for f in doc["findings"]} == {"main.tf"}


def test_gate_path_judges_tf_json_with_required_version(tmp_path):
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})}, record=False)
    result = _invoke("gate", "--path", str(out / "stacks"), "--out", str(tmp_path / "r"), "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads((tmp_path / "r" / "aegis-gate.json").read_text())
    assert doc["stacks"] == {"dev-data": 1}
    assert "CKV_AWS_145" in {f["check_id"] for f in doc["findings"] if f["status"] == "failed"}


def test_gate_path_without_terraform_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = _invoke("gate", "--path", str(tmp_path / "empty"), "--out", str(tmp_path / "r"))
    assert result.exit_code == 2 and "no Terraform" in result.output


def test_checks_lists_the_catalog():
    result = _invoke("checks", "--section", "builtin", "--severity", "critical")
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert lines and all(" critical " in f" {line} " for line in lines if line.startswith("CKV"))
    assert any(line.startswith("CKV_AWS_41 ") for line in lines)


def test_checks_lists_the_plan_checks_too():
    from policies.plan.plan_checks import all_checks

    result = _invoke("checks", "--section", "plan")
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.strip().splitlines() if line.startswith("AEGIS_PLAN_")}
    assert listed == {c.id for c in all_checks()}
    everything = _invoke("checks").output
    assert "AEGIS_PLAN_STATEFUL_DELETE " in everything and "CKV_AWS_41 " in everything
