"""The graph checks' shortcuts (policies/scan/patches.py `_graph_check_jobs_inline`, `_vertices_by_resource_type`,
`_result_entities_copied_one_level`) give what checkov's own code gives: the same scan of the synthesized app with
each undone, the vertices its resource-type predicate accepts, and checkov's own path where they do not apply."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from policies import scanner
from policies.scan import passes, patches, registry
from tests.policies.gate.scan_comparison import assert_same_scan, undo


def _slots() -> dict[str, list[tuple[Any, str]]]:
    """Where each shortcut is installed: (owner, attribute) pairs whose value keeps `.original`."""
    from checkov.common.checks_infra.solvers.attribute_solvers import base_attribute_solver
    from checkov.common.checks_infra.solvers.complex_solvers.base_complex_solver import BaseComplexSolver
    from checkov.common.checks_infra.solvers.connections_solvers.base_connection_solver import BaseConnectionSolver
    from checkov.common.checks_infra.solvers.resource_solvers import base_resource_solver
    from checkov.common.graph.checks_infra import registry as graph_registry
    from checkov.terraform_json.runner import TerraformJsonRunner

    registry.import_checkov()
    return {
        "jobs inline": [(base_attribute_solver, "ThreadPoolExecutor"), (base_resource_solver, "ThreadPoolExecutor"),
                        (graph_registry, "concurrent")],
        "vertices by resource type": [(graph_registry.BaseRegistry, "run_checks"),
                                      (base_attribute_solver.BaseAttributeSolver, "run"),
                                      (BaseComplexSolver, "run"), (BaseConnectionSolver, "set_vertices")],
        "entities copied one level": [(TerraformJsonRunner, "_update_check_correct_connected_node")],
    }


@pytest.mark.parametrize("names", [["jobs inline"], ["vertices by resource type"], ["entities copied one level"],
                                   ["jobs inline", "vertices by resource type", "entities copied one level"]])
def test_the_graph_checks_give_the_same_scan(names, prod_stacks, shortcut_scan, monkeypatch):
    from policies.gate import CHECKS_DIR

    undo(monkeypatch, _slots(), names)
    assert len(shortcut_scan.results) > 800
    assert sum(1 for r in shortcut_scan.results if r.check_id.startswith("CKV2_")) > 50  # graph checks among them
    assert_same_scan(shortcut_scan, scanner.scan_json(prod_stacks, CHECKS_DIR, workers=1))


def test_the_scan_keeps_its_order_from_run_to_run(prod_stacks, shortcut_scan):
    """Jobs run as submitted: the vertices are appended in the graph's order, not the threads'."""
    from policies.gate import CHECKS_DIR

    assert scanner.scan_json(prod_stacks, CHECKS_DIR, workers=1).results == shortcut_scan.results


def _solver(cls: Any, resource_types: list[str]) -> Any:
    return cls(resource_types, "bucket", "x")


def test_checkov_jobs_run_in_the_caller_and_keep_their_outcome_as_the_pool_does():
    from checkov.common.checks_infra.solvers import EqualsAttributeSolver

    registry.import_checkov()
    solver = _solver(EqualsAttributeSolver, ["aws_security_group"])
    inline = patches._InlineExecutor()
    vertex = {"resource_type": "aws_security_group", "bucket": "x", "source_": "Terraform", "block_type_": "resource"}
    ours: tuple[list[Any], ...] = ([], [], [])
    theirs: tuple[list[Any], ...] = ([], [], [])
    done = inline.submit(solver._process_node, vertex, *ours)  # done when submit returns: no thread ran it
    assert done.done() and done.result() is None and sum(map(len, ours)) == 1
    with ThreadPoolExecutor() as pool:
        pool.submit(solver._process_node, vertex, *theirs).result()
    assert ours == theirs
    broken = {"resource_type": "aws_security_group", "bucket": "x"}  # no `source_`: checkov's job raises KeyError
    failed = inline.submit(solver._process_node, broken, [], [], [])
    with ThreadPoolExecutor() as pool:
        expected = pool.submit(solver._process_node, broken, [], [], [])
        expected.exception()
    assert type(failed.exception()) is type(expected.exception()) is KeyError
    assert str(failed.exception()) == str(expected.exception())


def test_an_interrupt_still_interrupts():
    from checkov.common.checks_infra.solvers import EqualsAttributeSolver

    class Interrupted(EqualsAttributeSolver):
        def get_operation(self, vertex):
            raise KeyboardInterrupt

    registry.import_checkov()
    with pytest.raises(KeyboardInterrupt):
        patches._InlineExecutor().submit(_solver(Interrupted, [])._process_node, {}, [], [], [])


def test_other_jobs_go_to_a_real_pool():
    registry.import_checkov()
    with patches._InlineExecutor() as executor:
        elsewhere = executor.submit(threading.get_ident).result()
    assert elsewhere != threading.get_ident()


def _platform_graph(synthesized) -> Any:
    """The rustworkx graph checkov runs its graph checks on, for the biggest stack."""
    from checkov.terraform_json.utils import create_definitions

    definitions, _, errors = create_definitions([str(synthesized.path("prod-platform"))])
    assert errors == []
    manager = passes.pass_runner(registry.import_checkov())().graph_manager
    return manager.save_graph(manager.build_graph_from_definitions(definitions))


@pytest.mark.parametrize("resource_types", [
    [], None, ["aws_security_group"], ["aws_iam_role", "aws_security_group", "aws_iam_role"], ["aws_nonexistent"], ["all"],
    ["aws_iam_role", "aws_iam_policy", "aws_iam_role_policy_attachment", "aws_security_group"],
])
def test_the_index_accepts_what_the_predicate_accepts(synthesized, resource_types):
    from checkov.common.checks_infra.solvers import EqualsAttributeSolver

    graph = _platform_graph(synthesized)
    solver = _solver(EqualsAttributeSolver, [])
    index = patches._TypeIndex(graph, "resource_type")
    assert index.accepted(resource_types) == [p for p in graph.nodes() if solver.resource_type_pred(p[1], resource_types)]


def test_the_index_declines_what_it_cannot_answer(synthesized):
    graph = _platform_graph(synthesized)
    index = patches._TypeIndex(graph, "resource_type")
    assert index.accepted(("aws_security_group",)) is None  # not a list: `in` may mean something else
    assert index.accepted(["aws_security_group", 1]) is None
    graph.add_node((graph.num_nodes(), {"resource_type": "aws_security_group"}))
    assert index.accepted(["aws_security_group"]) is None  # the graph changed since it was indexed
    odd = type(graph)()
    odd.add_node((0, {"resource_type": ["aws_security_group"]}))
    assert patches._TypeIndex(odd, "resource_type").accepted(["aws_security_group"]) is None


def _predicate_calls(run) -> tuple[Any, int]:
    """What `run()` returns and how often it asked checkov's resource-type predicate (counted, not replaced:
    the index stands aside for a predicate other than checkov's)."""
    import sys

    from checkov.common.graph.checks_infra.solvers.base_solver import BaseSolver

    code, calls = BaseSolver.resource_type_pred.__code__, [0]

    def count(frame, event, arg):
        if event == "call" and frame.f_code is code:
            calls[0] += 1

    sys.setprofile(count)
    try:
        answer = run()
    finally:
        sys.setprofile(None)
    return answer, calls[0]


