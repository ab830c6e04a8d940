"""Deletion approvals and the suppression policy: no wildcard reaches a deletion check through
policies/exceptions.yaml, and approvals obey the lifetime and quality rules of every suppression."""
from __future__ import annotations

import datetime as dt

import pytest

from policies.plan.plan_catalog import PLAN_CATALOG_FILE
from policies.plan.plan_gate import run_plan_gate
from tests.policies.plan.conftest import delete, plan_doc
from tests.policies.plan.test_plan_gate import BUCKET, stack_plan

TODAY = dt.date(2026, 12, 1)
SOON = "2027-01-31"
REASON = "Datasets moved to the new training account and verified there (CHG-77)"


def deletion_status(result) -> str:
    [finding] = [f for f in result.findings if f.check_id == "AEGIS_PLAN_STATEFUL_DELETE"]
    return finding.status


@pytest.mark.parametrize("lowered", [False, True])
def test_attack_wildcard_exception_of_a_deletion_check_is_refused(tmp_path, lowered):
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text("exceptions:\n  - check: AEGIS_PLAN_STATEFUL_DELETE\n    resource: 'aws_s3_bucket.*'\n"
                          f"    environments: [dev]\n    reason: {REASON}\n    owner: data-platform\n"
                          f"    expires: {SOON}\n")
    catalog = None
    if lowered:  # even when a catalog edit makes the deletion check LOW, a wildcard never excepts it
        text = PLAN_CATALOG_FILE.read_text(encoding="utf-8")
        start = text.index("  AEGIS_PLAN_STATEFUL_DELETE:")
        catalog = tmp_path / "plan-catalog.yaml"
        catalog.write_text(text[:start] + text[start:].replace("severity: critical", "severity: low", 1),
                           encoding="utf-8")
    result = run_plan_gate([stack_plan(tmp_path, plan_doc(delete("aws_s3_bucket", "datasets", BUCKET)))],
                           exceptions_file=exceptions, plan_catalog_file=catalog, today=TODAY)
    assert result.exit_code == 2 and deletion_status(result) == "failed"
    assert "resource pattern 'aws_s3_bucket.*' has a wildcard: a plan deletion check" in result.errors[0]
    assert result.errors[0].startswith("suppression of AEGIS_PLAN_STATEFUL_DELETE (exceptions.yaml:2)")


def approvals(tmp_path, reason: str = REASON, approved_by: str = "data-platform-lead", expires: str = SOON):
    path = tmp_path / "approvals.yaml"
    path.write_text(f"approvals:\n  - stack: dev-data\n    address: aws_s3_bucket.datasets\n    reason: {reason}\n"
                    f"    approved_by: {approved_by}\n    expires: {expires}\n")
    return path


def judge_deletion(tmp_path, approvals_file):
    return run_plan_gate([stack_plan(tmp_path, plan_doc(delete("aws_s3_bucket", "datasets", BUCKET)))],
                         approvals_file=approvals_file, today=TODAY)


def test_attack_deletion_approval_valid_for_decades_is_refused(tmp_path):
    result = judge_deletion(tmp_path, approvals(tmp_path, expires="2999-12-31"))
    assert result.exit_code == 2 and deletion_status(result) == "failed"
    assert result.errors[0].startswith("approval of dev-data/aws_s3_bucket.datasets (approvals.yaml:2): "
                                       "expires 2999-12-31")
    assert "at most 365 days in dev" in result.errors[0]
    fine = judge_deletion(tmp_path, approvals(tmp_path))
    assert fine.exit_code == 0 and deletion_status(fine) == "suppressed"


@pytest.mark.parametrize("field, value, key, words", [
    ("reason", "x" * 40, "reason", "reads as padding"),
    ("approved_by", "'-'", "approved_by", "must name a person or team"),
    ("expires", "20270131", "expires", "not a YYYY-MM-DD date"),
])
def test_attack_padded_anonymous_or_numeric_deletion_approval_is_refused(tmp_path, field, value, key, words):
    result = judge_deletion(tmp_path, approvals(tmp_path, **{field: value}))
    line = {"reason": 4, "approved_by": 5, "expires": 6}[key]
    assert result.exit_code == 2 and not any(f.status == "suppressed" for f in result.findings)
    assert result.errors[0].startswith(f"approvals.yaml:{line} [approvals.0.{key}]: "), result.errors
    assert words in result.errors[0]
