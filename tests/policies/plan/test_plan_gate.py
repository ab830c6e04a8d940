"""The plan gate end to end on plan files: checkov terraform_plan + plan checks → verdict, approvals,
suppressions, thresholds, the change summary in every report format, attestations, `gate --plan`."""
from __future__ import annotations

import codecs
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from policies.plan import attestation
from policies.plan.plan_catalog import load_plan_catalog
from policies.plan.plan_gate import PlanInput, run_plan_gate
from policies.plan.report import FILES, available_formats, render, render_terminal, write_reports
from tests.policies.plan.conftest import (
    KEY_ARN,
    PAB,
    as_synthesized,
    create,
    delete,
    noop,
    plan_doc,
    replace,
    update,
    write_plan,
)

TODAY = dt.date(2025, 6, 1)
VERSIONING = {"bucket": "aegis-dev-datasets", "versioning_configuration": [{"status": "Enabled", "mfa_delete": "Disabled"}]}
BUCKET = {"bucket": "aegis-dev-datasets-111122223333-eu-west-1", "id": "aegis-dev-datasets-111122223333-eu-west-1"}


def stack_plan(tmp_path: Path, doc: dict, stack: str = "dev-data", binary: bool = True) -> PlanInput:
    """A plan as the deploy flow leaves it: stacks/<stack>/aegis.tfplan(.json) beside cdk.tf.json."""
    folder = tmp_path / "cdktf.out" / "stacks" / stack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cdk.tf.json").write_text(json.dumps({"resource": {}}), encoding="utf-8")
    path = write_plan(folder, doc, "aegis.tfplan.json")
    plan_file = folder / "aegis.tfplan"
    if binary:
        plan_file.write_bytes(b"binary plan of " + stack.encode())
    return PlanInput(json_path=path, stack=stack, env=stack.split("-")[0], binary=plan_file if binary else None,
                     display=f"stacks/{stack}/aegis.tfplan.json", synth_doc=folder / "cdk.tf.json",
                     binary_sha256=attestation.sha256_file(plan_file) if binary else None, json_derived=binary)


def gate(*inputs, **kw):
    kw.setdefault("today", TODAY)
    return run_plan_gate(list(inputs), **kw)


def test_the_plan_catalog_merges_into_the_synth_catalog():
    catalog = load_plan_catalog()
    assert "AEGIS_PLAN_STATEFUL_DELETE" in catalog
    assert catalog.get("AEGIS_PLAN_IAM_WIDENED").severity == "critical"


def test_a_clean_plan_passes_and_is_attested(tmp_path):
    item = stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB),
                                         noop("aws_s3_bucket_versioning", "v", VERSIONING)))
    result = gate(item)
    assert result.exit_code == 0, result.errors
    assert result.thresholds == {"dev": "high"}
    assert {f.source for f in result.findings} >= {"checkov"}
    [report] = result.plans
    assert report.verdict == "pass" and report.attestation == "aegis.tfplan.attestation.json"
    assert report.changes == {"create": 1, "update": 0, "replace": 0, "delete": 0, "no-op": 1}
    record = json.loads(attestation.attestation_path(item.binary).read_text())
    assert record["plan_file"]["sha256"] == attestation.sha256_file(item.binary)
    assert record["plan_json"]["sha256"] == attestation.sha256_file(item.json_path)
    assert record["policy_pack"]["sha256"] == attestation.policy_pack_digest()["sha256"]
    assert record["changes"]["create"] == 1 and record["results"]["checks"] == len(result.findings)
    assert record["signature"] is None and record["verdict"] == "pass" and record["stack"] == "dev-data"


def test_a_regression_fails_the_gate_and_leaves_no_attestation(tmp_path):
    item = stack_plan(tmp_path, plan_doc(update("aws_s3_bucket_versioning", "v", VERSIONING,
                                                {**VERSIONING, "versioning_configuration": [{"status": "Suspended",
                                                                                             "mfa_delete": "Disabled"}]})))
    attestation.attestation_path(item.binary).write_text("{}")  # a stale one from an earlier run
    result = gate(item)
    assert result.exit_code == 1
    [failure] = [f for f in result.findings if f.blocking]
    assert failure.check_id == "AEGIS_PLAN_VERSIONING_SUSPENDED" and failure.source == "plan"
    assert failure.severity == "high" and failure.stack == "dev-data" and failure.pillar == "data"
    assert result.plans[0].verdict == "fail" and result.plans[0].attestation is None
    assert not attestation.attestation_path(item.binary).exists()


