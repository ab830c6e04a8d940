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


def test_a_solver_that_raises_on_a_vertex_refuses_the_stack(data_stack, monkeypatch):
    from policies.gate import CHECKS_DIR

    registry.import_checkov()
    from checkov.common.checks_infra.solvers.attribute_solvers.base_attribute_solver import BaseAttributeSolver

    original = BaseAttributeSolver.get_operation

    def flaky(self, vertex):
        if vertex.get("resource_type") == "aws_s3_bucket":
            raise KeyError("versioning")
        return original(self, vertex)

    monkeypatch.setattr(BaseAttributeSolver, "get_operation", flaky)
    with pytest.raises(ScanError, match=r"graph checks could not judge prod-data/cdk\.tf\.json: CKV2?_\w+ on "
                                        r"aws_s3_bucket\.[\w-]+: KeyError: 'versioning'"):
        scanner.scan_json([data_stack], CHECKS_DIR, workers=1)
    assert patches.take_job_failures() == []  # the next scan starts empty


def test_the_same_stack_scans_when_no_job_raises(data_stack):
    from policies.gate import CHECKS_DIR

    scan = scanner.scan_json([data_stack], CHECKS_DIR, workers=1)
    assert any(r.check_id.startswith("CKV2_") for r in scan.results)  # graph checks judged it
    assert patches.take_job_failures() == []
