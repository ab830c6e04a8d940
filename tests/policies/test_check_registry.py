"""The shared registration of Aegis's own checks (policies/check_registry.py): IDs are checked, an ID
cannot be taken twice, and loading imports every module of the package, failing on any that breaks."""
from __future__ import annotations

import sys

import pytest

from policies.check_registry import CheckRegistry


def registry(package: str = "fixture_checks") -> CheckRegistry:
    return CheckRegistry("test check", package, r"TEST_[A-Z]+", "TEST_<NAME>", origin=lambda check: check[0])


def test_ids_must_have_the_kinds_shape():
    with pytest.raises(ValueError, match="test check ID 'AEGIS_X' must look like TEST_<NAME>"):
        registry().add("AEGIS_X", ("f",))


def test_an_id_is_registered_once_but_the_same_check_may_register_again():
    checks = registry()
    func = object()
    checks.add("TEST_A", (func, "first import"))
    checks.add("TEST_A", (func, "imported again"))
    with pytest.raises(ValueError, match="test check ID TEST_A is registered twice"):
        checks.add("TEST_A", (object(), "another check"))
    assert checks["TEST_A"][1] == "imported again"


def test_load_imports_every_module_and_returns_the_checks_by_id(tmp_path, monkeypatch):
    package = tmp_path / "fixture_checks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "b_module.py").write_text("import fixture_registry\nfixture_registry.CHECKS.add('TEST_B', ('b',))\n")
    (package / "a_module.py").write_text("import fixture_registry\nfixture_registry.CHECKS.add('TEST_C', ('c',))\n")
    (tmp_path / "fixture_registry.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    import fixture_registry

    fixture_registry.CHECKS = checks = registry()
    try:
        assert checks.load() == [("b",), ("c",)]

        (package / "c_broken.py").write_text("raise ImportError('half-written check')\n")
        with pytest.raises(ImportError, match="half-written check"):
            checks.load()
    finally:
        for name in [m for m in sys.modules if m.startswith(("fixture_checks", "fixture_registry"))]:
            del sys.modules[name]
