"""checkov in-process: the required_version fix, complete scans, real addresses."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import scanner
from policies.scan import passes, patches, registry
from tests.policies.gate.conftest import bucket, stack_doc, write_out


def test_plain_checkov_fails_open_on_cdktf_json_and_the_gate_does_not(tmp_path):
    """The reproduced trap: plain checkov parses nothing (exit 0); the gate's scanner parses all."""
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    env = {**os.environ, **scanner.OFFLINE_ENV}
    plain = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-d", str(out), "--framework", "terraform_json", "--skip-download",
         "-o", "json", "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    summary = json.loads(plain.stdout)
    summary = summary[0] if isinstance(summary, list) else summary
    assert plain.returncode == 0 and summary["summary"]["parsing_errors"] == 1
    assert summary["summary"]["passed"] + summary["summary"]["failed"] == 0

    scan = scanner.scan_json([out / "stacks/dev-data/cdk.tf.json"])
    assert scan.parsing_errors == []
    assert scan.parsed == {(out / "stacks/dev-data/cdk.tf.json").resolve(): {"aws_s3_bucket.b1"}}
    assert {r.check_id for r in scan.results if not r.passed} >= {"CKV_AWS_145", "CKV_AWS_18"}


def test_required_version_is_kept_not_dropped(tmp_path):
    from checkov.terraform_json.parser import loads

    registry.import_checkov()
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(stack_doc({})))
    template, _ = loads(path)
    assert {"required_version": [">= 1.10"]} in template["terraform"]


def test_import_blocks_of_adopted_singletons_do_not_stop_the_scan(tmp_path):
    """checkov's terraform_json parser raises on a top-level `import` list; the stack is still scanned whole."""
    doc = stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})
    doc["import"] = [{"id": "b1", "to": "aws_s3_bucket.b1"}]
    out = write_out(tmp_path, {"dev-data": doc})
    scan = scanner.scan_json([out / "stacks/dev-data/cdk.tf.json"])
    assert scan.parsing_errors == []
    assert scan.parsed == {(out / "stacks/dev-data/cdk.tf.json").resolve(): {"aws_s3_bucket.b1"}}
    assert {r.check_id for r in scan.results if not r.passed} >= {"CKV_AWS_145", "CKV_AWS_18"}


def test_every_resource_of_every_stack_reaches_the_checks(app_gate, synthesized):
    """Runtime guard in the gate, checked here against an independent count of the JSON."""
    assert app_gate.errors == [], app_gate.errors
    for name in synthesized.stack_names:
        doc = synthesized.stack(name)
        expected = sum(len(items) for items in doc.get("resource", {}).values())
        expected += sum(len(items) for items in doc.get("data", {}).values())
        assert app_gate.stacks[name] == expected, name
    assert sum(app_gate.stacks.values()) > 0


def test_python_check_results_carry_the_real_address(app_gate, synthesized):
    """checkov's terraform_json runner reports `resource.<name>`; the gate restores `<type>.<name>`."""
    for f in app_gate.findings:
        if f.source == "checkov" and f.address:
            assert not f.address.startswith("resource."), f.address
            prefix, rtype, name = ("", *f.address.split(".", 1)) if not f.address.startswith(("data.", "provider."))\
                else f.address.split(".", 2) + [""] * (3 - len(f.address.split(".", 2)))
            if prefix == "":
                assert name in synthesized.resources(f.stack, rtype), f.address


def test_results_point_at_the_resource_lines(app_gate, synthesized):
    f = next(f for f in app_gate.findings if f.address.startswith("aws_s3_bucket.") and f.line)
    lines = synthesized.path(f.stack).read_text().splitlines()
    name = f.address.split(".", 1)[1]
    assert f'"{name}": {{' in lines[f.line - 1]


def test_libyaml_reading_equals_checkovs_own(synthesized):
    """The gate reads the JSON through libyaml; checkov's pure-Python loader must agree exactly
    (values and the __startline__/__endline__ marks the results point at)."""
    from checkov.common.parsers.yaml import loader

    registry.import_checkov()
    for name in synthesized.stack_names:
        text = synthesized.path(name).read_text()
        assert patches._FastJsonLoader.loads(text) == loader.loads(text), name


