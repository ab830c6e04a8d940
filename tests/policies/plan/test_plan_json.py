"""Plan JSON loading: what is accepted, and every malformed, unsupported or oddly encoded plan that
must be refused (PlanError → exit 2), never judged as a pass."""
from __future__ import annotations

import codecs
import json

import pytest

from policies.plan.plan_json import PlanError, parse
from tests.policies.plan.conftest import PAB, create, delete, noop, plan_doc, replace, update


def raw(doc) -> bytes:
    return json.dumps(doc, indent=2).encode("utf-8")


GOOD = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB))


def test_a_documented_plan_loads_with_its_parts():
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "a", PAB),
                   delete("aws_s3_bucket", "old", {"bucket": "b-old", "id": "b-old"}),
                   noop("aws_s3_bucket_versioning", "v", {"bucket": "b"}))
    plan = parse(raw(doc), "plan.json")
    assert plan.format_version == "1.2" and plan.terraform_version == "1.10.5"
    assert [rc.kind for rc in plan.changes] == ["create", "delete", "no-op"]
    assert set(plan.planned) == {"aws_s3_bucket_public_access_block.a", "aws_s3_bucket_versioning.v"}
    assert "aws_s3_bucket.old" in plan.prior
    assert plan.encoding == "utf-8" and len(plan.sha256) == 64


@pytest.mark.parametrize("order", [("delete", "create"), ("create", "delete")])
def test_replace_in_either_order_is_a_replace_that_deletes(order):
    doc = plan_doc(replace("aws_s3_bucket", "b", {"bucket": "x"}, {"bucket": "y"}, order=order))
    rc = parse(raw(doc), "p").changes[0]
    assert rc.kind == "replace" and rc.deletes and rc.is_replace


def test_create_then_forget_is_a_replace_that_does_not_delete():
    doc = plan_doc(replace("aws_s3_bucket", "b", {"bucket": "x"}, {"bucket": "x"}, order=("create", "forget")))
    rc = parse(raw(doc), "p").changes[0]
    assert rc.kind == "replace" and not rc.deletes


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.9"])
def test_every_1x_format_version_is_accepted(version):
    assert parse(raw({**GOOD, "format_version": version}), "p").format_version == version


@pytest.mark.parametrize("version", ["0.2", "2.0", "1", "1.2.0", "", 1.2, None])
def test_unsupported_format_versions_are_refused(version):
    doc = {**GOOD, "format_version": version}
    with pytest.raises(PlanError, match="format_version"):
        parse(raw(doc), "p")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("planned_values"), "planned_values"),
    (lambda d: d.pop("configuration"), "configuration"),
    (lambda d: d.pop("terraform_version"), "terraform_version"),
    (lambda d: d.update(resource_changes={"a": 1}), "must be a list"),
    (lambda d: d["resource_changes"][0]["change"].update(actions=["destroy"]), "not ones Terraform emits"),
    (lambda d: d["resource_changes"][0]["change"].update(actions=["create", "update"]), "not ones Terraform emits"),
    (lambda d: d["resource_changes"][0].pop("change"), "`change` is missing"),
    (lambda d: d["resource_changes"][0].pop("address"), "`address` is missing"),
    (lambda d: d["resource_changes"][0].update(mode="weird"), "unknown mode"),
    (lambda d: d["planned_values"]["root_module"].update(resources=[]), "missing from `planned_values`"),
    (lambda d: d.update(errored=True), "errored"),
    (lambda d: d["resource_changes"].append(d["resource_changes"][0]), "appears twice"),
])
def test_malformed_plans_are_refused(mutate, message):
    doc = json.loads(json.dumps(GOOD))
    mutate(doc)
    with pytest.raises(PlanError, match=message):
        parse(raw(doc), "plan.json")


KEY = {"arn": "arn:aws:kms:eu-west-1:111122223333:key/k", "key_id": "k", "is_enabled": True}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("resource_changes"), "`resource_changes` is missing"),
    (lambda d: d.update(resource_changes=[rc for rc in d["resource_changes"] if rc["type"] != "aws_kms_key"]),
     "aws_kms_key.k is in `prior_state` but has no entry in `resource_changes`"),
    (lambda d: d["planned_values"]["root_module"]["resources"].append(
        {**d["planned_values"]["root_module"]["resources"][0], "address": "aws_kms_key.k", "type": "aws_kms_key",
         "name": "k"}), "aws_kms_key.k leaves the state \\(delete\\) but is still in `planned_values`"),
])
def test_attack_resource_changes_missing_or_inconsistent_with_the_state_is_refused(mutate, message):
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB), delete("aws_kms_key", "k", KEY))
    parse(raw(doc), "plan.json")  # as terraform writes it
    mutate(doc)
    with pytest.raises(PlanError, match=message):
        parse(raw(doc), "plan.json")