def _check_run(graph, solver) -> Any:
    """The registry's run of one graph check with `solver` on `graph`: its (result, vertex) pairs."""
    from checkov.common.graph.checks_infra.base_check import BaseGraphCheck
    from checkov.common.graph.checks_infra.registry import BaseRegistry

    class Everything:
        def should_run_check(self, *args: Any, **kwargs: Any) -> bool:
            return True

    check = BaseGraphCheck()
    check.id, check.name = "CKV2_AEGIS_TEST", "probe"
    check.set_solver(solver)
    runs = BaseRegistry(parser=None)  # type: ignore[arg-type]
    runs.checks = [check]
    return [(r["result"], r["entity"]) for r in runs.run_checks(graph, Everything(), "terraform_json")[check]]


def test_a_run_of_checks_visits_only_the_vertices_of_their_types(synthesized, monkeypatch):
    from checkov.common.checks_infra.solvers import EqualsAttributeSolver

    graph = _platform_graph(synthesized)
    groups = [data for _, data in graph.nodes() if data.get("resource_type") == "aws_security_group"]
    assert 0 < len(groups) < graph.num_nodes() / 10
    solver = _solver(EqualsAttributeSolver, ["aws_security_group"])
    ours, asked = _predicate_calls(lambda: _check_run(graph, solver))
    assert [vertex for _, vertex in ours] == groups and asked <= 3 * len(groups)  # in the graph's order
    undo(monkeypatch, _slots(), ["vertices by resource type"])
    theirs, asked = _predicate_calls(lambda: _check_run(graph, solver))
    assert ours == theirs and asked >= graph.num_nodes()


