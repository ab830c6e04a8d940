"""`plan` and `apply` end to end with the terraform test double (fake_terraform/terraform):
command sequence and dependency order, backend arguments, exit codes, every tampering case apply
must refuse (running nothing), and that apply runs exactly the approved plan bytes."""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
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
from tests.policies.plan.conftest import (
    FAKE_TERRAFORM,
    KEY_ARN,
    PAB,
    create,
    delete,
    noop,
    plan_doc,
    update,
    write_plan,
)

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
    # show -json reads a private copy of exactly the bytes the attestation hashes, not the file others can write
    show = [c["args"] for c in calls if c["args"][0] == "show"][0]
    assert show[:2] == ["show", "-json"] and show[2].startswith(".aegis-show-") and show[2].endswith("/" + PLAN_FILE)
    for pillar in ORDER:
        stack = folder(synth_copy, f"dev-{pillar}")
        assert (stack / PLAN_FILE).is_file() and (stack / PLAN_JSON).read_bytes() == (fake_terraform.fixtures
                                                                                       / "default.json").read_bytes()
        assert attested(synth_copy, f"dev-{pillar}").is_file()
    report = json.loads((synth_copy.parent / "reports" / "aegis-plan.json").read_text())
    assert [p["stack"] for p in report["plans"]] == [f"dev-{p}" for p in ORDER]
    assert all(p["changes"]["create"] == 1 for p in report["plans"])
    assert "Planned changes" in result.output
    assert not any("beside the plan is not used" in note for note in report["notes"])  # the stacks synth wrote


def test_a_relative_terraform_path_is_resolved_once_before_the_stack_folders(fake_terraform, synth_copy,
                                                                            monkeypatch):
    """`--terraform ./bin/terraform` passed the version check (run here) and then was not found in the stack
    folders terraform runs in: it is made absolute once, so every call runs the file that was checked."""
    monkeypatch.chdir(FAKE_TERRAFORM.parent.parent)
    relative = str(Path(FAKE_TERRAFORM.parent.name) / FAKE_TERRAFORM.name)
    fake_terraform.default_plan(PASSING)
    result = run("plan", "--env", "dev", "--synth-out", str(synth_copy), "--terraform", relative, "--no-synth",
                 "--out", str(synth_copy.parent / "reports"), "--format", "json")
    assert result.exit_code == 0, result.output
    assert [step for _, step in fake_terraform.commands()] == ["init", "plan", "show"] * len(ORDER)


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


def test_attack_attestation_judged_with_private_exceptions_is_refused_by_apply(fake_terraform, synth_copy, tmp_path):
    """`plan --exceptions FILE` may name a file outside policies/ (not in the pack hash): its verdict is
    applied only by an apply told to use that same file."""
    private = tmp_path / "private-exceptions.yaml"
    expires = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    private.write_text("exceptions:\n  - check: AEGIS_PLAN_VERSIONING_SUSPENDED\n    resource: aws_s3_bucket_versioning.v\n"
                       "    environments: [dev]\n    reason: Versioning paused while the bucket moves (CHG-77)\n"
                       f"    owner: data-platform\n    expires: {expires}\n")
    fake_terraform.plan_for("dev-data", FAILING)
    assert plan(fake_terraform, synth_copy, "dev", "--stack", "data", "--exceptions", str(private)).exit_code == 0
    fresh_log(synth_copy)
    output = " ".join(refused(fake_terraform, synth_copy, "--stack", "data").split())
    assert "judged with 'private-exceptions.yaml'" in output and "as its exceptions" in output
    taken = apply(fake_terraform, synth_copy, "dev", "--stack", "data", "--exceptions", str(private))
    assert taken.exit_code == 0, taken.output


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
                     "AEGIS_ATTESTATION_MAX_AGE", "AEGIS_APPLY_LEDGER"):
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
    # every binary is tied to its judged JSON (init, show -json) before the first apply runs
    assert fake_terraform.commands() == [(f"dev-{p}", step) for p in changed for step in ("init", "show")] + \
        [(f"dev-{p}", "apply") for p in changed]
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


def test_prod_needs_the_confirmation_flag(fake_terraform, synth_copy, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "key-of-the-pipeline")  # prod-tier: mandatory
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "bootstrap").exit_code == 0
    (synth_copy.parent / "terraform.log").unlink()
    assert "--confirm-prod" in refused(fake_terraform, synth_copy, "--stack", "bootstrap", env="prod")
    result = apply(fake_terraform, synth_copy, "prod", "--stack", "bootstrap", "--confirm-prod")
    assert result.exit_code == 0, result.output
    assert fake_terraform.commands() == [("prod-bootstrap", "init"), ("prod-bootstrap", "show"),
                                         ("prod-bootstrap", "apply")]


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


