"""The graph build's shortcuts (policies/scan/patches.py) give what checkov's own code gives: the same
graph (vertices, attributes, edges) and the same scan (results, lines, details), each shortcut undone
on its own, on the synthesized app and on small stacks that take checkov's own path."""
from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import scanner
from policies.scan import passes, patches, registry
from tests.policies.gate.conftest import bucket, stack_doc, write_out
from tests.policies.gate.scan_comparison import assert_same_scan, undo


def _slots() -> dict[str, list[tuple[Any, str]]]:
    """Where each shortcut is installed: (owner, attribute) pairs whose value keeps `.original`."""
    from asteval.asteval import Interpreter
    from checkov.terraform.graph_builder import local_graph, utils
    from checkov.terraform.graph_builder.foreach.builder import ForeachBuilder
    from checkov.terraform.graph_builder.graph_components.blocks import TerraformBlock
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph
    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform, renderer
    from checkov.terraform.graph_builder.variable_rendering.renderer import TerraformVariableRenderer

    registry.import_checkov()
    return {
        "foreach rebuild": [(ForeachBuilder, "handle"), (TerraformLocalGraph, "_arrange_graph_data"),
                            (TerraformLocalGraph, "_build_edges")],
        "destination attributes": [(TerraformVariableRenderer, "_render_variables_from_edges"),
                                   (TerraformLocalGraph, "update_vertices_configs"),
                                   (TerraformLocalGraph, "get_vertex_attributes_by_index"),
                                   (TerraformLocalGraph, "update_vertex_attribute")],
        "reference parsing": [(utils, "get_referenced_vertices_in_str_value")],
        "plain evaluations": [(evaluate_terraform, "evaluate"), (evaluate_terraform, "evaluate_terraform")],
        "best match among none": [(TerraformLocalGraph, "_find_vertex_with_best_match")],
        "nested only for lists": [(utils, "attribute_has_nested_attributes"), (local_graph, "attribute_has_nested_attributes"),
                                  (renderer, "attribute_has_nested_attributes")],
        "parse without location walk": [(Interpreter, "parse")],
        "flatten in one dict": [(TerraformBlock, "get_inner_attributes")],
    }


def _plain(value: Any) -> Any:
    """A JSON-able form of checkov's graph objects (their slots), for comparing two graphs."""
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    slots = [s for cls in type(value).__mro__ for s in getattr(cls, "__slots__", ())]
    return {"type": type(value).__name__, **{s: getattr(value, s, None) for s in slots}, **getattr(value, "__dict__", {})}


def _graph(path) -> str:
    """The graph checkov builds of one stack: every vertex (attributes, config, breadcrumbs, changes) and edge."""
    from checkov.terraform_json.utils import create_definitions

    definitions, _, errors = create_definitions([str(path)])
    assert errors == []
    graph = passes.pass_runner(registry.import_checkov())().graph_manager.build_graph_from_definitions(definitions)
    vertices = [(v.name, v.block_type, v.attributes, v.config, v.breadcrumbs, v.changed_attributes)
                for v in graph.vertices]
    return json.dumps([vertices, [str(e) for e in graph.edges]], default=_plain)


@pytest.mark.parametrize("name", ["foreach rebuild", "destination attributes", "reference parsing",
                                  "plain evaluations", "best match among none", "nested only for lists",
                                  "parse without location walk", "flatten in one dict"])
def test_each_shortcut_gives_the_same_scan(name, prod_stacks, shortcut_scan, monkeypatch):
    from policies.gate import CHECKS_DIR

    undo(monkeypatch, _slots(), [name])
    assert len(shortcut_scan.results) > 800
    assert_same_scan(shortcut_scan, scanner.scan_json(prod_stacks, CHECKS_DIR, workers=1))


def test_the_shortcuts_build_the_same_graph(synthesized, monkeypatch):
    """Not only the verdicts: every vertex's rendered attributes and every edge, on the biggest stack."""
    path = synthesized.path("prod-platform")
    ours = _graph(path)
    undo(monkeypatch, _slots(), _slots())
    assert ours == _graph(path)


