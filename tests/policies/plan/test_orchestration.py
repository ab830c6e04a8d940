"""`plan` and `apply` end to end with the terraform test double (fake_terraform/terraform):
command sequence and dependency order, backend arguments, exit codes, every tampering case apply
must refuse (running nothing), and that apply runs exactly the approved plan bytes."""
from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import main
from modules.config import load_env
from policies.plan import attestation
from policies.plan.deploy import PLAN_FILE, PLAN_JSON, stacks_in_order
from policies.plan.terraform import TerraformError, backend_args
from tests.policies.plan.conftest import FAKE_TERRAFORM, PAB, create, noop, plan_doc, update, write_plan

ORDER = ("bootstrap", "data", "platform", "access", "governance")
PASSING = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))
UNCHANGED = plan_doc(noop("aws_s3_bucket_public_access_block", "pab", PAB))
VERSIONING = {"bucket": "b", "versioning_configuration": [{"status": "Enabled", "mfa_delete": "Disabled"}]}
FAILING = plan_doc(update("aws_s3_bucket_versioning", "v", VERSIONING,
                          {"bucket": "b", "versioning_configuration": [{"status": "Suspended", "mfa_delete": "Disabled"}]}))


def run(*args: str):
    return CliRunner().invoke(main.cli, list(args))


def plan(fake, out: Path, env: str = "dev", *extra: str):
    return run("plan", "--env", env, "--synth-out", str(out), "--terraform", fake.path, "--no-synth",
               "--out", str(out.parent / "reports"), "--format", "json", *extra)


def apply(fake, out: Path, env: str = "dev", *extra: str):
    return run("apply", "--env", env, "--synth-out", str(out), "--terraform", fake.path, *extra)


def folder(out: Path, stack: str) -> Path:
    return out / "stacks" / stack


def attested(out: Path, stack: str) -> Path:
    return attestation.attestation_path(folder(out, stack) / PLAN_FILE)


# ---------------------------------------------------------------- plan

def test_plan_runs_init_plan_show_per_stack_in_dependency_order_then_gates(fake_terraform, synth_copy):
    fake_terraform.default_plan(PASSING)
    result = plan(fake_terraform, synth_copy)
    assert result.exit_code == 0, result.output
    expected = [(f"dev-{p}", step) for p in ORDER for step in ("init", "plan", "show")]
    assert fake_terraform.commands() == expected
    calls = fake_terraform.calls()
    assert all("-input=false" in c["args"] for c in calls if c["args"][0] != "show")
    assert [c["args"] for c in calls if c["args"][0] == "plan"][0][-1] == f"-out={PLAN_FILE}"
    assert [c["args"] for c in calls if c["args"][0] == "show"][0] == ["show", "-json", PLAN_FILE]
    for pillar in ORDER:
        stack = folder(synth_copy, f"dev-{pillar}")
        assert (stack / PLAN_FILE).is_file() and (stack / PLAN_JSON).read_bytes() == (fake_terraform.fixtures
                                                                                       / "default.json").read_bytes()
        assert attested(synth_copy, f"dev-{pillar}").is_file()
    report = json.loads((synth_copy.parent / "reports" / "aegis-plan.json").read_text())
    assert [p["stack"] for p in report["plans"]] == [f"dev-{p}" for p in ORDER]
    assert all(p["changes"]["create"] == 1 for p in report["plans"])
    assert "Planned changes" in result.output


