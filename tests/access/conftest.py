"""Fixtures of the Access pillar tests: generated IAM documents per environment, read from the
session's synthesized output."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modules.config import EnvConfig, load_env
from modules.naming import Naming

ALL_KINDS = {"sagemaker", "sagemaker-serverless", "lambda", "ec2"}


@dataclass
class RoleDocs:
    name: str
    trust: dict
    boundary_arn: str | None
    inline: list[dict] = field(default_factory=list)
    max_session_duration: int | None = None


def roles_of(stack_json: dict) -> dict[str, RoleDocs]:
    """Role name → its trust, boundary and inline policies (aws_iam_role_policy and inline_policy)."""
    resources = stack_json.get("resource", {})
    roles: dict[str, RoleDocs] = {}
    by_ref: dict[str, str] = {}
    for logical, conf in resources.get("aws_iam_role", {}).items():
        doc = RoleDocs(conf["name"], json.loads(conf["assume_role_policy"]), conf.get("permissions_boundary"),
                       max_session_duration=conf.get("max_session_duration"))
        for inline in conf.get("inline_policy", []) or []:
            if inline.get("policy"):
                doc.inline.append(json.loads(inline["policy"]))
        roles[conf["name"]] = doc
        for attr in ("id", "name"):
            by_ref["${aws_iam_role." + logical + "." + attr + "}"] = conf["name"]
    for conf in resources.get("aws_iam_role_policy", {}).values():
        role = by_ref.get(conf["role"], conf["role"])
        if role in roles and not conf["policy"].startswith("${"):
            roles[role].inline.append(json.loads(conf["policy"]))
    return roles


@dataclass
class EnvIam:
    config: EnvConfig
    naming: Naming
    roles: dict[str, RoleDocs]
    boundary: dict

    def persona(self, persona: str) -> RoleDocs:
        return self.roles[self.naming.role(persona)]


@pytest.fixture(scope="session")
def _env_iam_cache() -> dict:
    return {}


@pytest.fixture
def env_iam(synthesized, env, _env_iam_cache) -> EnvIam:
    if env not in _env_iam_cache:
        config = load_env(env)
        naming = Naming.of(config)
        (boundary,) = [p for p in synthesized.resources(f"{env}-bootstrap", "aws_iam_policy").values()
                       if p["name"] == f"{naming.prefix}-permission-boundary"]
        _env_iam_cache[env] = EnvIam(config, naming, roles_of(synthesized.stack(f"{env}-access")),
                                     json.loads(boundary["policy"]))
    return _env_iam_cache[env]


def serving_kinds(config: EnvConfig) -> set[str]:
    return {m.serving for m in config.platform.models}


ROOT = Path(__file__).resolve().parents[2]