# ---------------------------------------------------------------- attacks on the guard

KEY = "key-of-the-pipeline"
DATASETS = {"bucket": "aegis-dev-datasets-111122223333-eu-west-1", "id": "aegis-dev-datasets-111122223333-eu-west-1",
            "force_destroy": True}
DESTROYS_DATA = plan_doc(delete("aws_s3_bucket", "datasets", DATASETS))
ECR = {"name": "aegis-dev-models", "image_tag_mutability": "IMMUTABLE",
       "image_scanning_configuration": [{"scan_on_push": True}],
       "encryption_configuration": [{"encryption_type": "KMS", "kms_key": KEY_ARN}]}
MEDIUM_ONLY = plan_doc(create("aws_ecr_repository", "models", ECR))  # one medium finding: passes dev, fails prod


def applied_bytes(fake) -> list[str]:
    """SHA-256 of every plan file the double was asked to apply: what apply handed to terraform."""
    return [c.get("applied_sha256") for c in fake.calls() if c["args"][0] == "apply"]


def forged_plan(fake, doc: dict) -> bytes:
    """A binary plan, as the double reads one, whose `terraform show -json` is `doc`: bytes nobody judged."""
    fixture = write_plan(fake.fixtures, doc, "forged.json")
    return b"FAKE-TFPLAN/1\n" + json.dumps({"stack": "dev-data", "fixture": str(fixture)}).encode() + b"\n"


def gate_plan(out: Path, json_path: Path, *extra: str):
    return run("gate", "--plan", str(json_path), "--out", str(out.parent / "reports"), "--format", "json", *extra)


def fresh_log(out: Path) -> None:
    (out.parent / "terraform.log").unlink(missing_ok=True)


@pytest.mark.parametrize("forged", ["a plan that destroys the datasets bucket", "arbitrary bytes"])
def test_attack_unjudged_binary_beside_a_benign_json_is_not_applied(fake_terraform, synth_copy, monkeypatch, forged):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)  # the key does not help: the gate signs what it is shown
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "dev", "--stack", "data").exit_code == 0
    stack = folder(synth_copy, "dev-data")
    evil = forged_plan(fake_terraform, DESTROYS_DATA) if forged.startswith("a plan") else b"\x00any bytes at all"
    (stack / PLAN_FILE).write_bytes(evil)
    regated = gate_plan(synth_copy, stack / PLAN_JSON)  # the benign JSON beside it still passes
    assert regated.exit_code == 0, regated.output
    fresh_log(synth_copy)
    result = apply(fake_terraform, synth_copy, "dev", "--stack", "data")
    assert result.exit_code == 2, result.output
    assert applied_bytes(fake_terraform) == []  # the unjudged bytes never reached terraform apply
    assert "cannot be tied" in result.output or "is not the JSON the gate judged" in result.output


def test_a_json_only_attestation_applies_the_binary_that_shows_that_json(fake_terraform, synth_copy, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "dev", "--stack", "data").exit_code == 0
    stack = folder(synth_copy, "dev-data")
    assert gate_plan(synth_copy, stack / PLAN_JSON).exit_code == 0
    assert json.loads(attested(synth_copy, "dev-data").read_text())["plan_file"] is None  # it covers the JSON only
    fresh_log(synth_copy)
    result = apply(fake_terraform, synth_copy, "dev", "--stack", "data")
    assert result.exit_code == 0, result.output
    genuine = attestation.sha256_file(stack / PLAN_FILE)
    [show] = [c for c in fake_terraform.calls() if c["args"][0] == "show"]
    assert show["shown_sha256"] == genuine and applied_bytes(fake_terraform) == [genuine]


def test_attack_prod_plan_regated_as_dev_is_not_applied_to_prod(fake_terraform, synth_copy, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    fake_terraform.default_plan(MEDIUM_ONLY)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "data").exit_code == 1  # fails at prod's threshold
    assert not attested(synth_copy, "prod-data").exists()
    regated = gate_plan(synth_copy, folder(synth_copy, "prod-data") / PLAN_JSON, "--env", "dev")
    assert regated.exit_code == 2, regated.output
    assert "belongs to stack prod-data of environment 'prod'" in regated.output
    assert not attested(synth_copy, "prod-data").exists()
    fresh_log(synth_copy)
    result = apply(fake_terraform, synth_copy, "prod", "--stack", "data", "--confirm-prod")
    assert result.exit_code == 2 and applied_bytes(fake_terraform) == []


