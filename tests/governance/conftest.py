"""Fixtures for the governance pillar: a view of `<env>-governance` from the session synth, and a
variant environment (synthesized once, governance stack only) for options no default env uses."""
from __future__ import annotations

import contextlib
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from modules.config import EnvConfig, load_env
from modules.naming import Naming
from modules.yaml_source import SourceMap, load_yaml
from tests.conftest import FIXTURE_ENVIRONMENTS


def deep_merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def environments_with(tmp_path: Path, env: str, patch: dict) -> Path:
    """A copy of environments/ where `<env>.yaml` has `patch` deep-merged into it."""
    directory = tmp_path / "environments"
    shutil.copytree(FIXTURE_ENVIRONMENTS, directory)
    path = directory / f"{env}.yaml"
    # Read with the project's loader (YAML 1.2 booleans: the country code NO stays a string).
    original = load_yaml(path, path.name, SourceMap())
    path.write_text(yaml.safe_dump(deep_merge(original, patch), sort_keys=False))
    return directory


@dataclass
class StackView:
    """One synthesized governance stack with the config it came from."""
    doc: dict
    config: EnvConfig

    @property
    def naming(self) -> Naming:
        return Naming.of(self.config)

    @property
    def settings(self):
        return self.config.governance

    def res(self, rtype: str) -> dict[str, dict]:
        return self.doc.get("resource", {}).get(rtype, {})

    def one(self, rtype: str) -> tuple[str, dict]:
        items = self.res(rtype)
        assert len(items) == 1, f"expected one {rtype}, found {sorted(items)}"
        return next(iter(items.items()))

    def data(self, dtype: str) -> dict[str, dict]:
        return self.doc.get("data", {}).get(dtype, {})

    @staticmethod
    def ref(rtype: str, name: str, attr: str) -> str:
        return "${" + f"{rtype}.{name}.{attr}" + "}"

    def key_lookup(self, raw: str) -> dict:
        """The `data "aws_kms_key"` a `${data.aws_kms_key.X.arn}` reference points at."""
        assert raw.startswith("${data.aws_kms_key.") and raw.endswith(".arn}"), raw
        return self.data("aws_kms_key")[raw[len("${data.aws_kms_key."):-len(".arn}")]]


@pytest.fixture
def gov(synthesized, env) -> StackView:
    return StackView(synthesized.stack(f"{env}-governance"), load_env(env))


@pytest.fixture
def data_stack(synthesized, env) -> dict:
    return synthesized.stack(f"{env}-data")


@dataclass
class Variant(StackView):
    stderr: str = ""
    text: str = ""


# Staging with what no default environment turns on: Shield Advanced (cost), and a home region
# for global resources other than the environment's region (a second region of a rollout).
VARIANT_ENV = "staging"
VARIANT_PATCH: dict[str, Any] = {"governance": {
    "shield": {"enabled": True},
    "recorder": {"global_resources_region": "eu-central-1"},
}}


def synth_governance(config: EnvConfig, out: Path) -> tuple[str, str]:
    """Synthesize only `<env>-governance`; return (its JSON text, what synth wrote to stderr)."""
    from cdktf import App

    from modules.governance.stack import GovernanceStack

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        app = App(outdir=str(out), stack_traces=False)
        GovernanceStack(app, config)
        app.synth()
    return (out / "stacks" / f"{config.name}-governance" / "cdk.tf.json").read_text(), err.getvalue()


@pytest.fixture(scope="session")
def variant(tmp_path_factory, synthesized) -> Variant:
    # Depends on `synthesized` so the provider bindings are loaded once, by the default synth.
    tmp = tmp_path_factory.mktemp("governance-variant")
    config = load_env(VARIANT_ENV, environments_with(tmp, VARIANT_ENV, VARIANT_PATCH))
    text, stderr = synth_governance(config, tmp / "out")
    return Variant(json.loads(text), config, stderr=stderr, text=text)
