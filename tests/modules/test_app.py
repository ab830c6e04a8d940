"""Stacks, providers, backends and output hygiene of the whole app."""
from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

from modules.config import load_all, load_env
from modules.naming import STACK_ORDER

ROOT = Path(__file__).resolve().parents[2]


def test_fifteen_stacks_in_apply_order(synthesized):
    manifest = synthesized.manifest
    assert synthesized.stack_names == sorted(f"{e}-{p}" for e in ("dev", "staging", "prod") for p in STACK_ORDER)
    for env in ("dev", "staging", "prod"):
        for before, after in pairwise(STACK_ORDER):
            assert manifest["stacks"][f"{env}-{after}"]["dependencies"] == [f"{env}-{before}"]
        assert manifest["stacks"][f"{env}-bootstrap"]["dependencies"] == []


def test_provider_guards_account_role_and_tags(synthesized):
    for stack in synthesized.stack_names:
        env = stack.split("-")[0]
        config = load_env(env)
        for provider in synthesized.stack(stack)["provider"]["aws"]:
            assert provider["allowed_account_ids"] == [config.account_id]
            assert provider["assume_role"][0]["role_arn"] == config.deployer_role_arn
            assert provider["region"] == (config.dr_region if provider.get("alias") == "dr" else config.region)
            assert provider["default_tags"][0]["tags"] == {
                "Environment": env, "Project": "aegis", "OwnerTeam": config.tags.owner_team,
                "CostCenter": config.tags.cost_center, "DataClassification": config.tags.data_classification,
                "ManagedBy": "aegis"}


def test_terraform_and_provider_versions_pinned(synthesized):
    for stack in synthesized.stack_names:
        terraform = synthesized.stack(stack)["terraform"]
        assert terraform["required_version"] == ">= 1.10"
        assert terraform["required_providers"]["aws"]["version"] == "6.25.0"


def test_backends(synthesized):
    for stack in synthesized.stack_names:
        env, pillar = stack.split("-", 1)
        config = load_env(env)
        backend = synthesized.stack(stack)["terraform"]["backend"]
        if pillar == "bootstrap" or config.backend.type == "local":
            assert list(backend) == ["local"]
            path = backend["local"]["path"]
            assert not path.startswith("/") and path.endswith(f"/.aegis/state/{stack}.tfstate")
            # The state sits outside the output folder, which a re-synth replaces.
            assert path.startswith("../../../")
        else:
            s3 = backend["s3"]
            assert s3["key"] == f"aegis/{env}/{stack}.tfstate"
            assert s3["encrypt"] is True and s3["use_lockfile"] is True
            assert s3["bucket"] == f"aegis-{env}-tfstate-{config.account_id}-{config.region}"
            # The state key's ARN recorded after bootstrap: the state bucket policy admits that ARN, never an alias.
            assert s3["kms_key_id"] == config.backend.kms_key_id
            assert ":key/" in s3["kms_key_id"] and f":{config.account_id}:" in s3["kms_key_id"]
            assert "dynamodb_table" not in s3


def test_no_machine_paths_in_output(synthesized):
    for path in synthesized.out.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for needle in (str(synthesized.out), str(ROOT), str(Path.home()) + "/", "/tmp/"):
                assert needle not in text, f"{path.name} contains {needle}"


def test_every_role_carries_the_permission_boundary(synthesized):
    for stack in synthesized.stack_names:
        env = stack.split("-")[0]
        for name, role in synthesized.resources(stack, "aws_iam_role").items():
            if stack.endswith("-bootstrap"):  # created beside the boundary: a reference orders it after it
                assert role["permissions_boundary"] == "${aws_iam_policy.permission-boundary.arn}", name
            else:
                assert role["permissions_boundary"] == \
                    f"arn:aws:iam::{load_env(env).account_id}:policy/aegis-{env}-permission-boundary", name
            assert role["name"].startswith(f"aegis-{env}-")


def test_permission_boundary_has_no_bare_wildcard_action(synthesized, env):
    (boundary,) = [p for p in synthesized.resources(f"{env}-bootstrap", "aws_iam_policy").values()
                   if p["name"] == f"aegis-{env}-permission-boundary"]
    for statement in json.loads(boundary["policy"])["Statement"]:
        actions = statement.get("Action", [])
        assert "*" not in (actions if isinstance(actions, list) else [actions])


def test_synth_is_deterministic(synthesized, tmp_path):
    """A second synth of the same input is byte-identical (in-process, so it is cheap)."""
    from modules.synth import synthesize

    again = tmp_path / "again"
    synthesize(load_all(), again)
    first = {p.relative_to(synthesized.out): p.read_bytes() for p in synthesized.out.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []
