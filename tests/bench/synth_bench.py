"""`make bench-synth`: synth of every environment, lazy provider loading vs the eager import."""
from __future__ import annotations

import sys
import tempfile

from tests.bench.timing import interleaved

TARGET = 0.30


def main(runs: int = 3) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        synth = [sys.executable, "main.py", "synth", "--no-cache", "--out", f"{tmp}/out"]
        timings = interleaved({"lazy": (synth, {}), "eager": (synth, {"AEGIS_EAGER_PROVIDER": "1"})}, runs)
    lazy, eager = timings["lazy"].median, timings["eager"].median
    ratio = lazy / eager
    print(f"{'synth (all environments)':<28}{'median s':>10}  runs")
    print(f"{'  lazy provider loading':<28}{lazy:>10.2f}  {', '.join(f'{s:.2f}' for s in timings['lazy'].seconds)}")
    print(f"{'  eager import':<28}{eager:>10.2f}  {', '.join(f'{s:.2f}' for s in timings['eager'].seconds)}")
    verdict = "met" if ratio <= TARGET else "MISSED"
    print(f"{'  ratio lazy/eager':<28}{ratio:>10.2f}  target ≤ {TARGET:.2f}: {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