def test_checkov_findings_on_planned_values_use_the_same_thresholds(tmp_path, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "k")  # a prod-tier plan needs the key (exit 2 without it)
    open_ssh = {"name": "x", "description": "d", "vpc_id": "vpc-1", "egress": [],
                "ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 22, "to_port": 22, "protocol": "tcp",
                             "description": "", "ipv6_cidr_blocks": [], "prefix_list_ids": [],
                             "security_groups": [], "self": False}]}
    result = gate(stack_plan(tmp_path, plan_doc(create("aws_security_group", "ssh", open_ssh)), "prod-platform"))
    assert result.exit_code == 1 and result.thresholds == {"prod": "low"}
    failing = {f.check_id for f in result.findings if f.blocking}
    assert "CKV_AWS_24" in failing  # checkov's own: SSH open to the world
    assert "AEGIS_PLAN_OPEN_INGRESS" in failing  # the plan check


def test_replace_of_a_stateful_resource_blocks_until_approved(tmp_path):
    doc = plan_doc(replace("aws_s3_bucket", "datasets", BUCKET, {**BUCKET, "bucket": "renamed"},
                           order=("create", "delete")), create("aws_s3_bucket_public_access_block", "pab", PAB))
    item = stack_plan(tmp_path, doc)
    result = gate(item)
    assert result.exit_code == 1
    assert any(f.check_id == "AEGIS_PLAN_STATEFUL_DELETE" and f.blocking for f in result.findings)
    assert result.plans[0].changes["replace"] == 1

    approvals = tmp_path / "approvals.yaml"
    approvals.write_text(
        "approvals:\n"
        "  - stack: dev-data\n"
        "    address: aws_s3_bucket.datasets\n"
        "    action: replace\n"
        "    reason: Bucket renamed; objects copied to the new bucket first (CHG-1234)\n"
        "    approved_by: data-platform-lead\n"
        "    expires: 2025-06-30\n")
    approved = gate(stack_plan(tmp_path, doc), approvals_file=approvals)
    deletion = [f for f in approved.findings if f.check_id == "AEGIS_PLAN_STATEFUL_DELETE"]
    assert [f.status for f in deletion] == ["suppressed"] and deletion[0].suppression.origin == "approval"
    assert deletion[0].suppression.reason.startswith("Bucket renamed")
    # only the deletion is approved: checkov still judges the new bucket the replace creates
    assert not any(f.blocking and f.check_id.startswith("AEGIS_PLAN") for f in approved.findings)


def test_an_approved_deletion_passes_and_is_recorded_in_the_attestation(tmp_path):
    doc = plan_doc(delete("aws_s3_bucket", "datasets", BUCKET), create("aws_s3_bucket_public_access_block", "pab", PAB))
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.datasets\n"
                         "    reason: Datasets moved to the new training account (CHG-77)\n"
                         "    approved_by: data-platform-lead\n    expires: 2025-06-30\n")
    item = stack_plan(tmp_path, doc)
    result = gate(item, approvals_file=approvals)
    assert result.exit_code == 0, [f.check_id for f in result.findings if f.blocking] or result.errors
    record = json.loads(attestation.attestation_path(item.binary).read_text())
    assert record["approved_deletions"] == [{
        "check": "AEGIS_PLAN_STATEFUL_DELETE", "address": "aws_s3_bucket.datasets",
        "reason": "Datasets moved to the new training account (CHG-77)", "approved_by": "data-platform-lead",
        "where": "approvals.yaml:2"}]
    assert record["results"]["approved"] == 1 and record["changes"]["delete"] == 1


