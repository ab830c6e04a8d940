"""The README's plain-checkov recipe works as written: `checkov-copy`, then checkov offline on the copy.

Plain checkov on the synth output itself parses no stack (`terraform.required_version`), checks nothing
and exits 0; the recipe's copy must be parsed whole and its resources checked, by the built-in checks
and the Aegis pack, with no network."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.policies.gate.conftest import bucket, stack_doc, write_out

ROOT = Path(__file__).resolve().parents[3]
# The recipe as README.md "Plain checkov" gives it (a test below keeps the two equal).
COPY = "python main.py checkov-copy checkov-in"
SCAN = ("CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE \\\n"
        "  checkov -d checkov-in --framework terraform_json --external-checks-dir policies/checks --skip-download")


def test_the_readme_gives_this_recipe():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert COPY in readme and SCAN in readme


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("recipe")
    out = write_out(work, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")},
                                                   "aws_kms_key": {"k": {"policy": "{}"}}})})
    copy, scan = shlex.split(COPY), shlex.split(SCAN.replace("\\\n", ""))
    env = dict(os.environ)
    while "=" in scan[0]:  # the environment assignments in front of the command
        key, value = scan.pop(0).split("=", 1)
        env[key] = value
    dest = work / copy[-1]
    made = subprocess.run([sys.executable, str(ROOT / "main.py"), *copy[2:-1], str(dest), "--synth-out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert made.returncode == 0, made.stderr
    scan = [str(Path(sys.executable).parent / "checkov"), *scan[1:]]
    scan[scan.index("checkov-in")] = str(dest)
    proc = subprocess.run([*scan, "-o", "json", "--compact"], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    return out, dest, proc


def test_the_recipe_checks_every_stack_offline(recipe_run):
    out, dest, proc = recipe_run
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] == 0
    results = report["results"]["passed_checks"] + report["results"]["failed_checks"]
    checked = {r["resource"] for r in results}
    assert {"aws_s3_bucket.b1", "aws_kms_key.k"} <= checked
    assert any(r["check_id"].startswith("CKV_AWS_") for r in results)
    assert any("AEGIS" in r["check_id"] for r in results)  # the pack loaded from policies/checks
    assert "Traceback" not in proc.stderr and "ConnectionError" not in proc.stderr  # no network tried
    # The copy differs from the synth output only by the key checkov cannot parse.
    original = json.loads((out / "stacks" / "dev-data" / "cdk.tf.json").read_text())
    copied = json.loads((dest / "stacks" / "dev-data" / "cdk.tf.json").read_text())
    assert original["terraform"].pop("required_version") == ">= 1.10"
    assert copied == original


def test_plain_checkov_on_the_output_itself_checks_nothing(recipe_run):
    """Why the copy exists (checkov 3.3.30): pinned so the recipe can go once checkov parses the key."""
    out, _dest, _proc = recipe_run
    env = dict(os.environ, CKV_SKIP_PACKAGE_UPDATE_CHECK="true", BC_SKIP_MAPPING="TRUE")
    proc = subprocess.run([str(Path(sys.executable).parent / "checkov"), "-d", str(out), "--framework",
                           "terraform_json", "--skip-download", "-o", "json", "--compact"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["parsing_errors"] >= 1 and report["summary"]["passed"] == 0


def test_checkov_copy_refuses_to_write_over_or_into_the_output(recipe_run, tmp_path):
    from click.testing import CliRunner

    from main import cli

    out, _dest, _proc = recipe_run
    for dest in (out, out / "stacks" / "copy"):
        result = CliRunner().invoke(cli, ["checkov-copy", str(dest), "--synth-out", str(out)])
        assert result.exit_code == 2 and "write the copy elsewhere" in result.output
    assert (out / "stacks" / "dev-data" / "cdk.tf.json").is_file()
    missing = CliRunner().invoke(cli, ["checkov-copy", str(tmp_path / "copy"), "--synth-out", str(tmp_path / "none")])
    assert missing.exit_code == 2 and not (tmp_path / "copy").exists()