def test_the_manifest_dependencies_give_the_order(synth_copy):
    manifest = json.loads((synth_copy / "manifest.json").read_text())
    manifest["stacks"]["dev-access"]["dependencies"] = ["dev-data"]  # access no longer waits for platform
    manifest["stacks"]["dev-platform"]["dependencies"] = ["dev-access"]
    (synth_copy / "manifest.json").write_text(json.dumps(manifest))
    assert [s.name for s in stacks_in_order(synth_copy, "dev")] == \
        ["dev-bootstrap", "dev-data", "dev-access", "dev-platform", "dev-governance"]
    manifest["stacks"]["dev-data"]["dependencies"] = ["dev-governance"]
    (synth_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(Exception, match="cycle"):
        stacks_in_order(synth_copy, "dev")


def test_selected_stacks_keep_dependency_order(fake_terraform, synth_copy):
    fake_terraform.default_plan(PASSING)
    result = plan(fake_terraform, synth_copy, "dev", "--stack", "dev-access", "--stack", "data")
    assert result.exit_code == 0, result.output
    assert [c for c in fake_terraform.commands() if c[1] == "init"] == [("dev-data", "init"), ("dev-access", "init")]
    unknown = plan(fake_terraform, synth_copy, "dev", "--stack", "prod-data")
    assert unknown.exit_code == 2 and "no stack 'prod-data' in environment 'dev'" in unknown.output


def test_init_gets_the_s3_backend_settings_of_the_environment(fake_terraform, synth_copy):
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "staging").exit_code == 0
    inits = {c["cwd"]: c["args"] for c in fake_terraform.calls() if c["args"][0] == "init"}
    assert inits["staging-data"] == [
        "init", "-input=false", "-lock-timeout=300s",
        "-backend-config=bucket=aegis-staging-tfstate-444455556666-eu-west-1",
        "-backend-config=key=aegis/staging/staging-data.tfstate",
        "-backend-config=region=eu-west-1",
        "-backend-config=encrypt=true",
        "-backend-config=kms_key_id=" + load_env("staging").backend.kms_key_id,  # the recorded key ARN, never an alias
        "-backend-config=use_lockfile=true",
    ]
    # The bootstrap stack creates the state bucket, so its own state is local: no backend settings.
    assert inits["staging-bootstrap"] == ["init", "-input=false", "-lock-timeout=300s"]
    assert "-backend-config=key=aegis/staging/staging-governance.tfstate" in inits["staging-governance"]


def test_backend_arguments_match_every_synthesized_stack(synthesized):
    from modules.config import load_all

    for config in load_all():
        for stack in stacks_in_order(synthesized.out, config.name):
            doc = synthesized.stack(stack.name)
            args = backend_args(config, stack.name, doc)
            s3 = doc["terraform"]["backend"].get("s3")
            if s3 is None:
                assert args == []
                continue
            given = dict(a.removeprefix("-backend-config=").split("=", 1) for a in args)
            assert given == {k: str(s3[k]).lower() if isinstance(s3[k], bool) else s3[k]
                             for k in ("bucket", "key", "region", "encrypt", "kms_key_id", "use_lockfile")}


def test_a_backend_that_differs_from_the_environment_is_refused(synthesized):
    from modules.config import load_env

    doc = json.loads(json.dumps(synthesized.stack("prod-data")))
    doc["terraform"]["backend"]["s3"]["bucket"] = "someone-elses-state"
    with pytest.raises(TerraformError, match="differs from environments/prod.yaml"):
        backend_args(load_env("prod"), "prod-data", doc)


def test_terraform_failing_stops_everything_with_exit_2(fake_terraform, synth_copy, monkeypatch):
    fake_terraform.default_plan(PASSING)
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL", "plan:dev-data")
    result = plan(fake_terraform, synth_copy)
    assert result.exit_code == 2 and "terraform plan of dev-data failed (exit 1)" in result.output
    assert fake_terraform.commands()[-1] == ("dev-data", "plan")  # nothing after the failure
    assert not any(attested(synth_copy, f"dev-{p}").exists() for p in ORDER)


@pytest.mark.parametrize("setup, message", [
    (lambda fake, mp: mp.setenv("FAKE_TERRAFORM_VERSION", "1.9.8"), "older than the required 1.10"),
    (lambda fake, mp: setattr(fake, "path", "/nonexistent/terraform"), "terraform not found"),
])
def test_terraform_missing_or_too_old_is_exit_2(fake_terraform, synth_copy, monkeypatch, setup, message):
    setup(fake_terraform, monkeypatch)
    result = plan(fake_terraform, synth_copy)
    assert result.exit_code == 2 and message in result.output
    assert fake_terraform.commands() == []


def test_terraform_path_comes_from_the_environment_variable(fake_terraform, synth_copy, monkeypatch):
    fake_terraform.default_plan(PASSING)
    monkeypatch.setenv("AEGIS_TERRAFORM", fake_terraform.path)
    result = run("plan", "--env", "dev", "--synth-out", str(synth_copy), "--no-synth", "--stack", "bootstrap",
                 "--out", str(synth_copy.parent / "reports"), "--format", "json")
    assert result.exit_code == 0, result.output


def test_a_plan_failing_the_gate_is_exit_1_and_not_attested(fake_terraform, synth_copy):
    fake_terraform.default_plan(PASSING)
    fake_terraform.plan_for("dev-data", FAILING)
    result = plan(fake_terraform, synth_copy)
    assert result.exit_code == 1, result.output
    assert not attested(synth_copy, "dev-data").exists()
    assert attested(synth_copy, "dev-bootstrap").exists()
    assert "AEGIS_PLAN_VERSIONING_SUSPENDED" in result.output


# ---------------------------------------------------------------- apply