def test_a_planned_resource_without_a_change_is_refused():
    doc = plan_doc(create("aws_s3_bucket_public_access_block", "pab", PAB), delete("aws_kms_key", "k", KEY))
    doc["resource_changes"] = [rc for rc in doc["resource_changes"] if rc["type"] == "aws_kms_key"]
    with pytest.raises(PlanError, match="in `planned_values` but has no entry in `resource_changes`"):
        parse(raw(doc), "plan.json")


def test_a_plan_with_no_resources_may_leave_out_resource_changes():
    doc = plan_doc()
    doc.pop("resource_changes")  # terraform omits the empty list
    assert parse(raw(doc), "plan.json").changes == []


def test_an_update_without_before_is_refused():
    doc = plan_doc(update("aws_s3_bucket_public_access_block", "a", PAB, PAB))
    doc["resource_changes"][0]["change"]["before"] = None
    with pytest.raises(PlanError, match="needs the object's `before`"):
        parse(raw(doc), "p")


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"   \n", "empty file"),
    (b"[]", "top level must be a JSON object"),
    (b"{\"format_version\": \"1.2\",", "not valid JSON"),
    (b"not json at all", "not valid JSON"),
    (b'{"format_version": "1.2", "format_version": "1.2"}', "duplicate key 'format_version'"),
    (b'{"format_version": "1.2", "x": NaN}', "'NaN' is not JSON"),
    (json.dumps({"format_version": "1.0", "terraform_version": "1.10.5", "values": {}}).encode(), "state file"),
])
def test_broken_json_is_refused(content, message):
    with pytest.raises(PlanError, match=message):
        parse(content, "plan.json")


def test_error_messages_name_the_file_and_line():
    with pytest.raises(PlanError) as caught:
        parse(b'{\n  "format_version": "1.2",\n  oops\n}', "stacks/dev-data/aegis.tfplan.json")
    assert str(caught.value).startswith("stacks/dev-data/aegis.tfplan.json: not valid JSON (line 3")


# ---- encodings: UTF-8 (BOM or not) read; UTF-16 with a BOM decoded explicitly; everything else refused

def test_utf8_with_bom_is_read():
    plan = parse(codecs.BOM_UTF8 + raw(GOOD), "p")
    assert plan.encoding == "utf-8-sig" and not plan.text.startswith("\ufeff")


@pytest.mark.parametrize("codec, bom", [("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE)])
def test_utf16_with_a_bom_is_decoded_explicitly(codec, bom):
    text = json.dumps(GOOD, indent=2)
    plan = parse(bom + text.encode(codec), "powershell.json")
    assert plan.encoding == "utf-16"
    assert plan.text == text  # line for line: checkov's line numbers stay those of the file
    assert plan.changes[0].address == "aws_s3_bucket_public_access_block.pab"


def test_utf16_without_a_bom_is_refused():
    with pytest.raises(PlanError, match="UTF-16 without a byte-order mark"):
        parse(json.dumps(GOOD).encode("utf-16-le"), "p")


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_is_refused(codec):
    data = json.dumps(GOOD).encode(codec)
    if codec == "utf-32-be":
        data = codecs.BOM_UTF32_BE + data
    with pytest.raises(PlanError, match="UTF-32"):
        parse(data, "p")


def test_invalid_utf8_is_refused_with_the_byte_offset():
    data = raw(GOOD).replace(b"aegis-dev", b"aegis-d\xe9v", 1)  # Latin-1 é
    with pytest.raises(PlanError, match=r"not valid UTF-8 \(byte \d+"):
        parse(data, "p")


def test_a_binary_plan_given_as_json_is_refused():
    with pytest.raises(PlanError, match="NUL bytes"):
        parse(b"PK\x03\x04\x14\x00\x00\x00binary plan", "aegis.tfplan")
