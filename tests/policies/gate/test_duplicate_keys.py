"""A JSON object with a key twice (modules/strict_json.py): Terraform reads every copy, Python's parser
keeps the last, so the gate would judge less than Terraform deploys. Refused (exit 2, file and line)
in `.tf.json` under `gate --path`, in synth output stacks, in plan JSON, and by the scanner's own JSON
reader, the one whose result checkov judges."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from modules.strict_json import DuplicateKeyError, loads, locate_duplicate
from policies.plan.plan_json import PlanError, parse
from policies.scan import patches, registry
from policies.scan.passes import scan_group
from tests.policies.gate.conftest import bucket, stack_doc, write_out
from tests.synthesized import record_stacks_as_synthesized

OPEN_SG = {"aws_security_group": {"open": {
    "name": "open", "description": "fixture", "ingress": [{
        "from_port": 0, "to_port": 65535, "protocol": "-1", "cidr_blocks": ["0.0.0.0/0"], "description": "all",
        "ipv6_cidr_blocks": [], "prefix_list_ids": [], "security_groups": [], "self": False}]}},
    "aws_s3_bucket_public_access_block": {"pab": {
        "bucket": "b", "block_public_acls": False, "block_public_policy": False, "ignore_public_acls": False,
        "restrict_public_buckets": False}}}
HARMLESS = {"terraform_data": {"nothing": {"input": "x"}}}


def _two_resource_keys() -> str:
    """`{"resource": <open security group and access block off>, "resource": <nothing to judge>}`; the
    second `"resource"` key is on line 3."""
    return ('{\n  "resource": ' + json.dumps(OPEN_SG) + ',\n  "resource": ' + json.dumps(HARMLESS) + "\n}\n")


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if "duplicate key" in line]


def test_attack_duplicate_resource_key_in_tf_json_hides_an_open_security_group_under_path(tmp_path):
    folder = tmp_path / "tf"
    folder.mkdir()
    (folder / "main.tf.json").write_text(_two_resource_keys())
    result = CliRunner().invoke(cli, ["gate", "--path", str(folder), "--out", str(tmp_path / "r"),
                                      "--format", "json"])
    assert result.exit_code == 2, result.output
    assert "main.tf.json: duplicate key 'resource' at line 3" in " ".join(result.output.split())
    doc = json.loads((tmp_path / "r" / "aegis-gate.json").read_text())
    assert doc["verdict"] == "error" and doc["findings"] == []


def test_attack_duplicate_key_in_a_synthesized_stack_is_refused(tmp_path, no_exceptions):
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}})})
    path = out / "stacks" / "dev-data" / "cdk.tf.json"
    text = path.read_text()
    path.write_text(text.replace('"resource": {', '"resource": ' + json.dumps(OPEN_SG) + ',\n  "resource": {', 1))
    record_stacks_as_synthesized(out)  # as if synth had written it: the JSON reader itself must refuse it
    result = CliRunner().invoke(cli, ["gate", "--no-synth", "--env", "dev", "--synth-out", str(out), "--out",
                                      str(tmp_path / "r"), "--format", "json", "--exceptions", str(no_exceptions)])
    assert result.exit_code == 2, result.output
    line = text[: text.index('"resource": {')].count("\n") + 2
    assert (f"stack dev-data (stacks/dev-data/cdk.tf.json): duplicate key 'resource' at line {line}"
            in " ".join(result.output.split()))


def test_attack_duplicate_key_in_plan_json_is_refused_with_its_line():
    text = ('{\n  "format_version": "1.2",\n  "terraform_version": "1.10.5",\n  "planned_values": {},\n'
            '  "configuration": {},\n  "resource_changes": [],\n  "resource_changes": []\n}\n')
    with pytest.raises(PlanError, match=r"^plan\.json: duplicate key 'resource_changes' at line 7"):
        parse(text.encode(), "plan.json")


@pytest.mark.parametrize("text", [
    _two_resource_keys(),
    '{"resource": {"aws_s3_bucket": {"b": {"bucket": "x", "n": 1e5}}}, "resource": {}}',  # YAML path (exponent)
    '{"<<": {}, "resource": {}, "resource": {}}',                                        # YAML path (merge key)
])
def test_attack_duplicate_keys_never_reach_checkov_as_one_copy(text):
    """The scanner's JSON reader refuses on its fast path and on the YAML path alike."""
    registry.import_checkov()
    with pytest.raises(DuplicateKeyError, match="duplicate key 'resource'"):
        patches._FastJsonLoader.loads(text)


def test_attack_duplicate_keys_make_checkov_report_the_file_unparsed(tmp_path):
    path = tmp_path / "stacks" / "x" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(_two_resource_keys())
    scan = scan_group([(path, ("resource checks",))], set())
    assert scan.parsing_errors == [str(path.resolve())] and scan.parsed == {}


@pytest.mark.parametrize("text, key, line", [
    ('{"a": 1,\n "a": 2}', "a", 2),
    ('{"a": {"b": 1, "c": [ {"b": 1}, {"b": 2} ]},\n "d": {"x": 1,\n  "x": 2}}', "x", 3),  # only same-object keys
    ('{"s": "{\\"k\\": 1, \\"k\\": 2}",\n "\\u006b": 1, "k": 2}', "k", 2),  # escapes; braces inside strings
    ('[{"a": 1}, {"a": 1, "b": {},\n "a": 3}]', "a", 2),
])
def test_duplicates_are_found_with_their_line(text, key, line):
    with pytest.raises(DuplicateKeyError) as caught:
        loads(text)
    assert (caught.value.key, caught.value.line) == (key, line)


def test_repeated_keys_in_different_objects_are_fine():
    text = '{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 3}, {"k": 4}], "k": "{\\"k\\": 5}"}'
    assert loads(text) == json.loads(text) and locate_duplicate(text) is None


def test_synth_output_has_no_duplicate_keys(synthesized):
    for name in synthesized.stack_names:
        loads(Path(synthesized.path(name)).read_text())  # the gate's reader accepts what synth writes