def test_the_edge_pass_is_not_repeated_when_for_each_expands_nothing(synthesized, monkeypatch):
    """CDKTF's for_each over a data source (unknown until apply) expands nothing: one edge pass."""
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    text = synthesized.path("prod-platform").read_text()
    assert '"for_each": "${toset(data.' in text
    calls = _count_edge_passes(monkeypatch, TerraformLocalGraph)
    _graph(synthesized.path("prod-platform"))
    assert calls == [1]


def test_a_for_each_that_expands_rebuilds_the_edges_as_checkov_does(tmp_path, monkeypatch):
    """A static for_each makes checkov copy the block per key: its second edge pass runs, same scan."""
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    resources = {"aws_s3_bucket": {"b": bucket("b", for_each=["x", "y"])},
                 "aws_s3_bucket_versioning": {"v": {"bucket": "${aws_s3_bucket.b.id}",
                                                    "versioning_configuration": {"status": "Enabled"}}}}
    path = write_out(tmp_path, {"dev-data": stack_doc(resources)}) / "stacks/dev-data/cdk.tf.json"
    calls = _count_edge_passes(monkeypatch, TerraformLocalGraph)
    ours = _graph(path)
    assert calls == [2] and r'"aws_s3_bucket.b[\"y\"]"' in ours  # expanded into copies, then rebuilt
    shortcut = scanner.scan_json([path], workers=1)
    undo(monkeypatch, _slots(), ["foreach rebuild"])
    assert ours == _graph(path)
    assert_same_scan(shortcut, scanner.scan_json([path], workers=1))


def _count_edge_passes(monkeypatch, graph_class) -> list[int]:
    calls = [0]
    original = graph_class._build_edges.original

    def counted(self):
        calls[0] += 1
        return original(self)

    monkeypatch.setattr(graph_class._build_edges, "original", counted)
    return calls


def test_provider_aliases_and_resource_types_are_part_of_a_kept_reference():
    """The same text refers to different things under other aliases or resource types."""
    from checkov.terraform.graph_builder import utils

    registry.import_checkov()
    find, original = utils.get_referenced_vertices_in_str_value, utils.get_referenced_vertices_in_str_value.original
    text = "${aws_kms_key.k.arn} ${aws.east.region}"
    for aliases, types in (({}, []), ({}, ["aws_kms_key"]), ({"aws.east": {"block_type_": "provider"}}, ["aws_kms_key"]),
                           ({"aws.east": {"block_type_": "module"}}, ["aws_kms_key"]), ({}, [])):
        ours, theirs = find(text, aliases, types), original(text, aliases, types)
        assert [str(r) for r in ours] == [str(r) for r in theirs]
    first, second = find(text, {}, ["aws_kms_key"]), find(text, {}, ["aws_kms_key"])
    assert first == second and first is not second  # each caller gets a list of its own


def test_an_assignment_makes_kept_evaluations_stale():
    """checkov's interpreter writes `name = value` into its shared symbol table; a later evaluation of
    `name` must see it, as it does without the shortcut."""
    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform as module
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions

    registry.import_checkov()
    name = "aegis_probe_symbol"
    try:
        assert module.evaluate_terraform(name) == module.evaluate_terraform.original(name) == name
        module.evaluate_terraform(f"{name} = 5")
        assert module.evaluate_terraform(name) == module.evaluate_terraform.original(name) == 5
    finally:
        safe_eval_functions.SAFE_EVAL_DICT.pop(name, None)
    assert module.evaluate_terraform(name) == name


def test_mutable_evaluations_are_not_shared():
    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform as module

    registry.import_checkov()
    first, second = module.evaluate_terraform("[1, 2]"), module.evaluate_terraform("[1, 2]")
    assert first == second == [1, 2] and first is not second
    assert patches._plain_text("a.b") and not patches._plain_text("f(a)") and not patches._plain_text("a = b")


