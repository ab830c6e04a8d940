"""The stack file beside a plan is used (its `//` suppressions, its reference forms for checkov) only
when it is Aegis's own: the synth output around it is fresh for the plan's environment and the file's
bytes are those the synth record holds. Anything else is not read and the plan is judged as written;
and the synth gate refuses a stack file that is not what synth wrote."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from policies.gate import run_gate
from policies.plan import attestation
from policies.plan.plan_gate import PlanInput, run_plan_gate
from tests.policies.gate.conftest import bucket, stack_doc, write_out
from tests.policies.plan.conftest import as_synthesized, create, plan_doc, update, write_plan

TODAY = dt.date(2025, 6, 1)
VERSIONING = {"bucket": "aegis-dev-datasets", "versioning_configuration": [{"status": "Enabled", "mfa_delete": "Disabled"}]}
SUSPENDED = {**VERSIONING, "versioning_configuration": [{"status": "Suspended", "mfa_delete": "Disabled"}]}
SUPPRESSION = {"id": "AEGIS_PLAN_VERSIONING_SUSPENDED", "reason": "Versioning is paused during the bucket migration",
               "expires": "2025-08-01"}
PUBLIC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                                  "Resource": "arn:aws:s3:::aegis-dev-datasets/*"}]}
HARMLESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                                                    "Action": "s3:GetObject",
                                                    "Resource": "arn:aws:s3:::aegis-dev-datasets/*"}]}
POLICY_REFS = {"policy": ["data.aws_iam_policy_document.d.json", "data.aws_iam_policy_document.d"]}


def _suppressing_stack() -> dict:
    """A stack file whose versioning resource carries a `//` suppression of the plan's finding."""
    return {"resource": {"aws_s3_bucket_versioning": {"v": {"//": {"aegis_suppressions": [SUPPRESSION]},
                                                            "bucket": "aegis-dev-datasets"}}}}


def _plan_in_stack_folder(out: Path, doc: dict, stack_file: dict, stack: str = "dev-data") -> PlanInput:
    """A plan (binary and JSON) in out/stacks/<stack>/ beside a cdk.tf.json, as `gate --plan` finds it."""
    folder = out / "stacks" / stack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cdk.tf.json").write_text(json.dumps(stack_file, indent=2), encoding="utf-8")
    path = write_plan(folder, doc, "aegis.tfplan.json")
    (folder / "aegis.tfplan").write_bytes(b"binary plan of " + stack.encode())
    return PlanInput.infer(path)


def _suspending_plan() -> dict:
    return plan_doc(update("aws_s3_bucket_versioning", "v", VERSIONING, SUSPENDED))


def _status(result, check_id: str) -> set[str]:
    return {f.status for f in result.findings if f.check_id == check_id}


def _assert_judged_as_written(result, item: PlanInput) -> None:
    assert result.exit_code == 1, result.errors
    assert _status(result, "AEGIS_PLAN_VERSIONING_SUSPENDED") == {"failed"}
    assert result.suppressions == []
    assert not attestation.attestation_path(item.binary).exists()
    assert any("cdk.tf.json beside the plan is not used" in note for note in result.notes), result.notes


def test_attack_hand_written_stack_file_beside_a_plan_suppresses_its_finding_is_refused(tmp_path):
    item = _plan_in_stack_folder(tmp_path / "cdktf.out", _suspending_plan(), _suppressing_stack())
    result = run_plan_gate([item], today=TODAY)
    _assert_judged_as_written(result, item)
    assert any("not in a synth output" in note for note in result.notes)


def test_attack_stack_file_edited_in_a_fresh_synth_output_suppresses_a_plan_finding_is_refused(tmp_path):
    out = tmp_path / "cdktf.out"
    item = _plan_in_stack_folder(out, _suspending_plan(), {"resource": {"aws_s3_bucket_versioning": {"v": {
        "bucket": "aegis-dev-datasets"}}}})
    as_synthesized(out)  # what synth wrote: no suppression
    item.synth_doc.write_text(json.dumps(_suppressing_stack(), indent=2), encoding="utf-8")  # edited afterwards
    result = run_plan_gate([item], today=TODAY)
    _assert_judged_as_written(result, item)
    assert any("is not the file synth wrote" in note for note in result.notes)


