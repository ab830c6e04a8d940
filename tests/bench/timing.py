"""Side-by-side wall-time measurement of whole commands (medians; ratios are the contract)."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Timing:
    label: str
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(args: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0,):
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"benchmark command failed ({result.returncode}): {' '.join(args)}")
    return elapsed


def interleaved(cases: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, Timing]:
    """Run the cases alternately, `runs` times each, so machine noise hits them alike."""
    timings = {label: Timing(label, []) for label in cases}
    for _ in range(runs):
        for label, (args, env) in cases.items():
            timings[label].seconds.append(run_once(args, env))
    return timings
