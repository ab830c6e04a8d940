"""The synth output folder: the cdktf manifest that lists its stacks, and replacing the folder whole.

Synth (modules/synth.py) and the synth cache (modules/synth_cache.py) both build a complete output in
a staging folder beside the target and swap it in, so a failure never leaves a half-written output
folder and never destroys the previous one.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

MANIFEST = "manifest.json"


def staging_folder(out: Path, purpose: str) -> Path:
    """A new empty folder beside `out` (on its file system, so swapping it in is a rename)."""
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.{purpose}-", dir=out.parent))


def swap_in(staging: Path, out: Path) -> None:
    """Make the complete `staging` folder the output `out`; the previous output goes only after."""
    if out.exists():
        old = staging_folder(out, "old")
        out.rename(old / out.name)
        staging.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out)
