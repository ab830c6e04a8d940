"""Shape of the pack: one check per file with a docstring, unique IDs, everything catalogued."""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import yaml

from policies.checks.aegis_checklib import AegisCheck

CHECKS = Path(__file__).resolve().parents[3] / "policies" / "checks"
LIBS = ("aegis_checklib", "aegis_values", "aegis_user_data")  # helpers, not checks


def python_checks() -> dict[str, object]:
    out = {}
    for path in sorted(CHECKS.glob("*.py")):
        if path.stem == "__init__" or path.stem in LIBS:
            continue
        module = importlib.import_module(f"policies.checks.{path.stem}")
        classes = [c for _, c in inspect.getmembers(module, inspect.isclass)
                   if issubclass(c, AegisCheck) and c is not AegisCheck and c.__module__ == module.__name__]
        assert len(classes) == 1, f"{path.name}: one check class per file (found {len(classes)})"
        assert isinstance(module.check, classes[0]), f"{path.name}: module-level `check` instance"
        assert module.__doc__ and module.check.id in module.__doc__, f"{path.name}: docstring names the check"
        assert module.check.id not in out, f"{module.check.id} defined twice"
        out[module.check.id] = module
    return out


def yaml_policies() -> dict[str, dict]:
    out = {}
    for path in sorted(CHECKS.glob("*.yaml")):
        policy = yaml.safe_load(path.read_text())
        check_id = policy["metadata"]["id"]
        assert check_id.startswith("CKV2_AEGIS_") and check_id not in out
        assert path.read_text().startswith(f"# {check_id}:"), f"{path.name}: leading comment explains the policy"
        out[check_id] = policy
    return out


def test_python_checks_are_one_per_file_with_unique_ids():
    # Numbers are unique, not contiguous: each area of the pack has its own range (23–29, 30–39, 40–49).
    ids = python_checks()
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"CKV_AEGIS_[1-9][0-9]*", i) for i in ids), sorted(ids)


def test_file_names_are_unique_across_python_and_yaml():
    stems = [p.stem for p in CHECKS.iterdir() if p.suffix in (".py", ".yaml")]
    assert len(stems) == len(set(stems))


def test_every_custom_check_is_catalogued_and_every_entry_exists():
    from policies.app_checks import all_checks
    from policies.catalog import load_catalog

    custom = set(load_catalog().section("custom"))
    defined = set(python_checks()) | set(yaml_policies()) | {c.check_id for c in all_checks()}
    assert custom == defined, f"only in catalog: {custom - defined}; not catalogued: {defined - custom}"


def test_pack_size_meets_the_issue():
    from policies.app_checks import all_checks

    total = len(python_checks()) + len(yaml_policies()) + len(all_checks())
    assert total >= 25
