"""A copy of the synth output that plain checkov can parse (`python main.py checkov-copy DIR`).

checkov 3.3.30's terraform_json parser fails on the `terraform.required_version` every Aegis stack
carries (Terraform ≥ 1.10, for the S3 state lockfile): plain `checkov -d cdktf.out` reports "Parsing
errors", checks nothing and exits 0. The copy holds each stack without that one key, which no check
reads, in the same layout (`stacks/<name>/cdk.tf.json`), so results name the same files. The gate
needs no copy: it reads the key in place (policies/scan/patches.py). The copy replaces DIR whole.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from modules.synth_output import SynthOutputError, load_stack, manifest_stacks, staging_folder, swap_in


def write_checkov_copy(out_dir: Path, dest: Path) -> list[str]:
    """Write the copy of `out_dir`'s stacks into `dest` (replaced whole); return the stack names."""
    out_dir, dest = Path(out_dir), Path(dest)
    if dest.resolve() == out_dir.resolve() or out_dir.resolve() in dest.resolve().parents:
        raise SynthOutputError(f"{dest.name}/ is the synth output or inside it: write the copy elsewhere")
    stacks = manifest_stacks(out_dir)
    if not stacks:
        raise SynthOutputError(f"{out_dir.name}/ holds no stack: run `python main.py synth`")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(dest, "checkov")
    try:
        for name, path in sorted(stacks.items()):
            doc = load_stack(out_dir, name, path)
            terraform = doc.get("terraform")
            if isinstance(terraform, dict):
                terraform.pop("required_version", None)
            target = staging / path.relative_to(out_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        swap_in(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(stacks)