def test_parallel_workers_give_the_same_scan(synthesized):
    files = [synthesized.path(n) for n in synthesized.stack_names if n.startswith("dev-")]
    one = scanner.scan_json(files, workers=1)
    two = scanner.scan_json(files, workers=2)
    key = lambda r: (str(r.file), r.address, r.check_id)  # noqa: E731
    assert sorted(one.results, key=key) == sorted(two.results, key=key)
    assert one.parsed == two.parsed and one.lines == two.lines and one.parsing_errors == two.parsing_errors == []


def test_a_dying_worker_is_an_error(tmp_path, monkeypatch):
    import pytest

    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}}),
                               "dev-access": stack_doc({"aws_s3_bucket": {"b2": bucket("b2")}})})
    monkeypatch.setattr(passes, "scan_group", _die)
    with pytest.raises(scanner.ScanError, match="worker died"):
        scanner.scan_json(sorted(out.rglob("cdk.tf.json")), workers=2)


def _die(files, wanted):  # module level: the worker pool pickles it by name
    os._exit(3)


def test_reused_expression_interpreter_gives_the_same_scan(synthesized, monkeypatch):
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions as sef

    files = [synthesized.path(n) for n in synthesized.stack_names if n.startswith("prod-")]
    reused = scanner.scan_json(files, workers=1)
    monkeypatch.setattr(sef, "get_asteval", sef.get_asteval.original)
    fresh = scanner.scan_json(files, workers=1)
    key = lambda r: (str(r.file), r.address, r.check_id)  # noqa: E731
    assert sorted(reused.results, key=key) == sorted(fresh.results, key=key)


def test_dropping_cdktf_metadata_gives_the_same_scan(synthesized, monkeypatch):
    files = [synthesized.path(n) for n in synthesized.stack_names if n.startswith("prod-")]
    from policies.gate import CHECKS_DIR

    assert all('"//": {' in f.read_text() for f in files)  # every stack carries the metadata
    dropped = scanner.scan_json(files, CHECKS_DIR, workers=1)
    monkeypatch.setattr(patches, "_without_metadata", lambda named: named)
    kept = scanner.scan_json(files, CHECKS_DIR, workers=1)
    key = lambda r: (str(r.file), r.address, r.check_id)  # noqa: E731
    assert len(dropped.results) > 800
    assert sorted(dropped.results, key=key) == sorted(kept.results, key=key)  # lines included
    assert dropped.parsed == kept.parsed and dropped.lines == kept.lines


def test_skipping_the_empty_index_search_gives_the_same_scan(synthesized, monkeypatch):
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    from policies.gate import CHECKS_DIR

    files = [synthesized.path(n) for n in synthesized.stack_names if n.startswith("prod-")]
    skipped = scanner.scan_json(files, CHECKS_DIR, workers=1)
    monkeypatch.setattr(TerraformLocalGraph, "_get_possible_vertices",
                        TerraformLocalGraph._get_possible_vertices.original)
    searched = scanner.scan_json(files, CHECKS_DIR, workers=1)
    key = lambda r: (str(r.file), r.address, r.check_id)  # noqa: E731
    assert sorted(skipped.results, key=key) == sorted(searched.results, key=key)


