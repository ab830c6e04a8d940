"""The import graph of main.py, modules/ and policies/: no file imports itself back through others,
and modules/ (the generator) never imports policies/ (the policy engine).

Every import counts, also one inside a function (it runs later, but it runs) and
`importlib.import_module("a.literal.name")`. Relative imports are resolved, and `from package import
name` points at the submodule `package.name` when there is one, else at the package. Imports of anything
outside these folders are left out. The graph is built from whatever files exist, so new files are judged too.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("modules", "policies")

Graph = dict[str, set[str]]


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted module name → file: main.py and every .py file of the packages."""
    files = {"main": root / "main.py"}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _known(name: str, modules: set[str]) -> str | None:
    """`name` or its longest prefix that is a project module (`import a.b.c` loads a.b.c, or the
    module a.b whose attribute it names)."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(source: str, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """The project modules one file imports, wherever the import statement is."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: list[str] = []
    tree = ast.parse(source)
    # `if TYPE_CHECKING:` blocks never run: they name types for annotations, not modules the file loads.
    type_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node.test)
                 for stmt in node.body for inner in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{origin}.{alias.name}"
                names.append(submodule if submodule in modules else origin)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.append(node.args[0].value)
    found = {_known(name, modules) for name in names}
    return {name for name in found if name and name != module}


def import_graph(root: Path = ROOT) -> Graph:
    files = project_modules(root)
    names = set(files)
    return {module: imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py", names)
            for module, path in files.items()}


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as a path [a, b, …, a], or None when there is none (depth-first search)."""
    finished: set[str] = set()
    for start in sorted(graph):
        if start in finished:
            continue
        path = [start]
        pending = [iter(sorted(graph.get(start, ())))]
        while pending:
            target = next(pending[-1], None)
            if target is None:
                pending.pop()
                finished.add(path.pop())
            elif target in path:
                return path[path.index(target):] + [target]
            elif target not in finished:
                path.append(target)
                pending.append(iter(sorted(graph.get(target, ()))))
    return None


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": set(), "d": {"e"}, "e": {"b"}}
    assert find_cycle(graph) == ["b", "d", "e", "b"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_the_cycle_finder_passes_an_acyclic_graph():
    # A diamond: two paths to one module are not a cycle.
    assert find_cycle({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set(), "e": {"a", "d"}}) is None
    assert find_cycle({}) is None


def test_imports_are_resolved_wherever_they_are():
    modules = {"pkg", "pkg.sub", "pkg.sub.leaf", "pkg.other", "pkg.loaded", "top"}
    package_init = ("import os\n"
                    "from .leaf import thing\n"
                    "from .. import other\n"
                    "def later():\n"
                    "    import top.attribute\n"
                    "    importlib.import_module('pkg.loaded')\n"
                    "    importlib.import_module(name_known_at_run_time)\n")
    assert imports_of(package_init, "pkg.sub", True, modules) == {"pkg.sub.leaf", "pkg.other", "top", "pkg.loaded"}
    assert imports_of("from . import sub\nfrom .sub import x\n", "pkg.other", False, modules) == {"pkg.sub"}
    assert imports_of("from pkg import not_a_module\n", "top", False, modules) == {"pkg"}


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph()


def test_the_graph_covers_the_project(graph):
    assert {"main", "modules.synth", "policies.gate", "policies.cli"} <= set(graph)
    assert "modules.config" in graph["main"]


def test_no_import_cycle(graph):
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_modules_never_import_policies(graph):
    wrong = sorted(f"{module} → {target}" for module, targets in graph.items()
                   if module.split(".")[0] == "modules" for target in targets if target.split(".")[0] == "policies")
    assert not wrong, "the generator imports the policy engine: " + "; ".join(wrong)


def _reached(graph: Graph, module: str) -> set[str]:
    """Every module `module` imports, directly or through others."""
    seen: set[str] = set()
    pending = [module]
    while pending:
        for target in graph.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def test_the_judging_engine_never_depends_on_the_plan_subpackage(graph):
    """policies/plan builds on the engine (gate, suppressions, suppression policy), never the other way:
    only the command modules, which offer both, import it."""
    commands = {"main", "policies.cli", "policies.commands", "policies.plan_cli", "policies.report_cli",
                "policies.preflight_cli", "policies.evidence_cli"}
    wrong = sorted(f"{module} → {', '.join(sorted(t for t in _reached(graph, module) if t.startswith('policies.plan')))}"
                   for module in graph if module.startswith("policies") and not module.startswith("policies.plan")
                   and module not in commands and any(t.startswith("policies.plan") for t in _reached(graph, module)))
    assert not wrong, "engine modules that import the plan subpackage: " + "; ".join(wrong)


def test_type_checking_imports_are_not_loads():
    modules = {"pkg", "pkg.types_only", "pkg.loaded"}
    source = ("from typing import TYPE_CHECKING\n"
              "import typing\n"
              "if TYPE_CHECKING:\n"
              "    from pkg import types_only\n"
              "if typing.TYPE_CHECKING:\n"
              "    import pkg.types_only\n"
              "else:\n"
              "    import pkg.loaded\n")
    assert imports_of(source, "top", False, modules) == {"pkg.loaded"}
