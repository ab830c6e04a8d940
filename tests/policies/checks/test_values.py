"""The value helpers every kind of check shares (policies/checks/aegis_values.py). Where two notions
differ they have two names: `is_true` is strict, `truthy` reads a setting as a plan shows it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policies.checks.aegis_values import (
    as_float,
    as_int,
    as_list,
    document,
    is_false,
    is_true,
    policy_document,
    truthy,
    unset_or_false,
)

CHECKS = Path(__file__).resolve().parents[3] / "policies" / "checks"


@pytest.mark.parametrize("raw, expected", [
    (True, True), ("true", True), ("TRUE", True), (" true", False), (1, False), ("enabled", False),
    ("${var.x}", False), (None, False), (False, False)])
def test_is_true_is_strict(raw, expected):
    assert is_true(raw) is expected


@pytest.mark.parametrize("raw, expected", [
    (True, True), ("true", True), (" Enabled ", True), ("1", True), (1, True), ([0], True),
    ("false", False), ("0", False), (0, False), ([], False), (None, False)])
def test_truthy_reads_a_setting_as_a_plan_shows_it(raw, expected):
    assert truthy(raw) is expected


def test_is_false_is_strict():
    assert is_false(False) and is_false("False") and not is_false(None) and not is_false(0)


def test_unset_or_false_leaves_references_out():
    assert unset_or_false(None) and unset_or_false(False) and unset_or_false("false")
    assert not unset_or_false("${var.public}") and not unset_or_false(True) and not unset_or_false(0)


def test_numbers():
    assert [as_int(v) for v in (3, 3.0, "-4", " 5 ", True, 3.5, "${var.n}", None)] == [3, 3, -4, 5, None, None, None,
                                                                                      None]
    assert [as_float(v) for v in (2, "2.5", True, "x", None)] == [2.0, 2.5, None, None, None]


def test_as_list():
    items = ["a"]
    assert as_list(items) is items and as_list(("a", "b")) == ["a", "b"]
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list({"k": 1}) == [{"k": 1}]


def test_documents():
    doc = {"Statement": []}
    assert document(doc) is doc and document('{"Statement": []}') == doc
    assert document("[1]") is None and document("${data.x.json}") is None
    assert document([doc]) is None and policy_document([doc]) == doc  # checkov wraps parsed values in a list
    assert policy_document([doc, doc]) is None


def test_the_app_checks_use_them_without_importing_checkov():
    code = "import sys, policies.app_checks as a; a.all_checks(); print('checkov' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=CHECKS.parents[1])
    assert out.stdout.strip() == "False"