@pytest.mark.parametrize("field, value", [("env", "dev"), ("tier", "dev"), ("account", "111122223333"),
                                          ("threshold", "high")])
def test_attack_attestation_judged_for_another_environment_is_refused_by_apply(fake_terraform, synth_copy,
                                                                              monkeypatch, field, value):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "data").exit_code == 0
    # What a gate that took `--env dev` at its word signed for the prod plan: judged as another environment.
    path = attested(synth_copy, "prod-data")
    record = json.loads(path.read_text())
    record[field] = value
    record["signature"]["value"] = attestation.sign(record, KEY)
    path.write_text(json.dumps(record))
    fresh_log(synth_copy)
    result = apply(fake_terraform, synth_copy, "prod", "--stack", "data", "--confirm-prod")
    assert result.exit_code == 2, result.output
    assert f"judged for {field} '{value}'" in result.output and applied_bytes(fake_terraform) == []
    assert fake_terraform.commands() == []  # refused before terraform runs at all


def test_attack_plan_of_the_prod_account_judged_as_dev_is_refused(tmp_path, monkeypatch):
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))
    doc["configuration"]["provider_config"]["aws"]["expressions"]["allowed_account_ids"] = \
        {"constant_value": ["777788889999"]}  # terraform recorded the prod account guard of the stack
    loose = write_plan(tmp_path / "pipeline", doc, "tfplan.json")
    (tmp_path / "pipeline" / "tfplan").write_bytes(b"binary plan")
    result = gate_plan(tmp_path / "cdktf.out", loose, "--env", "dev")
    assert result.exit_code == 2, result.output
    assert "pinned to account 777788889999" in result.output
    assert not (tmp_path / "pipeline" / "tfplan.attestation.json").exists()


def test_attack_prod_plan_without_the_key_is_refused(fake_terraform, synth_copy, monkeypatch):
    fake_terraform.default_plan(PASSING)
    result = plan(fake_terraform, synth_copy, "prod", "--stack", "bootstrap")
    assert result.exit_code == 2 and "AEGIS_ATTESTATION_KEY must be set" in result.output
    assert fake_terraform.commands() == [] and not attested(synth_copy, "prod-bootstrap").exists()
    # a prod plan JSON judged by `gate --plan` without the key: no unsigned attestation either
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "bootstrap").exit_code == 0
    monkeypatch.delenv("AEGIS_ATTESTATION_KEY")
    regated = gate_plan(synth_copy, folder(synth_copy, "prod-bootstrap") / PLAN_JSON)
    assert regated.exit_code == 2 and "AEGIS_ATTESTATION_KEY must be set" in regated.output
    assert not attested(synth_copy, "prod-bootstrap").exists()


def test_attack_hand_written_unsigned_prod_attestation_is_refused(fake_terraform, synth_copy, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "prod", "--stack", "bootstrap").exit_code == 0
    path = attested(synth_copy, "prod-bootstrap")
    record = json.loads(path.read_text())
    record["signature"] = None  # hand-written: every hash right, no signature
    path.write_text(json.dumps(record))
    fresh_log(synth_copy)
    monkeypatch.delenv("AEGIS_ATTESTATION_KEY")
    without = apply(fake_terraform, synth_copy, "prod", "--stack", "bootstrap", "--confirm-prod")
    assert without.exit_code == 2 and "AEGIS_ATTESTATION_KEY must be set" in without.output
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", KEY)
    keyed = apply(fake_terraform, synth_copy, "prod", "--stack", "bootstrap", "--confirm-prod")
    assert keyed.exit_code == 2 and "not signed" in keyed.output
    assert fake_terraform.commands() == []


def test_attack_restored_attestation_applies_twice_is_refused(fake_terraform, planned):
    kept = attested(planned, "dev-data").read_bytes()
    first = apply(fake_terraform, planned, "dev", "--stack", "data")
    assert first.exit_code == 0, first.output
    assert len(applied_bytes(fake_terraform)) == 1
    attested(planned, "dev-data").write_bytes(kept)  # restored from a copy, an artifact or a backup
    attestation.applied_path(folder(planned, "dev-data") / PLAN_FILE).unlink()
    again = apply(fake_terraform, planned, "dev", "--stack", "data")
    assert again.exit_code == 2, again.output
    assert "dev-data: this plan was already handed to terraform apply (stack dev-data of dev at 20" in again.output
    assert len(applied_bytes(fake_terraform)) == 1  # still one apply of that plan