def test_one_approval_covers_both_checks_of_a_key_deletion_under_the_stateful_delete_id(tmp_path):
    # Two plan checks report a KMS key deletion; they run in the plan catalog's order, so the approval
    # is recorded under the first, AEGIS_PLAN_STATEFUL_DELETE, and suppresses both.
    key = {"arn": KEY_ARN, "key_id": KEY_ARN.rsplit("/", 1)[1], "id": KEY_ARN.rsplit("/", 1)[1], "is_enabled": True}
    doc = plan_doc(delete("aws_kms_key", "kms-model_key", key), create("aws_s3_bucket_public_access_block", "pab", PAB))
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals:\n  - stack: dev-data\n    address: aws_kms_key.kms-model_key\n"
                         "    reason: The model key is retired with its last model (CHG-91)\n"
                         "    approved_by: data-platform-lead\n    expires: 2025-06-30\n")
    result = gate(stack_plan(tmp_path, doc), approvals_file=approvals)
    deletion = [f for f in result.findings if f.address == "aws_kms_key.kms-model_key" and f.source == "plan"
                and f.status != "passed"]
    assert {f.check_id for f in deletion} == {"AEGIS_PLAN_STATEFUL_DELETE", "AEGIS_PLAN_KMS_KEY_DISABLED"}
    assert all(f.status == "suppressed" for f in deletion)
    [approval] = [s for s in result.suppressions if s.origin == "approval"]
    assert approval.check_id == "AEGIS_PLAN_STATEFUL_DELETE" and len(approval.matched) == 2


KMS_KEY = {"arn": KEY_ARN, "key_id": KEY_ARN.rsplit("/", 1)[1], "id": KEY_ARN.rsplit("/", 1)[1], "is_enabled": True,
           "enable_key_rotation": True, "deletion_window_in_days": 30}


def key_deletion() -> dict:
    """The data key destroyed: in `prior_state`, gone from `planned_values`; a bucket setting created beside it."""
    return plan_doc(delete("aws_kms_key", "kms-data_key", KMS_KEY), create("aws_s3_bucket_public_access_block", "pab", PAB))


def test_attack_plan_without_resource_changes_hides_a_key_deletion(tmp_path):
    honest = gate(stack_plan(tmp_path / "honest", key_deletion()), attest=False)
    critical = {f.check_id for f in honest.findings if f.blocking and f.severity == "critical"}
    assert honest.exit_code == 1 and critical == {"AEGIS_PLAN_STATEFUL_DELETE", "AEGIS_PLAN_KMS_KEY_DISABLED"}
    doc = key_deletion()
    del doc["resource_changes"]
    item = stack_plan(tmp_path / "stripped", doc)
    result = gate(item)
    assert result.exit_code == 2  # before: exit 0, the key's destruction judged by nobody
    assert any("`resource_changes` is missing" in e for e in result.errors), result.errors
    assert not attestation.attestation_path(item.binary).exists()


def test_attack_resource_changes_that_leave_out_a_deleted_key(tmp_path):
    doc = key_deletion()
    doc["resource_changes"] = [rc for rc in doc["resource_changes"] if rc["type"] != "aws_kms_key"]
    item = stack_plan(tmp_path, doc)
    result = gate(item)
    assert result.exit_code == 2
    assert any("aws_kms_key.kms-data_key is in `prior_state` but has no entry in `resource_changes`" in e
               for e in result.errors), result.errors
    assert not attestation.attestation_path(item.binary).exists()


def test_attack_unknown_ingress_cidr_from_outside_the_plan_blocks(tmp_path):
    rule = create("aws_security_group_rule", "https", {"type": "ingress", "protocol": "tcp", "from_port": 443,
                                                      "to_port": 443, "security_group_id": "sg-0123456789abcdef0"},
                  after_unknown={"cidr_blocks": True}, references={"cidr_blocks": ["module.network.allowed_cidrs"]})
    result = gate(stack_plan(tmp_path, plan_doc(rule)))
    assert result.exit_code == 1
    [finding] = [f for f in result.findings if f.blocking]
    assert finding.check_id == "AEGIS_PLAN_UNKNOWN_SECURITY_VALUE" and finding.severity == "high"
    assert "cidr_blocks" in finding.message and "module.network.allowed_cidrs" in finding.message


