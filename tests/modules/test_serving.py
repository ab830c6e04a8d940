"""The serving-kind registry: one entry per kind serves every pillar, and the pillars stay apart."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from modules import serving
from modules.platform.settings import SECTION, ModelSettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_schema_takes_exactly_the_registered_kinds():
    assert get_args(serving.ServingKindName) == tuple(serving.KINDS)
    assert get_args(ModelSettings.model_fields["serving"].annotation) == tuple(serving.KINDS)
    assert {name: kind.section for name, kind in serving.KINDS.items()} == SECTION


def test_each_section_is_a_key_of_the_model_settings():
    keys = {field.alias or name for name, field in ModelSettings.model_fields.items()}
    sections = [kind.section for kind in serving.KINDS.values()]
    assert len(set(sections)) == len(sections)
    assert set(sections) <= keys


@pytest.mark.parametrize("name", list(serving.KINDS))
def test_each_kind_names_a_platform_construct_that_serves_a_model(name):
    kind = serving.KINDS[name]
    cls = kind.construct_class()
    assert cls.__module__.startswith("modules.platform.")
    assert callable(cls.serve) and callable(cls.outputs)
    assert kind.lane and kind.metrics.namespace.startswith("AWS/")
    assert kind.metrics.family in {"endpoint", "function", "load-balancer"}


def test_metric_dimensions_name_the_resource_first():
    assert serving.ENDPOINT_METRICS.dimensions("p-dev-m") == {"EndpointName": "p-dev-m",
                                                            "VariantName": serving.PRODUCTION_VARIANT}
    assert list(serving.FUNCTION_METRICS.dimensions("p-dev-m")) == ["FunctionName"]


def test_invoke_grants_are_listed_once_in_kind_order():
    grants = serving.invoke_grants()
    assert [g.sid for g in grants] == ["InvokeEndpoints", "InvokeFunctions", "InvokeFunctionUrls"]
    assert serving.invoke_actions() == tuple(sorted({a for g in grants for a in g.actions}))


def test_loading_the_registry_imports_no_pillar_and_no_cdktf():
    code = ("import sys, modules.serving; "
            "print(sorted(m for m in sys.modules if m.startswith(('modules.', 'cdktf', 'constructs'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['modules.serving']"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("pillar, other", [("access", "platform"), ("platform", "access")])
def test_the_access_and_platform_pillars_do_not_import_each_other(pillar, other):
    offending = {path.name: sorted(m for m in _imported_modules(path) if m.startswith(f"modules.{other}"))
                 for path in sorted((ROOT / "modules" / pillar).rglob("*.py"))}
    assert {name: found for name, found in offending.items() if found} == {}


def test_every_serving_kind_is_drawn_in_the_architecture_diagram():
    from policies.report.diagram.serving import serving_stages

    for name, kind in serving.KINDS.items():
        assert callable(serving_stages(name)), f"{name}: add its metrics family '{kind.metrics.family}' to " \
                                               "policies/report/diagram/serving.py SERVING_STAGES"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_rollback_alarms_of_every_kind_are_alarms_the_access_pillar_creates(synthesized, env):
    """A release rolls back on `Metrics.rollback` by conventional name: each must be a per-model alarm that exists."""
    from modules.config import load_env
    from modules.naming import Naming

    config = load_env(env)
    naming = Naming.of(config)
    alarms = {a["alarm_name"] for a in synthesized.resources(f"{env}-access", "aws_cloudwatch_metric_alarm").values()}
    wanted = {naming.alarm("model", m.name, key) for m in config.platform.models
              for key in serving.KINDS[m.serving].metrics.rollback}
    assert {k for k, kind in serving.KINDS.items() if kind.metrics.rollback} >= {"sagemaker", "lambda"}
    assert wanted and wanted <= alarms, sorted(wanted - alarms)
