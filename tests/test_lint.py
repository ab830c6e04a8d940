"""The code base stays lint-clean (the same ruff rules the pre-commit hook runs) and type-checks (mypy)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_reports_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "."],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_reports_nothing(tmp_path):
    # Configured by [tool.mypy] in pyproject.toml (the files it checks, the strictness). A fresh cache
    # outside the tree, as on a fresh clone in CI: the run is the cold one, and leaves nothing behind.
    # Without PYTHONPATH: mypy counts its folders as installed packages and stays silent about their
    # modules, so a developer's PYTHONPATH=. would hide errors that CI (no PYTHONPATH) reports.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
                            cwd=ROOT, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