def test_names_with_an_index_keep_checkovs_own_search(tmp_path, monkeypatch):
    """A stack with count/for_each instances written out (`k[0]`): the search runs as checkov wrote it."""
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    resources = {"aws_kms_key": {"k[0]": {"enable_key_rotation": True}},
                 "aws_s3_bucket_server_side_encryption_configuration": {"sse": {
                     "bucket": "b", "rule": [{"apply_server_side_encryption_by_default": [
                         {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.k.arn}"}]}]}}}
    out = write_out(tmp_path, {"dev-data": stack_doc(resources)})
    registry.import_checkov()  # installs the shortcut
    calls = []
    original = TerraformLocalGraph._get_possible_vertices.original
    monkeypatch.setattr(TerraformLocalGraph._get_possible_vertices, "original",
                        lambda *args: calls.append(args[3]) or original(*args))
    scan = scanner.scan_json([out / "stacks/dev-data/cdk.tf.json"], workers=1)
    assert scan.parsing_errors == [] and "aws_kms_key.k" in calls  # checkov's own search, for the unindexed name


def test_each_stack_is_its_own_graph(tmp_path):
    """Stacks share logical ids across environments; one checkov graph over several stacks would
    connect a reference in one stack to the same-named resource of another (and make graph checks
    depend on grouping). Each stack must be judged alone."""
    efs = {"fs": {"//": {"metadata": {"path": "a/fs", "uniqueId": "fs"}}, "encrypted": True}}
    selection = {"sel": {"name": "sel", "iam_role_arn": "arn:aws:iam::111122223333:role/backup",
                         "plan_id": "${aws_backup_plan.plan.id}",
                         "resources": ["${aws_efs_file_system.fs.arn}"]}}
    plan = {"plan": {"name": "plan", "rule": [{"rule_name": "r", "target_vault_name": "v"}]}}
    covered = tmp_path / "stacks" / "covered" / "cdk.tf.json"
    uncovered = tmp_path / "stacks" / "uncovered" / "cdk.tf.json"
    for path, resources in ((covered, {"aws_efs_file_system": efs, "aws_backup_selection": selection,
                                        "aws_backup_plan": plan}),
                            (uncovered, {"aws_efs_file_system": efs})):
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(stack_doc(resources)))
    scan = scanner.scan_json([covered, uncovered], workers=1)
    backup = {(r.file.parent.name, r.passed) for r in scan.results if r.check_id == "CKV2_AWS_18"}
    # The selection in `covered` says nothing about the file system of `uncovered`: judged alone,
    # `uncovered` has no backup selection in its graph, so checkov reports nothing for it there.
    assert ("covered", True) in backup
    assert [s for s, _ in backup if s == "uncovered"] == []


def test_the_collector_is_unfrozen_after_a_scan_even_a_failed_one(tmp_path, monkeypatch):
    import gc

    import pytest

    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    files = [out / "stacks/dev-data/cdk.tf.json"]
    scanner.scan_json(files, workers=1)
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(passes, "_runner_filter", lambda: 1 / 0)
    with pytest.raises(scanner.ScanError, match="checkov crashed"):
        scanner.scan_json(files, workers=1)
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("text", [
    '{\n  "a": {\n    "b": "x { y } \\" z",\n    "c": [\n      {"d": 1},\n      {\n        "e": [1.5, -2, true, null]\n      }\n    ]\n  },\n  "f": {}\n}\n',
    '{"a": "\\\\", "b": "\\\\\\"{", "c": {"d": "}"}}',              # escaped backslashes and quotes
    '{\n  "name": "caf\\u00e9 \\u2713 ✓",\n  "tab": "a\\tb\\n"\n}',     # escapes and raw unicode
    '{"n": 1e5, "m": {"k": 2.5E+3}}',                               # exponents: YAML reads strings
    '{"<<": {"a": 1}, "b": 2}',                                     # YAML's merge key
    '{"x": NaN}',
    '{"emoji": "\\ud83d\\ude00"}',                                   # a surrogate pair
    '[{"a": 1}]',                                                   # not an object
    '',
])
def test_json_reading_equals_checkovs_own(text):
    """Every reading the gate can take gives what checkov's own loader gives: values, key order and the
    line marks on every object."""
    from checkov.common.parsers.yaml import loader

    registry.import_checkov()
    ours, theirs = patches._FastJsonLoader.loads(text), loader.loads(text)
    assert json.dumps(ours) == json.dumps(theirs)


# One alternation per character: how the JSON token pattern spelled a string before it was unrolled.
_TOKEN_BY_CHARACTER = re.compile(r'"(?:[^"\\]|\\.)*"|[{}]|([0-9][eE]|NaN|Infinity)')


def _tokens(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str | None]]:
    return [(m.start(), m.end(), m.group(1)) for m in pattern.finditer(text)]


@settings(max_examples=1000, deadline=None)
@given(text=st.text(alphabet='"\\{}\n ab1eE', max_size=40))
def test_the_unrolled_string_pattern_finds_the_same_tokens(text):
    """Any text, escapes, unclosed strings and line breaks in strings included."""
    assert _tokens(patches._JSON_TOKEN, text) == _tokens(_TOKEN_BY_CHARACTER, text)


def test_the_unrolled_string_pattern_finds_the_same_tokens_in_cdktf_output(synthesized):
    text = synthesized.path("prod-platform").read_text()
    assert len(_tokens(patches._JSON_TOKEN, text)) > 1000
    assert _tokens(patches._JSON_TOKEN, text) == _tokens(_TOKEN_BY_CHARACTER, text)


def test_json_reading_takes_the_fast_path_on_cdktf_output(synthesized):
    text = synthesized.path("prod-platform").read_text()
    doc = patches._json_with_lines(text)
    assert doc is not None and doc["__startline__"] == 1 and doc["__endline__"] == len(text.splitlines())


def _key(result):
    return str(result.file), result.address, result.check_id, result.lines


def test_a_stack_bigger_than_an_even_share_is_split_into_its_two_passes(tmp_path):
    def stack(name: str, size: int) -> Path:
        path = tmp_path / name
        path.write_text("x" * size)
        return path

    big, small = stack("big.json", 900_000), stack("small.json", 100_000)
    groups = passes.partition([big, small], 2)
    tasks = sorted(task for group in groups for task in group)
    assert tasks == [(big, (passes.GRAPH_PASS,)), (big, (passes.RESOURCE_PASS,)), (small, passes.BOTH_PASSES)]
    assert groups[0] == [(big, (passes.GRAPH_PASS,))]  # the graph pass, most of the work, has a worker to itself
    assert passes.partition([big, small], 1) == [[(big, passes.BOTH_PASSES), (small, passes.BOTH_PASSES)]]
    even = [stack(f"even-{i}.json", 300_000) for i in range(4)]  # half a share each: whole stacks balance
    assert sorted(task for group in passes.partition(even, 2) for task in group) == \
        [(path, passes.BOTH_PASSES) for path in even]


def test_a_stack_split_between_workers_gives_the_same_scan(synthesized):
    """prod-platform is over half of these two stacks: its passes run in different workers."""
    files = [synthesized.path("prod-platform"), synthesized.path("prod-bootstrap")]
    split = [task for group in passes.partition([f.resolve() for f in files], 2) for task in group]
    assert (files[0].resolve(), (passes.GRAPH_PASS,)) in split
    whole = scanner.scan_json(files, workers=1)
    parts = scanner.scan_json(files, workers=2)
    assert sorted(whole.results, key=_key) == sorted(parts.results, key=_key)
    assert {r.check_id for r in parts.results} & {"CKV2_AWS_5", "CKV_AWS_79"} == {"CKV2_AWS_5", "CKV_AWS_79"}
    assert whole.parsed == parts.parsed and whole.lines == parts.lines and parts.parsing_errors == []


def test_building_the_graph_leaves_the_definitions_as_they_were(synthesized):
    """Why the resource checks may run apart from the graph: they read the definitions, which checkov's
    graph build does not change (a checkov upgrade that did would fail here)."""
    import pickle

    from checkov.terraform_json.utils import create_definitions

    runner_class = registry.import_checkov()
    for name in synthesized.stack_names:
        definitions, _, errors = create_definitions([str(synthesized.path(name))])
        before = pickle.dumps(definitions)
        passes.pass_runner(runner_class)().graph_manager.build_graph_from_definitions(definitions)
        assert errors == [] and pickle.dumps(definitions) == before, name


def test_a_pass_that_did_not_run_is_an_error(synthesized, monkeypatch):
    files = [synthesized.path("prod-platform"), synthesized.path("prod-bootstrap")]
    real = passes.partition
    monkeypatch.setattr(passes, "partition", lambda paths, groups: [
        [task for task in group if task[1] != (passes.GRAPH_PASS,)] for group in real(paths, groups)])
    with pytest.raises(scanner.ScanError, match="did not run both its passes on: prod-platform/cdk.tf.json"):
        scanner.scan_json(files, workers=2)


def test_importing_the_scanner_sets_the_offline_settings_and_loads_no_checkov():
    """`prewarm` forks only while checkov is not loaded yet, and checkov reads its settings when imported:
    importing the scanner (and all of policies/scan/) must set them and leave checkov unimported."""
    code = ("import os, sys; import policies.scanner, policies.scan.passes, policies.scan.patches; "
            "from policies.scan.registry import OFFLINE_ENV; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'checkov'), "
            "all(os.environ[k] == v for k, v in OFFLINE_ENV.items()))")
    env = {k: v for k, v in os.environ.items() if k not in scanner.OFFLINE_ENV}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] True"
