"""CI files: the GitHub workflows pass the GitHub workflow JSON schema (vendored by the pinned
check-jsonschema, offline) and do what the README promises; the pre-commit files are well-formed
and their gate hooks call options the CLI has."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.policies.report.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PR = WORKFLOWS / "aegis-pr.yml"
MAIN = WORKFLOWS / "aegis-plan.yml"
PROMOTE = WORKFLOWS / "aegis-promote.yml"


def check_schema(*files: Path, schema: str = "vendor.github-workflows") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    doc = yaml.safe_load(path.read_text())
    return {("on" if k is True else k): v for k, v in doc.items()}


def steps(job: dict) -> list[dict]:
    return job["steps"]


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]


def test_workflows_pass_the_github_workflow_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files == sorted([PR, MAIN, PROMOTE])
    for schema in ("vendor.github-workflows", "custom.github-workflows-require-timeout"):
        run = check_schema(*files, schema=schema)
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: [pull_request]\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
                      "      - uses: actions/checkout@v4\n        run: echo both\n")
    run = check_schema(broken)
    assert run.returncode != 0


def test_pull_request_workflow_gates_uploads_comments_and_fails():
    wf = load(PR)
    assert "pull_request" in wf["on"]
    assert wf["permissions"] == {"contents": "read"}  # least privilege by default, widened per job
    gate = wf["jobs"]["gate"]
    assert gate["permissions"] == {"contents": "read", "security-events": "write", "pull-requests": "write"}
    runs = [s.get("run", "") for s in steps(gate)]
    assert any("make setup" in r for r in runs)
    assert any("main.py synth" in r for r in runs)
    gate_step = next(s for s in steps(gate) if s.get("id") == "gate")
    assert "main.py gate" in gate_step["run"] and "GITHUB_OUTPUT" in gate_step["run"]
    sarif = uses(gate, "github/codeql-action/upload-sarif")
    assert sarif and sarif[0]["with"]["sarif_file"] == "reports/aegis-gate.sarif"
    comment = uses(gate, "actions/github-script")
    assert comment, "no PR comment step"
    script = comment[0]["with"]["script"]
    assert "reports/aegis-gate.md" in script and "updateComment" in script and "createComment" in script
    assert "marker" in script  # one sticky comment, found again by its marker
    last = steps(gate)[-1]
    assert "steps.gate.outputs.exit-code != '0'" in last["if"] and "exit 1" in last["run"]
    order = [s.get("uses", s.get("name", "")).split("@")[0] for s in steps(gate)]
    assert order.index("github/codeql-action/upload-sarif") < len(order) - 1  # results reach reviewers first
    assert any(".ci/run" in s.get("run", "") for s in steps(wf["jobs"]["test"]))


def test_main_workflow_plans_each_environment_with_oidc_and_keeps_artifacts():
    wf = load(MAIN)
    assert wf["on"]["push"]["branches"] == ["main"]
    plan = wf["jobs"]["plan"]
    assert plan["permissions"]["id-token"] == "write"
    # which environments it plans: tests/test_shipped_environments.py (the shipped files, not the tests' copy)
    creds = uses(plan, "aws-actions/configure-aws-credentials")[0]["with"]
    assert creds["role-to-assume"] == "${{ secrets[matrix.role] }}"
    assert all(item["role"].startswith("AWS_PLAN_ROLE_ARN_") for item in plan["strategy"]["matrix"]["include"])
    assert not any(k in creds for k in ("aws-access-key-id", "aws-secret-access-key"))  # OIDC only
    run = next(s for s in steps(plan) if "main.py plan" in s.get("run", ""))
    assert '--env "$PLAN_ENV"' in run["run"]
    artifact = uses(plan, "actions/upload-artifact")[0]
    assert artifact["if"] == "always()"
    for kept in ("aegis.tfplan", "aegis.tfplan.json", "aegis.tfplan.attestation.json", "reports/"):
        assert kept in artifact["with"]["path"]


def test_workflows_pass_untrusted_text_through_env_not_into_scripts():
    # Expressions inside `run:` are spliced into the shell before it runs; values go through `env:`.
    for path in (PR, MAIN):
        for job in load(path)["jobs"].values():
            for step in steps(job):
                assert "${{" not in step.get("run", ""), (path.name, step.get("name"))


@pytest.mark.parametrize("manifest", [".pre-commit-hooks.yaml"])
def test_pre_commit_hooks_expose_the_gate(manifest):
    from click.testing import CliRunner

    from main import cli

    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / manifest).read_text())}
    assert {"aegis-gate", "aegis-gate-app"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False
        command = hook["entry"].split() + hook.get("args", [])
        assert command[0] == "aegis"  # the console script pyproject.toml installs
        result = CliRunner().invoke(cli, command[1:] + ["--help"])
        assert result.exit_code == 0, result.output  # every option the hook passes exists
    assert "--path" in hooks["aegis-gate"]["args"]


def test_pre_commit_config_runs_ruff_and_the_gate():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    ids = {hook["id"]: (repo["repo"], hook) for repo in config["repos"] for hook in repo["hooks"]}
    assert ids["ruff-check"][0] == "https://github.com/astral-sh/ruff-pre-commit"
    assert ids["check-github-workflows"][0] == "https://github.com/python-jsonschema/check-jsonschema"
    assert "main.py gate" in ids["aegis-gate"][1]["entry"]
    for repo in config["repos"]:
        assert repo["repo"] == "local" or repo["rev"], repo  # pinned


def test_the_promotion_workflow_edits_through_model_promote_and_opens_a_pull_request_the_gate_judges():
    doc = load(PROMOTE)
    assert set(doc["on"]) == {"workflow_dispatch", "repository_dispatch"}
    assert doc["on"]["repository_dispatch"]["types"] == ["model-approved"]
    assert doc["permissions"] == {"contents": "read"}
    (job,) = doc["jobs"].values()
    scripts = "\n".join(s.get("run", "") for s in steps(job))
    assert "main.py model promote" in scripts and "main.py validate" in scripts
    assert "${{" not in scripts  # inputs reach the shell through the environment only
    assert "exit 2" in scripts  # refuses malformed input and a missing token
    (opener,) = uses(job, "actions/github-script")
    assert "pulls.create" in opener["with"]["script"] and "AEGIS_PROMOTION_TOKEN" in opener["with"]["github-token"]
    # No apply, plan or AWS credentials here: the pull request goes through aegis-pr.yml and aegis-plan.yml.
    assert "apply" not in scripts and "aws-actions" not in PROMOTE.read_text()