def test_a_catalogued_plan_check_that_is_not_registered_is_an_error(tmp_path):
    from policies.plan.plan_catalog import PLAN_CATALOG_FILE

    text = PLAN_CATALOG_FILE.read_text(encoding="utf-8")
    ghost = text[text.index("  AEGIS_PLAN_STATEFUL_DELETE:"):text.index("  AEGIS_PLAN_ENCRYPTION_REMOVED:")]
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(text + ghost.replace("AEGIS_PLAN_STATEFUL_DELETE", "AEGIS_PLAN_GHOST"), encoding="utf-8")
    result = gate(stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))),
                  plan_catalog_file=catalog)
    assert result.exit_code == 2
    assert result.errors == ["plan check(s) in policies/plan/catalog.yaml are not registered in "
                             "policies/plan/plan_checks: AEGIS_PLAN_GHOST"]


@pytest.mark.parametrize("entry, expected", [
    ("    action: delete\n", 1),  # approved a delete, the plan replaces: not covered
    ("", None),
])
def test_an_approval_names_the_exact_address_and_action(tmp_path, entry, expected):
    doc = plan_doc(replace("aws_s3_bucket", "datasets", BUCKET, BUCKET))
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.datasets\n" + entry
                         + "    reason: Deliberate rebuild of the datasets bucket (CHG-1)\n"
                           "    approved_by: lead\n    expires: 2025-06-30\n")
    result = gate(stack_plan(tmp_path, doc), approvals_file=approvals)
    blocking = any(f.check_id == "AEGIS_PLAN_STATEFUL_DELETE" and f.blocking for f in result.findings)
    assert blocking == (expected == 1)


def test_an_expired_approval_is_an_error(tmp_path):
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.datasets\n"
                         "    reason: Deliberate rebuild of the datasets bucket (CHG-1)\n"
                         "    approved_by: lead\n    expires: 2025-05-01\n")
    result = gate(stack_plan(tmp_path, plan_doc(delete("aws_s3_bucket", "datasets", BUCKET))),
                  approvals_file=approvals)
    assert result.exit_code == 2 and "expired on 2025-05-01" in result.errors[0]


@pytest.mark.parametrize("text, message", [
    ("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.*\n    reason: a reason of enough length here\n"
     "    approved_by: x\n    expires: 2025-06-30\n", "no wildcards"),
    ("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.b\n    reason: short\n"
     "    approved_by: x\n    expires: 2025-06-30\n", "at least 20 characters"),
    ("approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.b\n    reason: a reason of enough length here\n"
     "    expires: 2025-06-30\n", "'approved_by' is missing"),
])
def test_bad_approvals_are_errors_naming_file_and_line(tmp_path, text, message):
    approvals = tmp_path / "approvals.yaml"
    approvals.write_text(text)
    result = gate(stack_plan(tmp_path, plan_doc(delete("aws_s3_bucket", "b", BUCKET))), approvals_file=approvals)
    assert result.exit_code == 2 and message in result.errors[0] and "approvals.yaml:" in result.errors[0]


def test_exceptions_suppress_plan_checks_like_synth_checks(tmp_path):
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        "exceptions:\n"
        "  - check: AEGIS_PLAN_VERSIONING_SUSPENDED\n"
        "    resource: aws_s3_bucket_versioning.v\n"
        "    environments: [dev]\n"
        "    reason: Dev scratch bucket; versions are not needed and cost money\n"
        "    owner: ml-platform\n"
        "    expires: 2025-12-31\n")
    suspended = {**VERSIONING, "versioning_configuration": [{"status": "Suspended", "mfa_delete": "Disabled"}]}
    result = gate(stack_plan(tmp_path, plan_doc(update("aws_s3_bucket_versioning", "v", VERSIONING, suspended))),
                  exceptions_file=exceptions)
    assert result.exit_code == 0, result.errors
    [finding] = [f for f in result.findings if f.check_id == "AEGIS_PLAN_VERSIONING_SUSPENDED"]
    assert finding.status == "suppressed" and finding.suppression.origin == "exceptions"


def test_an_unused_suppression_is_a_note_not_an_error(tmp_path):
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n  - check: AEGIS_PLAN_OPEN_INGRESS\n    resource: aws_security_group.x\n"
                          "    environments: ['*']\n    reason: Public ALB behind CloudFront and WAF, reviewed\n"
                          "    owner: ml-platform\n    approver: security-lead\n    expires: 2025-12-31\n")
    result = gate(stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "p", PAB))),
                  exceptions_file=exceptions)
    assert result.exit_code == 0 and any("1 suppression(s) match nothing" in n for n in result.notes)
    assert result.suppressions == []


