"""Node.js check: jsii (under cdktf) runs the provider bindings in a Node.js process (≥ 18)."""
from __future__ import annotations

import re
import shutil
import subprocess

MIN_NODE_MAJOR = 18


def node_problem(executable: str | None = None) -> str | None:
    """None when a usable Node.js is on PATH; otherwise one line saying what is wrong."""
    node = executable or shutil.which("node")
    if not node:
        return f"Node.js {MIN_NODE_MAJOR} or newer is required (cdktf runs on it) but `node` is not on PATH"
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Node.js could not be run ({exc})"
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < MIN_NODE_MAJOR:
        return f"Node.js {MIN_NODE_MAJOR} or newer is required; found {version or 'an unknown version'}"
    return None