@pytest.fixture(scope="module")
def planned_template(synthesized, tmp_path_factory) -> Path:
    """dev planned and approved once per module: every stack changes except dev-governance."""
    base = tmp_path_factory.mktemp("planned")
    out = base / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    fixtures = base / "plan-fixtures"
    write_plan(fixtures, PASSING, "default.json")
    write_plan(fixtures, UNCHANGED, "dev-governance.json")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAKE_TERRAFORM_LOG", str(base / "terraform.log"))
        mp.setenv("FAKE_TERRAFORM_PLANS", str(fixtures))
        mp.setenv("FAKE_TERRAFORM_PYTHON", sys.executable)
        for name in ("FAKE_TERRAFORM_FAIL", "FAKE_TERRAFORM_VERSION", "AEGIS_ATTESTATION_KEY",
                     "AEGIS_ATTESTATION_MAX_AGE"):
            mp.delenv(name, raising=False)
        result = run("plan", "--env", "dev", "--synth-out", str(out), "--terraform", str(FAKE_TERRAFORM),
                     "--no-synth", "--out", str(base / "reports"), "--format", "json")
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def planned(planned_template, fake_terraform, tmp_path) -> Path:
    out = tmp_path / "cdktf.out"
    shutil.copytree(planned_template, out)
    return out


def test_apply_runs_exactly_the_approved_plans_in_order(fake_terraform, planned):
    hashes = {p: attestation.sha256_file(folder(planned, f"dev-{p}") / PLAN_FILE) for p in ORDER}
    result = apply(fake_terraform, planned)
    assert result.exit_code == 0, result.output
    changed = ORDER[:-1]
    assert fake_terraform.commands() == [(f"dev-{p}", step) for p in changed for step in ("init", "apply")]
    applies = [c for c in fake_terraform.calls() if c["args"][0] == "apply"]
    for call, pillar in zip(applies, changed, strict=True):
        assert call["applied_sha256"] == hashes[pillar]  # the very bytes the gate approved
        assert call["args"][:3] == ["apply", "-input=false", "-lock-timeout=300s"]
        assert call["args"][-1].startswith(".aegis-apply-") and call["args"][-1].endswith("/" + PLAN_FILE)
    assert "applied: dev-bootstrap, dev-data, dev-platform, dev-access; unchanged: dev-governance" in result.output
    # one plan, one apply
    assert not attested(planned, "dev-data").exists()
    again = apply(fake_terraform, planned, "dev", "--stack", "data")
    assert again.exit_code == 2 and "already applied" in again.output


def refused(fake, out: Path, *extra: str, env: str = "dev") -> str:
    result = apply(fake, out, env, *extra)
    assert result.exit_code == 2, result.output
    assert "apply" not in [c for _, c in fake.commands()], "apply must run nothing when it refuses"
    assert fake.commands() == []
    return result.output


def test_apply_refuses_when_an_attestation_is_missing(fake_terraform, planned):
    attested(planned, "dev-access").unlink()
    assert "dev-access: no attestation" in refused(fake_terraform, planned)


def test_apply_refuses_when_the_plan_bytes_changed(fake_terraform, planned):
    with open(folder(planned, "dev-platform") / PLAN_FILE, "ab") as handle:
        handle.write(b"\n")
    assert "aegis.tfplan changed since the gate approved it" in refused(fake_terraform, planned)


def test_apply_refuses_when_the_plan_json_changed(fake_terraform, planned):
    path = folder(planned, "dev-data") / PLAN_JSON
    path.write_text(path.read_text().replace("aegis-dev", "aegis-dex"))
    assert "aegis.tfplan.json changed since the gate approved it" in refused(fake_terraform, planned)


def test_apply_refuses_when_the_policy_pack_changed(fake_terraform, planned, tmp_path, monkeypatch):
    pack = tmp_path / "policies"
    shutil.copytree(attestation.POLICIES_DIR, pack, ignore=shutil.ignore_patterns("__pycache__"))
    with open(pack / "plan" / "catalog.yaml", "a", encoding="utf-8") as handle:
        handle.write("# an edited policy pack\n")
    monkeypatch.setattr(attestation, "policy_pack_digest", functools.partial(attestation.policy_pack_digest, root=pack))
    assert "the policy pack changed since the gate ran" in refused(fake_terraform, planned)


