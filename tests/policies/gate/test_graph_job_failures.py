"""checkov never reads what its graph-check jobs raise: a solver that fails on a vertex drops that vertex, or the
whole check, from the results without a word. The scan reads them (policies/scan/patches.py `take_job_failures`)
and refuses the stack: the gate never passes what a check did not judge."""
from __future__ import annotations

import pytest

from policies import scanner
from policies.scan import patches, registry
from policies.scan.result import ScanError


@pytest.fixture(scope="module")
def data_stack(synthesized):
    return synthesized.path("prod-data")


@pytest.fixture
def buckets_break_a_solver(monkeypatch):
    """Every attribute solver raises on S3 buckets, as a checkov solver can on a shape it does not expect."""
    registry.import_checkov()
    from checkov.common.checks_infra.solvers.attribute_solvers.base_attribute_solver import BaseAttributeSolver

    original = BaseAttributeSolver.get_operation

    def flaky(self, vertex):
        if vertex.get("resource_type") == "aws_s3_bucket":
            raise KeyError("versioning")
        return original(self, vertex)

    monkeypatch.setattr(BaseAttributeSolver, "get_operation", flaky)


def test_a_solver_that_raises_on_a_vertex_refuses_the_stack(data_stack, buckets_break_a_solver):
    from policies.gate import CHECKS_DIR

    with pytest.raises(ScanError, match=r"graph checks could not judge prod-data/cdk\.tf\.json: CKV2?_\w+ on "
                                        r"aws_s3_bucket\.[\w-]+: KeyError: 'versioning'"):
        scanner.scan_json([data_stack], CHECKS_DIR, workers=1)
    assert patches.take_job_failures() == []  # the next scan starts empty


def test_the_same_stack_scans_when_no_job_raises(data_stack):
    from policies.gate import CHECKS_DIR

    scan = scanner.scan_json([data_stack], CHECKS_DIR, workers=1)
    assert any(r.check_id.startswith("CKV2_") for r in scan.results)  # graph checks judged it
    assert patches.take_job_failures() == []


def test_gate_path_refuses_a_folder_a_graph_check_could_not_judge(tmp_path, buckets_break_a_solver):
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n')
    with pytest.raises(ScanError, match=r"could not judge the folder: CKV\w+ on aws_s3_bucket\.b: KeyError"):
        scanner.scan_hcl(tmp_path)
    assert patches.take_job_failures() == []


def test_the_plan_gate_refuses_a_plan_a_graph_check_could_not_judge(tmp_path, buckets_break_a_solver):
    from policies.plan.plan_scanner import scan_plans
    from tests.policies.plan.conftest import create, plan_doc, write_plan

    plan = write_plan(tmp_path, plan_doc(create("aws_s3_bucket", "b", {"bucket": "b"})))
    with pytest.raises(ScanError, match=r"could not judge the plan: CKV\w+ on aws_s3_bucket\.b: KeyError"):
        scan_plans([plan])


def test_a_job_that_goes_to_a_real_pool_is_judged_too():
    executor = patches._InlineExecutor()

    def elsewhere(vertex):  # not one of checkov's known jobs: a real thread runs it
        raise ValueError("bad")

    patches.take_job_failures()
    future = executor.submit(elsewhere, {"__address__": "aws_s3_bucket.b"})
    executor.shutdown(wait=True)
    assert isinstance(future.exception(), ValueError)
    assert patches.take_job_failures() == ["a graph check on aws_s3_bucket.b: ValueError: bad"]