@pytest.mark.parametrize(("text", "assigns"), [
    ("a = b", True), ('"a" ; b = "c"', True), ("a.b = 1", True), ("try; x = 1", True), ("[x := 1]", True),
    ("a == b", False), ('"x = y"', False), ("a <= b", False), ("f(x=1)", False), ("${aws_s3_bucket.b.arn}", False),
    ('lookup({for k, v in m : lower(k) => v}, "sha256", "") == "x"', False), (["a = b"], False),
])
def test_what_counts_as_an_assignment(text, assigns):
    """Parsed the way asteval parses it: a statement other than an expression may bind; text that does
    not parse runs nothing."""
    registry.import_checkov()
    assert patches._may_assign(text) is assigns


def test_a_block_updated_during_rendering_is_flattened_again(tmp_path):
    """Kept flattened attributes never outlive an update of their block."""
    resources = {"aws_s3_bucket": {"b": bucket("b")}}
    path = write_out(tmp_path, {"dev-data": stack_doc(resources)}) / "stacks/dev-data/cdk.tf.json"
    from checkov.terraform_json.utils import create_definitions

    definitions, _, _ = create_definitions([str(path)])
    graph = passes.pass_runner(registry.import_checkov())().graph_manager.build_graph_from_definitions(definitions)
    index = next(i for i, v in enumerate(graph.vertices) if v.name == "aws_s3_bucket.b")
    other = next(i for i, v in enumerate(graph.vertices) if i != index)
    graph.__dict__["_aegis_attributes"] = {}  # as while the rounds of edges are evaluated
    before = graph.get_vertex_attributes_by_index(index, add_hash=False)
    assert graph.get_vertex_attributes_by_index(index, add_hash=False) is before  # kept
    graph.update_vertex_attribute(index, "bucket", "renamed", other, None)
    after = graph.get_vertex_attributes_by_index(index, add_hash=False)
    assert after["bucket"] == "renamed" and after == graph.get_vertex_attributes_by_index.original(graph, index, False)


def test_no_candidate_is_no_match_and_other_paths_stay_checkovs():
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    registry.import_checkov()
    graph = TerraformLocalGraph.__new__(TerraformLocalGraph)  # no vertex is read without candidates
    find = TerraformLocalGraph._find_vertex_with_best_match
    assert find(graph, [], "stacks/dev-data/cdk.tf.json") == find.original(graph, [], "stacks/dev-data/cdk.tf.json") == -1
    with pytest.raises(ValueError):  # what resolving such a path does, with or without the shortcut
        find(graph, [], "bad\0path")


@pytest.mark.parametrize("key", ["tags", "tags.Name", "rule", "rule.0", "name", "count"])
def test_nested_attributes_answer_as_checkovs(key):
    from checkov.terraform.graph_builder.utils import attribute_has_nested_attributes, get_attribute_is_leaf

    registry.import_checkov()
    attributes = {"tags": {"Name": "x"}, "tags.Name": "x", "rule": [{"a": 1}], "rule.0": {"a": 1}, "rule.0.a": 1,
                  "name": ["n"], "count": 2}

    class Vertex:  # what get_attribute_is_leaf reads
        pass

    vertex = Vertex()
    vertex.attributes = attributes  # type: ignore[attr-defined]
    for leaf in (None, get_attribute_is_leaf(vertex)):  # type: ignore[arg-type]
        assert attribute_has_nested_attributes(key, attributes, leaf) == \
            attribute_has_nested_attributes.original(key, attributes, leaf)


def test_parsed_texts_are_the_trees_asteval_would_give(synthesized, monkeypatch):
    """Every text the biggest stack evaluates: the same tree, every node's lines and columns included, or
    the same error, as asteval's own parse with its walk over the locations."""
    from asteval.asteval import Interpreter

    registry.import_checkov()
    ours, texts = Interpreter.parse, []

    def recorded(self, text):
        texts.append(text)
        return ours(self, text)

    monkeypatch.setattr(Interpreter, "parse", recorded)
    _graph(synthesized.path("prod-platform"))
    monkeypatch.setattr(Interpreter, "parse", ours)
    assert len(set(texts)) > 100
    assert any(_outcome(Interpreter(), ours, t)[0] == "tree" for t in texts)
    assert any(_outcome(Interpreter(), ours, t)[0] == "SyntaxError" for t in texts)
    for text in dict.fromkeys(texts):
        assert _outcome(Interpreter(), ours, text) == _outcome(Interpreter(), ours.original, text)
    for text in ("x" * 100_000, "f(", "a = [1, 2]\nb = a[0]", "\0"):  # too long, bad syntax, statements, a NUL
        assert _outcome(Interpreter(), ours, text) == _outcome(Interpreter(), ours.original, text)


