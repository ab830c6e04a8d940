"""The attestation record on its own: hashing, signing, and every reason `verify` refuses."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from policies.plan import attestation

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
PACK = {"sha256": "a" * 64, "files": 10, "checkov": "3.3.30"}
CATALOG = {"sha256": "b" * 64, "rules": 5}


DEV = attestation.Binding(env="dev", tier="dev", account="111122223333", threshold="high")


def attest(tmp_path: Path, key: str | None = None, now: dt.datetime = NOW, binding: attestation.Binding = DEV,
           stack: str = "dev-data", inputs: dict | None = None) -> Path:
    plan = tmp_path / "aegis.tfplan"
    plan.write_bytes(b"binary plan")
    (tmp_path / "aegis.tfplan.json").write_text('{"format_version": "1.2"}')
    record = attestation.build(
        stack=stack, binding=binding, plan_file=plan, plan_sha256=attestation.sha256_file(plan),
        plan_json=tmp_path / "aegis.tfplan.json", json_sha256=attestation.sha256_file(tmp_path / "aegis.tfplan.json"),
        terraform_version="1.10.5", summary={"create": 1}, results={"checks": 3}, approved=[], pack=PACK,
        catalog=CATALOG, inputs=inputs or {}, now=now, key=key)
    attestation.write(record, plan)
    return plan


def verify(plan: Path, key: str | None = None, now: dt.datetime = NOW, max_age: str = "24h", **kw):
    options = {"stack": "dev-data", "binding": DEV, "pack": PACK, "catalog": CATALOG, **kw}
    expected = attestation.Expected(max_age=attestation.parse_duration(max_age), key=key, **options)
    return attestation.verify(plan, expected, now=now)


def test_a_fresh_attestation_verifies_and_returns_the_bytes_it_hashed(tmp_path):
    plan = attest(tmp_path)
    verified, problems = verify(plan)
    assert problems == [] and verified.plan_bytes == b"binary plan"
    record = json.loads(attestation.attestation_path(plan).read_text())
    assert record["created_at"] == "2025-06-01T12:00:00Z" and record["gate"]["checkov"] == "3.3.30"


def test_signing_covers_every_field(tmp_path):
    plan = attest(tmp_path, key="k")
    assert verify(plan, key="k")[1] == []
    path = attestation.attestation_path(plan)
    record = json.loads(path.read_text())
    record["threshold"] = "critical"
    path.write_text(json.dumps(record))
    assert "signature is wrong" in verify(plan, key="k")[1][0]


@pytest.mark.parametrize("change, message", [
    (lambda p: attestation.attestation_path(p).unlink(), "no attestation"),
    (lambda p: attestation.attestation_path(p).write_text("{not json"), "not readable JSON"),
    (lambda p: attestation.attestation_path(p).write_text('{"format": "other"}'), "not an Aegis plan attestation"),
    (lambda p: p.write_bytes(b"another plan"), "changed since the gate approved it"),
    (lambda p: p.unlink(), "plan file aegis.tfplan is missing"),
    (lambda p: p.with_name("aegis.tfplan.json").write_text("{}"), "aegis.tfplan.json changed"),
])
def test_tampering_is_refused(tmp_path, change, message):
    plan = attest(tmp_path)
    change(plan)
    verified, problems = verify(plan)
    assert verified is None and any(message in p for p in problems), problems


def test_pack_catalog_stack_age_and_clock_are_checked(tmp_path):
    plan = attest(tmp_path)
    assert "policy pack changed" in verify(plan, pack={**PACK, "sha256": "c" * 64})[1][0]
    assert "catalog changed" in verify(plan, catalog={**CATALOG, "sha256": "c" * 64})[1][0]
    assert "is for stack 'dev-data', not 'dev-access'" in verify(plan, stack="dev-access")[1][0]
    assert "older than the allowed 1h" in verify(plan, now=NOW + dt.timedelta(hours=2), max_age="1h")[1][0]
    assert "dated in the future" in verify(plan, now=NOW - dt.timedelta(hours=1))[1][0]


def test_an_applied_plan_cannot_be_applied_again(tmp_path):
    plan = attest(tmp_path)
    attestation.mark_applied(plan, NOW)
    assert "already applied" in verify(plan)[1][0]
    assert json.loads(attestation.applied_path(plan).read_text())["applied_at"] == "2025-06-01T12:00:00Z"


@pytest.mark.parametrize("text, expected", [("30m", dt.timedelta(minutes=30)), ("12h", dt.timedelta(hours=12)),
                                            ("2d", dt.timedelta(days=2)), (" 90s ", dt.timedelta(seconds=90))])
def test_durations(text, expected):
    assert attestation.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0h", "12", "1w", "-1h", "h"])
def test_bad_durations_are_errors(text):
    with pytest.raises(attestation.AttestationError):
        attestation.parse_duration(text)


def test_the_policy_pack_hash_changes_with_any_policy_file(tmp_path):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "a.py").write_text("x = 1\n")
    (tmp_path / "catalog.yaml").write_text("builtin: {}\n")
    first = attestation.policy_pack_digest(tmp_path)
    (tmp_path / "checks" / "a.py").write_text("x = 2\n")
    assert attestation.policy_pack_digest(tmp_path)["sha256"] != first["sha256"]
    (tmp_path / "checks" / "__pycache__").mkdir()
    (tmp_path / "checks" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert attestation.policy_pack_digest(tmp_path)["files"] == 2


@pytest.mark.parametrize("field, value", [("env", "staging"), ("tier", "prod"), ("account", "444455556666"),
                                          ("threshold", "critical"), ("env", None)])
def test_a_record_judged_for_another_environment_is_refused(tmp_path, field, value):
    plan = attest(tmp_path, binding=dataclasses.replace(DEV, **{field: value}))
    verified, problems = verify(plan)
    assert verified is None and problems == [
        f"dev-data: the plan was judged for {field} {value!r}, but this apply is for {field} "
        f"{getattr(DEV, field)!r}: run `plan --env dev` again"]


def test_prod_needs_the_key_and_a_signature(tmp_path):
    prod = attestation.Binding(env="prod", tier="prod", account="777788889999", threshold="low")
    with pytest.raises(attestation.AttestationError, match="AEGIS_ATTESTATION_KEY must be set"):
        attestation.require_key("prod", "prod", None)
    attestation.require_key("dev", "dev", None)  # other tiers may run unsigned
    unsigned = attest(tmp_path, binding=prod, stack="prod-data")
    assert "needs AEGIS_ATTESTATION_KEY" in verify(unsigned, stack="prod-data", binding=prod)[1][0]
    assert "not signed" in verify(unsigned, key="k", stack="prod-data", binding=prod)[1][0]
    signed = attest(tmp_path, key="k", binding=prod, stack="prod-data")
    assert verify(signed, key="k", stack="prod-data", binding=prod)[1] == []


def test_a_record_of_the_json_alone_leaves_the_binary_to_the_tie(tmp_path):
    plan = attest(tmp_path)
    path = attestation.attestation_path(plan)
    record = json.loads(path.read_text())
    record["plan_file"] = None  # what `gate --plan` writes: it did not derive the JSON from the binary
    path.write_text(json.dumps(record))
    plan.write_bytes(b"whatever sits there at apply time")
    verified, problems = verify(plan)
    assert problems == [] and verified.plan_bytes == b"whatever sits there at apply time"
    assert verified.json_bytes == b'{"format_version": "1.2"}'  # what those bytes must show (deploy._tie)


def test_an_attestation_of_the_first_format_is_refused(tmp_path):
    plan = attest(tmp_path)
    path = attestation.attestation_path(plan)
    path.write_text(json.dumps({**json.loads(path.read_text()), "format": "aegis-plan-attestation/1"}))
    assert "format aegis-plan-attestation/1, not aegis-plan-attestation/2" in verify(plan)[1][0]


def test_attack_attestation_judged_with_private_exceptions_or_approvals_is_refused(tmp_path):
    """Files outside policies/ are not in the pack hash: a verdict made with a private exceptions or
    approvals file must not be applied by a run that uses the project's own."""
    private = tmp_path / "private"
    private.mkdir()
    exceptions, approvals = private / "exceptions.yaml", private / "approvals.yaml"
    exceptions.write_text("exceptions: []  # would except anything\n")
    approvals.write_text("approvals: []  # would approve anything\n")
    plan = attest(tmp_path, inputs=attestation.input_files(exceptions, approvals))
    _, problems = verify(plan, inputs=attestation.input_files(None, None))
    assert len(problems) == 2
    assert "judged with 'exceptions.yaml'" in problems[0] and "as its exceptions" in problems[0]
    assert "as its approvals" in problems[1] and "--approvals" in problems[1]
    assert verify(plan, inputs=attestation.input_files(exceptions, approvals))[1] == []  # the same files: taken
    _, only_one = verify(plan, inputs=attestation.input_files(exceptions, None))
    assert len(only_one) == 1 and "approvals" in only_one[0]


def test_the_project_files_are_recorded_when_none_is_given():
    from policies.plan.approvals import APPROVALS_FILE
    from policies.suppressions import EXCEPTIONS_FILE

    recorded = attestation.input_files(None, None)
    assert recorded["exceptions"] == {"name": "exceptions.yaml", "sha256": attestation.sha256_file(EXCEPTIONS_FILE)}
    assert recorded["approvals"] == {"name": "approvals.yaml", "sha256": attestation.sha256_file(APPROVALS_FILE)}