def test_zero_resources_is_an_error(tmp_path):
    result = gate(stack_plan(tmp_path, plan_doc()))
    assert result.exit_code == 2 and "nothing was judged" in result.errors[0]


def test_a_malformed_plan_among_good_ones_fails_closed(tmp_path):
    good = stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB)))
    bad = stack_plan(tmp_path, {**plan_doc(create("aws_s3_bucket_public_access_block", "p", PAB)),
                                "format_version": "2.0"}, "dev-platform")
    result = gate(good, bad)
    assert result.exit_code == 2 and "unsupported plan format_version '2.0'" in result.errors[0]
    assert not attestation.attestation_path(good.binary).exists()
    assert all(p.verdict == "error" for p in result.plans)


def test_a_utf16_plan_is_judged_and_the_note_says_so(tmp_path):
    item = stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB)))
    item.json_path.write_bytes(codecs.BOM_UTF16_LE + item.json_path.read_text().encode("utf-16-le"))
    result = gate(item)
    assert result.exit_code == 0, result.errors
    assert result.plans[0].encoding == "utf-16" and any("UTF-16" in n for n in result.notes)


def test_a_plan_without_its_binary_is_judged_but_not_attested(tmp_path):
    result = gate(stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB)),
                             binary=False))
    assert result.exit_code == 0 and result.plans[0].attestation is None
    assert "no attestation written" in result.plans[0].note


def test_the_attestation_is_signed_when_a_key_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("AEGIS_ATTESTATION_KEY", "s3cret")
    item = stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB)))
    assert gate(item).exit_code == 0
    record = json.loads(attestation.attestation_path(item.binary).read_text())
    assert record["signature"]["algorithm"] == "HMAC-SHA256"
    assert record["signature"]["value"] == attestation.sign(record, "s3cret")


# ---------------------------------------------------------------- the summary in every output format

@pytest.fixture(scope="module")
def mixed_result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mixed")
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "new", PAB),
                   update("aws_s3_bucket_versioning", "v", VERSIONING, {**VERSIONING, "expected_bucket_owner": ""}),
                   replace("aws_s3_bucket_public_access_block", "swap", PAB, {**PAB, "bucket": "other"}),
                   delete("aws_s3_bucket", "gone", BUCKET),
                   noop("aws_s3_bucket_versioning", "same", VERSIONING))
    return run_plan_gate([stack_plan(tmp, doc)], today=TODAY)


EXPECTED = {"create": 1, "update": 1, "replace": 1, "delete": 1, "no-op": 1}


def test_the_change_summary_is_counted_per_stack(mixed_result):
    assert mixed_result.changes == {"dev-data": EXPECTED}