def _outcome(interpreter, parse, text) -> tuple[str, str]:
    import ast

    try:
        return "tree", ast.dump(parse(interpreter, text), include_attributes=True)
    except Exception as exc:
        return type(exc).__name__, str(exc) + repr([e.get_error() for e in interpreter.error])


def test_another_asteval_keeps_its_own_parse(monkeypatch):
    import asteval
    from asteval.asteval import Interpreter

    registry.import_checkov()
    theirs = Interpreter.parse.original
    monkeypatch.setattr(Interpreter, "parse", theirs)
    monkeypatch.setattr(asteval, "__version__", "1.0.7")
    patches._parse_without_location_walk()
    assert Interpreter.parse is theirs


# Keys with dots and empty keys make checkov's flattened names collide and its deletions happen.
_KEYS = st.sampled_from(["a", "b", "a.b", "0", "", "b.0", "a.b.c"])
_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2, 2) | st.text("ab.", max_size=3),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
                       max_leaves=30)


@settings(max_examples=500, deadline=None)
@given(key=st.sampled_from(["tags", "a", "a.b", "rule.0"]), value=_VALUES, strip_list=st.booleans())
def test_flattening_gives_checkovs_entries_in_checkovs_order(key, value, strip_list):
    import copy

    from checkov.terraform.graph_builder.graph_components.blocks import TerraformBlock

    registry.import_checkov()
    theirs_input, ours_input = copy.deepcopy(value), copy.deepcopy(value)
    theirs = _checkovs_flattening(key, theirs_input, strip_list)
    ours = TerraformBlock.get_inner_attributes(key, ours_input, strip_list)
    assert list(ours.items()) == list(theirs.items()) and repr(ours) == repr(theirs)
    assert repr(ours_input) == repr(theirs_input)  # empty keys deleted alike


def _checkovs_flattening(*args: Any) -> dict[str, Any]:
    """checkov's own flattening, its recursion included."""
    from checkov.terraform.graph_builder.graph_components.blocks import TerraformBlock

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(TerraformBlock, "get_inner_attributes", TerraformBlock.get_inner_attributes.original)
        return TerraformBlock.get_inner_attributes(*args)


def test_deep_nesting_and_subclasses_keep_checkovs_recursion(monkeypatch):
    from checkov.terraform.graph_builder.graph_components.blocks import TerraformBlock

    registry.import_checkov()
    deep: Any = "leaf"
    for _ in range(patches._FLATTEN_DEPTH + 5):
        deep = {"k": [deep, 1]}
    expected_shallow, expected_deep = _checkovs_flattening("a", {"k": [{"x": 1}, 2]}), _checkovs_flattening("a", deep)
    calls, checkovs = [0], TerraformBlock.get_inner_attributes.original

    def counted(cls, *args):
        calls[0] += 1
        return checkovs.__func__(cls, *args)

    monkeypatch.setattr(TerraformBlock.get_inner_attributes.__func__, "original", classmethod(counted))
    shallow = TerraformBlock.get_inner_attributes("a", {"k": [{"x": 1}, 2]})
    assert calls == [0] and shallow == expected_shallow
    assert TerraformBlock.get_inner_attributes("a", deep) == expected_deep
    assert calls[0] > patches._FLATTEN_DEPTH  # from the top down, every level is checkov's own

    class Block(TerraformBlock):
        pass

    before = calls[0]
    assert Block.get_inner_attributes("a", {"k": [{"x": 1}, 2]}) == shallow and calls[0] > before