def test_the_ledger_survives_a_new_synth_and_only_grows(fake_terraform, planned, synthesized):
    ledger_file = planned.parent / ".aegis" / "state" / "applied-plans.jsonl"
    kept = {s: {name: (folder(planned, s) / name).read_bytes() for name in (PLAN_FILE, PLAN_JSON)}
            for s in ("dev-data", "dev-access")}
    for stack, files in kept.items():
        files[attested(planned, stack).name] = attested(planned, stack).read_bytes()
    assert apply(fake_terraform, planned, "dev", "--stack", "data").exit_code == 0
    first = ledger_file.read_text()
    assert json.loads(first)["plan_sha256"] == attestation.sha256_file(folder(planned, "dev-data") / PLAN_FILE)
    assert apply(fake_terraform, planned, "dev", "--stack", "access").exit_code == 0
    assert ledger_file.read_text().startswith(first) and len(ledger_file.read_text().splitlines()) == 2
    # `synth` replaces cdktf.out whole; someone puts the old plan files and attestation back
    shutil.rmtree(planned)
    shutil.copytree(synthesized.out, planned)
    for stack, files in kept.items():
        for name, data in files.items():
            (folder(planned, stack) / name).write_bytes(data)
    result = apply(fake_terraform, planned, "dev", "--stack", "data", "--stack", "access")
    assert result.exit_code == 2, result.output
    assert result.output.count("already handed to terraform apply") == 2


def test_a_failed_apply_consumes_the_plan(fake_terraform, planned, monkeypatch):
    monkeypatch.setenv("FAKE_TERRAFORM_FAIL", "apply:dev-data")
    assert apply(fake_terraform, planned, "dev", "--stack", "data").exit_code == 2
    monkeypatch.delenv("FAKE_TERRAFORM_FAIL")
    again = apply(fake_terraform, planned, "dev", "--stack", "data")
    assert again.exit_code == 2 and "already handed to terraform apply" in again.output


def test_a_damaged_or_relocated_ledger(fake_terraform, planned, tmp_path, monkeypatch):
    ledger_file = planned.parent / ".aegis" / "state" / "applied-plans.jsonl"
    ledger_file.parent.mkdir(parents=True)
    ledger_file.write_text('{"plan_sha256": "aa"}\nnot json\n')
    damaged = apply(fake_terraform, planned, "dev", "--stack", "data")
    assert damaged.exit_code == 2 and "applied-plans.jsonl:2: not a ledger entry" in damaged.output
    assert fake_terraform.commands() == []
    elsewhere = tmp_path / "runner-volume" / "ledger.jsonl"
    monkeypatch.setenv("AEGIS_APPLY_LEDGER", str(elsewhere))
    assert apply(fake_terraform, planned, "dev", "--stack", "data").exit_code == 0
    assert json.loads(elsewhere.read_text())["stack"] == "dev-data"


# ---------------------------------------------------------------- the README's offline try-out

TRY_HEADING = "### Trying `plan` and `apply` without AWS"


def _readme_steps() -> list[str]:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split(TRY_HEADING, 1)[1]
    return section.split("```\n", 2)[1].strip().splitlines()


def test_the_readme_try_out_of_plan_and_apply_runs_as_written(fake_terraform, synth_copy, tmp_path, monkeypatch):
    """The README's steps, run in a folder beside the repository's tests/, each `python main.py` step with the
    exit code its comment states; the second apply is refused (a plan applies once)."""
    work = tmp_path / "try"
    work.mkdir()
    (work / "tests").symlink_to(FAKE_TERRAFORM.parents[3])
    monkeypatch.chdir(work)
    monkeypatch.setenv("CDKTF_OUTDIR", str(synth_copy))  # the session's synth output, as `cdktf synth` would say
    ran = []
    for step in _readme_steps():
        command, _, comment = step.partition("#")
        words = command.replace("$PWD", str(work)).split()
        if words[0] == "mkdir":
            (work / words[-1]).mkdir(parents=True, exist_ok=True)
        elif words[0] == "cp":
            shutil.copyfile(work / words[1], work / words[2])
        elif words[0] == "export":
            for assignment in words[1:]:
                name, value = assignment.split("=", 1)
                monkeypatch.setenv(name, value)
        else:
            assert words[:2] == ["python", "main.py"], step
            result = run(*words[2:])
            expected = int(comment.split("exit ", 1)[1][0]) if "exit " in comment else 0
            assert result.exit_code == expected, (step, result.output)
            ran.append(words[2])
            if words[2] == "apply":
                again = run(*words[2:])
                assert again.exit_code == 2 and "already applied" in again.output, again.output
    assert ran == ["plan", "apply", "plan"]
    assert [c["args"][0] for c in fake_terraform.calls()].count("apply") == len(ORDER)
    assert Path(str(FAKE_TERRAFORM)) == Path(os.environ["AEGIS_TERRAFORM"]).resolve()