def test_apply_refuses_a_wrong_or_missing_signature(fake_terraform, synth_copy, monkeypatch):
    fake_terraform.default_plan(PASSING)
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "key-of-the-pipeline")
    assert plan(fake_terraform, synth_copy, "dev", "--stack", "data").exit_code == 0
    (synth_copy.parent / "terraform.log").unlink()

    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "another-key")
    assert "signature is wrong" in refused(fake_terraform, synth_copy, "--stack", "data")

    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "key-of-the-pipeline")
    path = attested(synth_copy, "dev-data")
    record = json.loads(path.read_text())
    record["changes"]["delete"] = 0
    record["threshold"] = "critical"  # an edited approval, hashes untouched
    path.write_text(json.dumps(record))
    assert "signature is wrong" in refused(fake_terraform, synth_copy, "--stack", "data")

    monkeypatch.delenv("AEGIS_ATTESTATION_KEY")
    assert "signed but AEGIS_ATTESTATION_KEY is not set" in refused(fake_terraform, synth_copy, "--stack", "data")


def test_apply_refuses_an_unsigned_attestation_when_a_key_is_set(fake_terraform, planned, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "k")
    assert "not signed" in refused(fake_terraform, planned)


def test_apply_refuses_an_attestation_older_than_the_allowed_age(fake_terraform, planned, monkeypatch):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=25)
    monkeypatch.setattr(attestation, "_now", lambda: later)
    assert "older than the allowed 24h" in refused(fake_terraform, planned)
    assert "older than the allowed 2h" in refused(fake_terraform, planned, "--max-age", "2h")
    monkeypatch.setenv("AEGIS_ATTESTATION_MAX_AGE", "2d")
    monkeypatch.setattr(attestation, "_now", lambda: later)
    assert apply(fake_terraform, planned).exit_code == 0


def test_apply_refuses_an_attestation_of_another_stack(fake_terraform, planned):
    shutil.copy(attested(planned, "dev-access"), attested(planned, "dev-data"))
    output = refused(fake_terraform, planned)
    assert "attestation is for stack 'dev-access', not 'dev-data'" in output


def test_prod_needs_the_confirmation_flag(fake_terraform, synth_copy):
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "bootstrap").exit_code == 0
    (synth_copy.parent / "terraform.log").unlink()
    assert "--confirm-prod" in refused(fake_terraform, synth_copy, "--stack", "bootstrap", env="prod")
    result = apply(fake_terraform, synth_copy, "prod", "--stack", "bootstrap", "--confirm-prod")
    assert result.exit_code == 0, result.output
    assert fake_terraform.commands() == [("prod-bootstrap", "init"), ("prod-bootstrap", "apply")]


def test_apply_stops_at_the_first_terraform_failure(fake_terraform, planned, monkeypatch):
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL", "apply:dev-platform")
    result = apply(fake_terraform, planned)
    assert result.exit_code == 2
    assert "terraform apply of dev-platform failed" in result.output
    assert "applied before it: dev-bootstrap, dev-data" in result.output
    assert [c for c in fake_terraform.commands() if c[1] == "apply"] == [
        ("dev-bootstrap", "apply"), ("dev-data", "apply"), ("dev-platform", "apply")]
    assert attested(planned, "dev-platform").exists() and attested(planned, "dev-access").exists()


def test_plan_synthesizes_first_only_when_the_output_is_missing_or_stale(fake_terraform, synthesized, tmp_path,
                                                                        monkeypatch):
    import modules.node
    import modules.synth

    synths = []

    def synthesize(configs, out):  # stands in for the real synth (the session already paid for it)
        synths.append(sorted(c.name for c in configs))
        shutil.copytree(synthesized.out, out)
        return []

    monkeypatch.setattr(modules.synth, "synthesize", synthesize)
    monkeypatch.setattr(modules.node, "node_problem", lambda: None)
    fake_terraform.default_plan(PASSING)
    out = tmp_path / "fresh" / "cdktf.out"
    args = ("plan", "--env", "dev", "--stack", "bootstrap", "--synth-out", str(out), "--terraform",
            fake_terraform.path, "--out", str(tmp_path / "reports"), "--format", "json")
    missing = run(*args[:4], *args[4:], "--no-synth")
    assert missing.exit_code == 2 and "--no-synth" in missing.output and synths == []
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert synths == [["dev"]]
    again = run(*args)
    assert again.exit_code == 0 and synths == [["dev"]]  # fresh: no second synth


def test_an_unexpected_error_in_apply_is_exit_2(fake_terraform, planned, monkeypatch):
    import policies.plan.deploy as deploy

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(deploy, "verify_all", broken)
    result = apply(fake_terraform, planned)
    assert result.exit_code == 2 and "RuntimeError: disk full" in result.output
    assert fake_terraform.commands() == []
