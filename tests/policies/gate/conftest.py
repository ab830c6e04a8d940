"""Fixtures for the gate tests: one gate run over the default app per session, and small
hand-written synth folders for the fail-closed cases (checkov costs seconds per run)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from modules.config import load_all
from modules.synth_record import RECORD, build_record, stack_digests

# `no_exceptions` and `app_gate` (one gate run over the default app per session) live in
# tests/policies/conftest.py, shared with the report tests.


@pytest.fixture
def app_copy(synthesized, tmp_path) -> Path:
    """A private copy of the synthesized default app, to break things in."""
    out = tmp_path / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    return out


def bucket(name: str, **extra) -> dict:
    """A small S3 bucket resource as CDKTF writes it (with `//` metadata)."""
    return {"//": {"metadata": {"path": f"stack/{name}", "uniqueId": name}}, "bucket": name, **extra}


def stack_doc(resources: dict[str, dict[str, dict]] | None = None, **blocks) -> dict:
    """A cdk.tf.json like CDKTF's, with the `terraform.required_version` that trips plain checkov."""
    doc = {"terraform": {"required_version": ">= 1.10",
                         "required_providers": {"aws": {"source": "aws", "version": "6.25.0"}}},
           "provider": {"aws": [{"region": "eu-west-1"}]}}
    if resources is not None:
        doc["resource"] = resources
    doc.update(blocks)
    return doc


def write_out(root: Path, stacks: dict[str, dict], envs: tuple[str, ...] = ("dev",), *, record: bool = True) -> Path:
    """A minimal synth output folder: manifest.json, aegis-synth.json and stacks/<name>/cdk.tf.json."""
    out = root / "cdktf.out"
    manifest = {"stacks": {}}
    for name, doc in stacks.items():
        path = out / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))
        manifest["stacks"][name] = {"name": name, "synthesizedStackPath": f"stacks/{name}/cdk.tf.json"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if record:
        (out / RECORD).write_text(json.dumps(build_record(load_all(envs), stack_digests(out))))
    return out


@pytest.fixture
def small_out(tmp_path) -> Path:
    """One dev data stack with a private, well-configured bucket and nothing else."""
    return write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")}})})


@pytest.fixture(scope="session")
def prod_stacks(synthesized) -> list[Path]:
    return [synthesized.path(n) for n in synthesized.stack_names if n.startswith("prod-")]


@pytest.fixture(scope="session")
def shortcut_scan(prod_stacks):
    """The prod stacks scanned once per session with every shortcut of policies/scan/patches.py in place."""
    from policies import scanner
    from policies.gate import CHECKS_DIR

    return scanner.scan_json(prod_stacks, CHECKS_DIR, workers=1)