def test_attack_stack_file_of_a_stale_synth_output_suppresses_a_plan_finding_is_refused(tmp_path):
    out = tmp_path / "cdktf.out"
    item = _plan_in_stack_folder(out, _suspending_plan(), _suppressing_stack())
    as_synthesized(out)
    record = json.loads((out / "aegis-synth.json").read_text())
    record["environments"]["dev"] = "0" * 64  # synthesized from a dev.yaml that has changed since
    (out / "aegis-synth.json").write_text(json.dumps(record))
    result = run_plan_gate([item], today=TODAY)
    _assert_judged_as_written(result, item)
    assert any("older than its configuration" in note for note in result.notes)


def test_the_stack_file_synth_wrote_keeps_its_suppressions_in_plan_mode(tmp_path):
    out = tmp_path / "cdktf.out"
    item = _plan_in_stack_folder(out, _suspending_plan(), _suppressing_stack())
    as_synthesized(out)
    result = run_plan_gate([item], today=TODAY)
    assert result.exit_code == 0, result.errors
    assert _status(result, "AEGIS_PLAN_VERSIONING_SUSPENDED") == {"suppressed"}
    assert not any("beside the plan is not used" in note for note in result.notes)
    assert attestation.attestation_path(item.binary).exists()


def _public_policy_plan() -> dict:
    return plan_doc(create("aws_s3_bucket_policy", "p", {"bucket": "aegis-dev-datasets", "policy": json.dumps(PUBLIC)},
                           references=POLICY_REFS))


def _harmless_policy_stack() -> dict:
    return {"resource": {"aws_s3_bucket_policy": {"p": {"bucket": "aegis-dev-datasets",
                                                        "policy": json.dumps(HARMLESS)}}}}


def test_attack_forged_stack_file_hides_a_public_bucket_policy_from_checkov_is_refused(tmp_path):
    item = _plan_in_stack_folder(tmp_path / "cdktf.out", _public_policy_plan(), _harmless_policy_stack())
    result = run_plan_gate([item], today=TODAY, attest=False)
    assert _status(result, "CKV_AWS_70") == {"failed"}  # the policy the plan sets, not the forged one
    assert result.exit_code == 1


def test_attack_forged_stack_file_in_a_fresh_synth_output_hides_a_public_bucket_policy_is_refused(tmp_path):
    out = tmp_path / "cdktf.out"
    item = _plan_in_stack_folder(out, _public_policy_plan(), {"resource": {}})
    as_synthesized(out)
    item.synth_doc.write_text(json.dumps(_harmless_policy_stack()), encoding="utf-8")
    result = run_plan_gate([item], today=TODAY, attest=False)
    assert _status(result, "CKV_AWS_70") == {"failed"}


# ---------------------------------------------------------------- the synth gate

def test_attack_hand_edited_stack_in_a_synth_output_is_refused_by_the_gate(tmp_path, no_exceptions):
    """A `//` suppression added to a stack after synth is not Aegis's output: the gate refuses the stack."""
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}})})
    path = out / "stacks" / "dev-data" / "cdk.tf.json"
    doc = json.loads(path.read_text())
    doc["resource"]["aws_s3_bucket"]["b1"]["//"]["aegis_suppressions"] = [  # a finding b1 has: no access logs
        {"id": "CKV_AWS_18", "reason": "Access logs are not needed for this scratch bucket", "expires": "2025-08-01"}]
    path.write_text(json.dumps(doc, indent=2))
    result = run_gate(out, ["dev"], exceptions_file=no_exceptions, today=TODAY, app_checks=False)
    assert result.exit_code == 2
    assert result.findings == []
    assert any("stack dev-data (stacks/dev-data/cdk.tf.json) is not the file synth wrote" in e and
               "python main.py synth" in e for e in result.errors), result.errors


def test_a_stack_missing_from_the_synth_record_is_refused_by_the_gate(tmp_path, no_exceptions):
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}})})
    record = json.loads((out / "aegis-synth.json").read_text())
    record["stacks"] = {}
    (out / "aegis-synth.json").write_text(json.dumps(record))
    result = run_gate(out, ["dev"], exceptions_file=no_exceptions, today=TODAY, app_checks=False)
    assert result.exit_code == 2
    assert any("stack dev-data is in cdktf.out/manifest.json but not in cdktf.out/aegis-synth.json" in e
               for e in result.errors), result.errors
