"""run_app_checks: the contract with the gate (AppFinding fields, sorting, crashes surface as errors)."""
from __future__ import annotations

import dataclasses

import pytest

from policies.app_checks import REGISTRY, AppCheckError, AppFinding, all_checks, run_app_checks
from policies.app_checks.base import app_check
from tests.policies.app_checks.helpers import app, config


def test_contract_fields():
    assert [f.name for f in dataclasses.fields(AppFinding)] == ["check_id", "stack", "address", "passed", "message"]


def test_every_check_is_registered_under_an_aegis_id_and_documented():
    import sys

    checks = all_checks()
    assert len(checks) >= 20
    for check in checks:
        module = sys.modules[check.func.__module__]
        assert module.__doc__ and module.__doc__.startswith(f"{check.check_id}:"), check.func.__module__


def test_findings_carry_check_ids_and_are_sorted():
    findings = run_app_checks(app("dev"), {"dev": config("dev")})
    assert findings == sorted(findings, key=lambda f: (f.stack, f.address, f.check_id, f.passed, f.message))
    assert {f.check_id for f in findings} <= set(REGISTRY)
    assert all(f.stack.startswith("dev-") for f in findings)


def test_a_crashing_check_is_an_error_not_silence():
    @app_check("AEGIS_TEST_CRASH", "crashes")
    def crash(app_view):
        raise KeyError("boom")
        yield  # pragma: no cover

    try:
        with pytest.raises(AppCheckError, match="AEGIS_TEST_CRASH"):
            run_app_checks(app("dev"), {"dev": config("dev")})
    finally:
        REGISTRY.pop("AEGIS_TEST_CRASH")


def test_ids_must_be_aegis_names():
    with pytest.raises(ValueError):
        app_check("CKV_AEGIS_99", "not an app id")
