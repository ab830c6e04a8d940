"""The synth output folder (modules/synth_output.py): the reader (stack names, CDKTF's `//` metadata left
out, and every way a synth output can be unreadable is a SynthOutputError naming the file), and the
folder replaced whole (the new output is built beside it and swapped in, and nothing is left behind)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.synth_output import (
    SynthOutputError,
    load_stack,
    load_stacks,
    manifest_entries,
    manifest_stacks,
    resources,
    resources_of_type,
    split_stack,
    stack_parts,
    staging_folder,
    swap_in,
    typed_resources,
)

DOC = {
    "//": {"metadata": {"version": "0.20"}},
    "resource": {
        "aws_s3_bucket": {
            "//": {"note": "type-level metadata"},
            "b1": {"//": {"metadata": {"path": "dev-data/datasets/bucket"}}, "bucket": "b1"},
            "b2": {"bucket": "b2"},
        },
        "aws_kms_key": {"k": {"description": "key"}},
        "odd": ["not", "a", "mapping"],
    },
    "data": {"aws_kms_key": {"kms-model": {"key_id": "alias/x"}}},
}


def write(out: Path, stacks: dict[str, object], manifest: object = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, doc in stacks.items():
        (out / "stacks" / name).mkdir(parents=True)
        (out / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
        entries[name] = {"synthesizedStackPath": f"stacks/{name}/cdk.tf.json"}
    (out / "manifest.json").write_text(json.dumps({"stacks": entries} if manifest is None else manifest))
    return out


@pytest.mark.parametrize("name, parts", [
    ("dev-data", ("dev", "data")), ("eu-prod-2-governance", ("eu-prod-2", "governance")),
    ("dev-bootstrap", ("dev", "bootstrap")), ("data", None), ("-data", None), ("dev-pipeline", None)])
def test_stack_names_split_into_env_and_pillar(name, parts):
    assert stack_parts(name) == parts
    if parts:
        assert split_stack(name) == parts
    else:
        with pytest.raises(SynthOutputError, match=rf"stack '{name}' is not named <env>-<pillar>"):
            split_stack(name)


def test_resources_leave_out_metadata_and_non_mappings():
    found = {r.address: r for r in resources(DOC)}
    assert list(found) == ["aws_s3_bucket.b1", "aws_s3_bucket.b2", "aws_kms_key.k", "data.aws_kms_key.kms-model"]
    assert found["aws_s3_bucket.b1"].construct_path("fallback") == "dev-data/datasets/bucket"
    assert found["aws_s3_bucket.b2"].construct_path("fallback") == "fallback"
    assert [r.address for r in resources(DOC, ("resource",))][-1] == "aws_kms_key.k"
    assert dict(typed_resources(DOC)) == {"aws_s3_bucket": {"b1": DOC["resource"]["aws_s3_bucket"]["b1"],
                                                            "b2": {"bucket": "b2"}},
                                          "aws_kms_key": {"k": {"description": "key"}}}
    assert set(resources_of_type(DOC, "aws_s3_bucket")) == {"b1", "b2"}
    assert resources_of_type(DOC, "aws_kms_key", "data") == {"kms-model": {"key_id": "alias/x"}}


def test_a_readable_output_loads_every_stack_by_name(tmp_path):
    out = write(tmp_path / "out", {"dev-data": DOC, "dev-access": {"resource": {}}})
    assert list(manifest_stacks(out)) == ["dev-data", "dev-access"]  # the manifest's order
    assert list(load_stacks(out)) == ["dev-access", "dev-data"]
    assert manifest_entries(out)["dev-data"] == {"synthesizedStackPath": "stacks/dev-data/cdk.tf.json"}


@pytest.mark.parametrize("breakage, message", [
    (lambda out: (out / "manifest.json").unlink(), "out/manifest.json is missing"),
    (lambda out: (out / "manifest.json").write_text("{not json"), "out/manifest.json is not readable JSON"),
    (lambda out: (out / "manifest.json").write_text('{"stacks": []}'), "out/manifest.json has no `stacks` mapping"),
    (lambda out: (out / "manifest.json").write_text('{"stacks": {"dev-data": {}}}'),
     "stack dev-data has no synthesizedStackPath"),
    (lambda out: (out / "stacks/dev-data/cdk.tf.json").unlink(),
     "stack dev-data (stacks/dev-data/cdk.tf.json) is missing"),
    (lambda out: (out / "stacks/dev-data/cdk.tf.json").write_text("[]"), "stack dev-data: cdk.tf.json is not a JSON object"),
])
def test_an_unreadable_output_is_an_error_naming_the_file(tmp_path, breakage, message):
    out = write(tmp_path / "out", {"dev-data": DOC})
    breakage(out)
    with pytest.raises(SynthOutputError) as raised:
        load_stacks(out)
    assert message in str(raised.value) and str(tmp_path) not in str(raised.value)


def test_load_stack_reads_one_document(tmp_path):
    out = write(tmp_path / "out", {"dev-data": DOC})
    assert load_stack(out, "dev-data", out / "stacks/dev-data/cdk.tf.json") == DOC


def test_swap_in_replaces_the_output_and_leaves_nothing_beside_it(tmp_path):
    out = tmp_path / "cdktf.out"
    first = staging_folder(out, "synth")
    assert first.parent == tmp_path and first.name.startswith(".cdktf.out.synth-")
    (first / "old.json").write_text("old")
    swap_in(first, out)  # no output yet
    second = staging_folder(out, "cache")
    (second / "new.json").write_text("new")
    swap_in(second, out)
    assert [p.name for p in out.iterdir()] == ["new.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["cdktf.out"]
