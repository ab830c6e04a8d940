"""Plan JSON fixtures in Terraform's documented JSON output format, and the terraform test double.

`plan_doc(change(...), ...)` builds a whole plan: `format_version`, `terraform_version`,
`planned_values` (every object that exists after apply, with its `after` values),
`resource_changes` (with `change.actions`, `before`, `after`, `after_unknown`, sensitivity),
`configuration` (each resource's expressions, with `references` where given), `prior_state`
(every object that exists before) and the `applyable` / `complete` / `errored` flags.
Static fixtures for the orchestration tests live in fixtures/.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FAKE_TERRAFORM = HERE / "fake_terraform" / "terraform"
FIXTURES = HERE / "fixtures"
PROVIDER = "registry.terraform.io/hashicorp/aws"
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY_ARN = "arn:aws:kms:eu-west-1:999988887777:key/0000aaaa-12ab-34cd-56ef-1234567890ff"


def change(rtype: str, name: str, actions: list[str], before: dict | None = None, after: dict | None = None,
           after_unknown: dict | None = None, references: dict[str, list[str]] | None = None,
           mode: str = "managed", **extra) -> dict:
    """One `resource_changes` entry (plus, under "_references", configuration references for plan_doc)."""
    prefix = "data." if mode == "data" else ""
    entry = {
        "address": f"{prefix}{rtype}.{name}",
        "mode": mode,
        "type": rtype,
        "name": name,
        "provider_name": PROVIDER,
        "change": {
            "actions": actions,
            "before": copy.deepcopy(before),
            "after": copy.deepcopy(after),
            "after_unknown": after_unknown or {},
            "before_sensitive": {} if before is not None else False,
            "after_sensitive": {} if after is not None else False,
        },
        **extra,
    }
    if references:
        entry["_references"] = references
    return entry


def update(rtype: str, name: str, before: dict, after: dict, **kw) -> dict:
    return change(rtype, name, ["update"], before, after, **kw)


def create(rtype: str, name: str, after: dict, **kw) -> dict:
    return change(rtype, name, ["create"], None, after, **kw)


def delete(rtype: str, name: str, before: dict, **kw) -> dict:
    return change(rtype, name, ["delete"], before, None, **kw)


def replace(rtype: str, name: str, before: dict, after: dict, order: tuple = ("delete", "create"), **kw) -> dict:
    return change(rtype, name, list(order), before, after, action_reason="replace_because_cannot_update", **kw)


def noop(rtype: str, name: str, values: dict, **kw) -> dict:
    return change(rtype, name, ["no-op"], values, values, **kw)


def _expressions(values: dict | None, references: dict[str, list[str]]) -> dict:
    out = {}
    for key, value in (values or {}).items():
        if isinstance(value, (str, int, float, bool)):
            out[key] = {"constant_value": value}
    for key, refs in references.items():
        out[key] = {"references": refs}
    return out


def plan_doc(*changes: dict, data: tuple[dict, ...] = (), terraform_version: str = "1.10.5",
             format_version: str = "1.2") -> dict:
    """A complete plan JSON document around `resource_changes`; `data` are data sources read at plan time
    (each a dict with type, name and values)."""
    planned, prior, config, rcs = [], [], [], []
    for raw in changes:
        rc = {k: v for k, v in raw.items() if k != "_references"}
        rcs.append(rc)
        kind = tuple(rc["change"]["actions"])
        base = {"address": rc["address"], "mode": rc["mode"], "type": rc["type"], "name": rc["name"],
                "provider_name": PROVIDER, "schema_version": 0}
        if rc["mode"] == "managed" and kind not in (("delete",), ("forget",)) and "deposed" not in rc:
            planned.append({**base, "values": rc["change"]["after"] or {}, "sensitive_values": {}})
        if rc["change"]["before"] is not None and "deposed" not in rc:
            prior.append({**base, "values": rc["change"]["before"], "sensitive_values": {}})
        if rc["mode"] == "managed" and kind != ("delete",):
            config.append({"address": rc["address"], "mode": "managed", "type": rc["type"], "name": rc["name"],
                           "provider_config_key": "aws", "schema_version": 0,
                           "expressions": _expressions(rc["change"]["after"], raw.get("_references") or {})})
    for source in data:
        address = f"data.{source['type']}.{source['name']}"
        prior.append({"address": address, "mode": "data", "type": source["type"], "name": source["name"],
                      "provider_name": PROVIDER, "schema_version": 0, "values": source["values"],
                      "sensitive_values": {}})
        config.append({"address": address, "mode": "data", "type": source["type"], "name": source["name"],
                       "provider_config_key": "aws", "schema_version": 0,
                       "expressions": _expressions(source.get("config", {}), {})})
    doc = {
        "format_version": format_version,
        "terraform_version": terraform_version,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": rcs,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER,
                                        "expressions": {"region": {"constant_value": "eu-west-1"}}}},
            "root_module": {"resources": config},
        },
        "timestamp": "2025-06-01T10:00:00Z",
        "applyable": any(tuple(rc["change"]["actions"]) != ("no-op",) for rc in rcs),
        "complete": True,
        "errored": False,
    }
    if prior:
        doc["prior_state"] = {"format_version": "1.0", "terraform_version": terraform_version,
                              "values": {"root_module": {"resources": prior}}}
    return doc


def write_plan(folder: Path, doc: dict, name: str = "plan.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


# A resource that passes every checkov check at any threshold (for plans that must pass).
PAB = {"bucket": "aegis-dev-datasets-111122223333-eu-west-1", "block_public_acls": True, "block_public_policy": True,
       "ignore_public_acls": True, "restrict_public_buckets": True}


@pytest.fixture
def fake_terraform(tmp_path, monkeypatch):
    """The terraform test double, with its log and plan fixtures under tmp_path."""
    log = tmp_path / "terraform.log"
    plans = tmp_path / "plan-fixtures"
    plans.mkdir()
    monkeypatch.setenv("FAKE_TERRAFORM_LOG", str(log))
    monkeypatch.setenv("FAKE_TERRAFORM_PLANS", str(plans))
    monkeypatch.setenv("FAKE_TERRAFORM_PYTHON", sys.executable)
    monkeypatch.delenv("FAKE_TERRAFORM_FAIL", raising=False)
    monkeypatch.delenv("FAKE_TERRAFORM_VERSION", raising=False)
    monkeypatch.delenv("AEGIS_ATTESTATION_KEY", raising=False)
    monkeypatch.delenv("AEGIS_ATTESTATION_MAX_AGE", raising=False)
    monkeypatch.delenv("AEGIS_APPLY_LEDGER", raising=False)  # the ledger beside tmp_path/cdktf.out
    monkeypatch.delenv("AEGIS_TERRAFORM", raising=False)
    assert os.access(FAKE_TERRAFORM, os.X_OK), "the terraform test double must be executable"

    class Fake:
        path = str(FAKE_TERRAFORM)
        fixtures = plans

        @staticmethod
        def calls() -> list[dict]:
            if not log.exists():
                return []
            return [json.loads(line) for line in log.read_text().splitlines()]

        @staticmethod
        def commands() -> list[tuple[str, str]]:
            """(stack folder, terraform command) in call order."""
            return [(c["cwd"], c["args"][0]) for c in Fake.calls()]

        @staticmethod
        def plan_for(stack: str, doc: dict) -> None:
            write_plan(plans, doc, f"{stack}.json")

        @staticmethod
        def default_plan(doc: dict) -> None:
            write_plan(plans, doc, "default.json")

    return Fake


@pytest.fixture
def synth_copy(synthesized, tmp_path) -> Path:
    """A private copy of the session's synth output (terraform runs write into stack folders)."""
    out = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    return out


def as_synthesized(out: Path, envs: tuple[str, ...] = ("dev",)) -> Path:
    """Make `out` (with stacks/<stack>/cdk.tf.json folders) a synth output as Aegis leaves one: a manifest
    naming every stack folder, and the synth record of `envs` (fresh) holding each stack file's SHA-256,
    so the plan gate uses the stack files beside the plans in it."""
    from modules.config import load_all
    from modules.synth_output import MANIFEST, STACK_FILE
    from modules.synth_record import RECORD, build_record, stack_digests

    stacks = sorted(p.parent.name for p in (out / "stacks").glob(f"*/{STACK_FILE}"))
    manifest = {"stacks": {name: {"name": name, "synthesizedStackPath": f"stacks/{name}/{STACK_FILE}"}
                           for name in stacks}}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    (out / RECORD).write_text(json.dumps(build_record(load_all(list(envs)), stack_digests(out))), encoding="utf-8")
    return out