def test_every_output_format_shows_the_change_summary(mixed_result, tmp_path):
    formats = available_formats()
    assert {"json", "sarif", "junit", "markdown"} <= set(formats)
    written = {p.name: p for p in write_reports(mixed_result, tmp_path, formats)}
    assert set(written) == {FILES[f] for f in formats}

    doc = json.loads(written["aegis-plan.json"].read_text())
    assert doc["plans"][0]["changes"] == EXPECTED and doc["verdict"] == "fail"

    sarif = json.loads(written["aegis-plan.sarif"].read_text())
    assert sarif["runs"][0]["properties"]["plans"][0]["changes"] == EXPECTED
    notes = [n["message"]["text"] for n in sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    assert "dev-data: planned changes: create 1, update 1, replace 1, delete 1, no-op 1" in notes

    junit = ET.parse(written["aegis-plan.junit.xml"]).getroot()
    suite = next(s for s in junit.iter("testsuite") if s.get("name") == "dev-data")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert {k: props[f"changes:{k}"] for k in EXPECTED} == {k: str(v) for k, v in EXPECTED.items()}

    markdown = written["aegis-plan.md"].read_text()
    assert "### Planned changes" in markdown and "| `dev-data` | 1 | 1 | 1 | 1 | 1 | fail | - |" in markdown
    if "html" in formats:
        page = written["aegis-plan.html"].read_text()
        assert page.count("<h2>Planned changes</h2>") == 1  # rendered once, by the HTML writer
        assert "dev-data" in page.split("<h2>Planned changes</h2>")[1]

    terminal = render_terminal(mixed_result)
    assert "Planned changes" in terminal and "dev-data" in terminal.split("Planned changes")[1]


def test_reports_carry_the_synth_gate_content_too(mixed_result):
    doc = json.loads(render(mixed_result, "json"))
    assert {"tool", "verdict", "findings", "suppressions", "summary"} <= set(doc)
    assert any(f["check_id"] == "AEGIS_PLAN_STATEFUL_DELETE" for f in doc["findings"])


# ---------------------------------------------------------------- gate --plan on the command line

def test_gate_plan_option_judges_plan_files(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import main

    item = stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB)))
    loose = write_plan(tmp_path / "elsewhere", plan_doc(delete("aws_s3_bucket", "b", BUCKET)), "tfplan.json")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    ok = runner.invoke(main.cli, ["gate", "--plan", str(item.json_path), "--out", "reports", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads((tmp_path / "reports" / "aegis-plan.json").read_text())["plans"][0]["stack"] == "dev-data"
    failing = runner.invoke(main.cli, ["gate", "--plan", str(loose), "--plan", str(item.json_path),
                                       "--out", "reports", "--format", "json"])
    assert failing.exit_code == 1, failing.output
    plans = json.loads((tmp_path / "reports" / "aegis-plan.json").read_text())["plans"]
    assert [p["stack"] for p in plans] == ["tfplan", "dev-data"] and plans[0]["env"] is None
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    error = runner.invoke(main.cli, ["gate", "--plan", str(broken), "--out", "reports", "--format", "json"])
    assert error.exit_code == 2 and "not valid JSON" in error.output


# ---------------------------------------------------------------- checkov's view: references as the synth gate saw them

TABLE_AFTER = {"name": "aegis-dev-features", "billing_mode": "PAY_PER_REQUEST", "hash_key": "pk",
               "attribute": [{"name": "pk", "type": "S"}], "deletion_protection_enabled": True,
               "point_in_time_recovery": [{"enabled": True}],
               "server_side_encryption": [{"enabled": True, "kms_key_arn": KEY_ARN}]}
TABLE_SYNTH = {"resource": {"aws_dynamodb_table": {"storage_table": {
    "name": "aegis-dev-features", "billing_mode": "PAY_PER_REQUEST", "hash_key": "pk",
    "attribute": [{"name": "pk", "type": "S"}], "deletion_protection_enabled": True,
    "point_in_time_recovery": {"enabled": True},
    "server_side_encryption": {"enabled": True, "kms_key_arn": "${data.aws_kms_key.kms-inference.arn}"}}}}}
TABLE_REFS = {"server_side_encryption": ["data.aws_kms_key.kms-inference.arn", "data.aws_kms_key.kms-inference"]}


def table_plan():
    doc = plan_doc(create("aws_dynamodb_table", "storage_table", TABLE_AFTER))
    expressions = doc["configuration"]["root_module"]["resources"][0]["expressions"]
    expressions["server_side_encryption"] = [{"enabled": {"constant_value": True},
                                              "kms_key_arn": {"references": TABLE_REFS["server_side_encryption"]}}]
    return doc


def test_checkov_sees_attributes_set_by_reference_in_their_synthesized_form():
    from policies.plan.checkov_view import checkov_text
    from policies.plan.plan_json import parse

    plan = parse(json.dumps(table_plan()).encode(), "p")
    assert checkov_text(plan, None) == (plan.text, 0)
    text, replaced = checkov_text(plan, TABLE_SYNTH)
    values = json.loads(text)["planned_values"]["root_module"]["resources"][0]["values"]
    assert replaced == 1
    assert values["server_side_encryption"] == {"enabled": True, "kms_key_arn": "${data.aws_kms_key.kms-inference.arn}"}
    assert values["point_in_time_recovery"] == [{"enabled": True}]  # a constant: judged as planned
    assert plan.doc["planned_values"]["root_module"]["resources"][0]["values"]["server_side_encryption"][0][
        "kms_key_arn"] == KEY_ARN  # the plan checks keep the resolved value


def test_a_key_class_is_judged_from_the_reference_when_the_stack_json_comes_with_the_plan(tmp_path):
    with_synth = stack_plan(tmp_path / "a", table_plan(), "dev-platform")
    with_synth.synth_doc.write_text(json.dumps(TABLE_SYNTH))
    as_synthesized(tmp_path / "a" / "cdktf.out")  # Aegis's own stack file: used
    without = stack_plan(tmp_path / "b", table_plan(), "dev-platform")
    without.synth_doc = None

    def status(result):
        return {f.status for f in result.findings if f.check_id == "CKV_AEGIS_13"}

    assert status(gate(with_synth, attest=False)) == {"passed"}
    # A bare key ARN cannot be shown to be the inference key: without the stack JSON it fails closed.
    assert status(gate(without, attest=False)) == {"failed"}


def test_a_plan_as_terraform_1_10_writes_it(tmp_path):
    """fixtures/replace_and_suspend.json carries the parts a real plan has (prior_state, drift, replace_paths,
    relevant_attributes, sensitivity, computed values unknown): the bucket replace and the suspension block."""
    folder = tmp_path / "plans"
    folder.mkdir()
    path = folder / "dev-data.json"
    path.write_bytes((Path(__file__).parent / "fixtures" / "replace_and_suspend.json").read_bytes())
    result = gate(PlanInput.infer(path))
    assert result.exit_code == 1 and result.thresholds == {"dev": "high"}
    blocking = {(f.check_id, f.address) for f in result.findings if f.blocking and f.source == "plan"}
    assert blocking == {("AEGIS_PLAN_STATEFUL_DELETE", "aws_s3_bucket.bucket-datasets_bucket_0E4C8F21"),
                        ("AEGIS_PLAN_VERSIONING_SUSPENDED", "aws_s3_bucket_versioning.bucket-datasets_versioning_4A1B2C3D")}
    assert result.changes == {"dev-data": {"create": 0, "update": 1, "replace": 1, "delete": 0, "no-op": 0}}


def test_an_internal_error_fails_closed(tmp_path, monkeypatch):
    import policies.plan.plan_source as plan_source

    def broken(ctx, order=()):
        raise RuntimeError("a bug in a plan check")

    monkeypatch.setattr(plan_source, "run_checks", broken)
    result = gate(stack_plan(tmp_path, plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))))
    assert result.exit_code == 2 and result.errors == ["internal error: RuntimeError: a bug in a plan check"]
    assert result.plans == [] or all(p.attestation is None for p in result.plans)


# ---------------------------------------------------------------- attestations: the whole run or nothing

def _three_passing_stacks(tmp_path):
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))
    return [stack_plan(tmp_path, doc, stack) for stack in ("dev-data", "dev-platform", "dev-access")]


def test_attack_binary_swapped_in_one_stack_leaves_no_stack_of_the_run_attested(tmp_path):
    """A binary that changed between `terraform plan` and the gate ends the run in an error: the other,
    passing stacks of that run must not keep an attestation that apply would accept."""
    items = _three_passing_stacks(tmp_path)
    items[1].binary.write_bytes(b"another plan, written after terraform plan")
    result = gate(*items)
    assert result.exit_code == 2
    assert any("dev-platform: aegis.tfplan changed between `terraform plan` and the gate" in e for e in result.errors)
    assert [attestation.attestation_path(i.binary).exists() for i in items] == [False, False, False]
    assert all(p.verdict == "error" and p.attestation is None for p in result.plans)


def test_an_attestation_that_cannot_be_written_removes_the_ones_written_before_it(tmp_path, monkeypatch):
    items = _three_passing_stacks(tmp_path)
    real_write = attestation.write

    def write(record, plan_file):
        if record["stack"] == "dev-access":
            raise OSError(28, "No space left on device")
        return real_write(record, plan_file)

    monkeypatch.setattr(attestation, "write", write)
    result = gate(*items)
    assert result.exit_code == 2
    assert any("dev-access: the attestation could not be written (No space left on device)" in e
               for e in result.errors)
    assert [attestation.attestation_path(i.binary).exists() for i in items] == [False, False, False]