def test_solvers_walk_every_vertex_outside_a_run_of_checks(synthesized, monkeypatch):
    """A graph whose checks the registry is not running (a connection check's subgraph is one) keeps
    checkov's loop over every vertex, and so does a run with a predicate other than checkov's."""
    from checkov.common.checks_infra.solvers import EqualsAttributeSolver
    from checkov.common.graph.checks_infra.solvers.base_solver import BaseSolver

    graph = _platform_graph(synthesized)
    solver = _solver(EqualsAttributeSolver, ["aws_security_group"])
    alone, asked = _predicate_calls(lambda: solver.run(graph))
    assert asked >= graph.num_nodes() and [v for _, v in _check_run(graph, solver)] == alone[0] + alone[1]
    original, seen = BaseSolver.resource_type_pred, []

    def predicate(self, v, resource_types):
        seen.append(v)
        return original(self, v, resource_types)

    monkeypatch.setattr(BaseSolver, "resource_type_pred", predicate)
    assert [v for _, v in _check_run(graph, solver)] == alone[0] + alone[1] and len(seen) >= graph.num_nodes()


def _connected_results() -> tuple[dict[Any, list[dict[str, Any]]], dict[str, Any]]:
    """Two checks' results on one vertex that has a connected node per connected type, as checkov's
    connection solvers leave it."""
    from checkov.common.graph.checks_infra.base_check import BaseGraphCheck

    checks = []
    for types in (["aws_kms_key"], ["aws_iam_role"]):
        check, sub = BaseGraphCheck(), BaseGraphCheck()
        sub.connected_resources_types = types
        check.sub_checks = [sub]
        checks.append(check)
    vertex = {"id": "aws_s3_bucket.b", "tags": {"a": ["b"]},
              "connected_node": {("aws_kms_key",): {"id": "aws_kms_key.k"}, ("aws_iam_role",): {"id": "aws_iam_role.r"}}}
    return {check: [{"result": "PASSED", "entity": vertex, "evaluated_keys": []}] for check in checks}, vertex


def test_each_result_gets_its_own_connected_node_and_the_vertex_stays(monkeypatch):
    import copy

    from checkov.common.runners import base_runner
    from checkov.terraform_json.runner import TerraformJsonRunner

    registry.import_checkov()
    ours, vertex = _connected_results()
    before = copy.deepcopy(vertex)
    copies = [0]
    deep_copy = base_runner.pickle_deepcopy
    monkeypatch.setattr(base_runner, "pickle_deepcopy", lambda value: (copies.__setitem__(0, copies[0] + 1), deep_copy(value))[1])
    TerraformJsonRunner._update_check_correct_connected_node(ours)
    theirs, _ = _connected_results()
    TerraformJsonRunner._update_check_correct_connected_node.original(theirs)
    assert copies == [2]  # checkov's, for `theirs` only
    assert vertex == before  # the shared vertex is left as it was
    assert [r["entity"] for rs in ours.values() for r in rs] == [r["entity"] for rs in theirs.values() for r in rs]
    assert [r["entity"]["connected_node"]["id"] for rs in ours.values() for r in rs] == ["aws_kms_key.k", "aws_iam_role.r"]


def test_other_readers_keep_the_deep_copy(monkeypatch):
    from checkov.common.runners import base_runner
    from checkov.terraform_json.runner import TerraformJsonRunner

    registry.import_checkov()
    copies = [0]
    deep_copy = base_runner.pickle_deepcopy
    monkeypatch.setattr(base_runner, "pickle_deepcopy", lambda value: (copies.__setitem__(0, copies[0] + 1), deep_copy(value))[1])
    results, _ = _connected_results()
    next(iter(results.values()))[0]["entity"] = ["not", "a", "vertex"]
    with pytest.raises(AttributeError):  # checkov's own: a list has no .get
        TerraformJsonRunner._update_check_correct_connected_node(results)
    assert copies == [1]
    monkeypatch.setattr(TerraformJsonRunner, "add_graph_check_results", lambda self, report, runner_filter: None)
    TerraformJsonRunner._update_check_correct_connected_node(_connected_results()[0])
    assert copies == [3]
