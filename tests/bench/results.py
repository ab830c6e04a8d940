"""`bench/results.json`: the table `make bench` prints, as data, and the rules that keep it honest.

A row holds the measured runs of each side (wall seconds; medians are computed here, never typed in),
the value judged (a ratio of medians, or seconds, or bytes), its target and whether it was met. The
checker recomputes every median, ratio and verdict from the runs, so a file whose "met" does not
follow from its own numbers is rejected.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 1
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"
# The contract: one row per target of the issue (ids are stable; labels are for people).
ROW_IDS = ("synth_lazy_vs_eager", "gate_vs_checkov", "rerun_vs_first_run", "rerun_seconds", "growth_30_vs_3_models",
           "peak_rss")
UNITS = ("ratio", "seconds", "bytes")
MIN_RUNS = 3


@dataclass
class Side:
    label: str
    seconds: list[float]  # wall time of each run
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each run, all processes (context only)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict:
        doc = {"label": self.label, "seconds": [round(s, 3) for s in self.seconds], "median": round(self.median, 3)}
        if self.cpu:
            doc["cpu_median"] = round(statistics.median(self.cpu), 3)
        return doc


@dataclass
class Row:
    id: str
    label: str
    unit: str  # ratio: value = measured / baseline (medians); seconds: value = median of measured; bytes
    target: float
    measured: Side | None = None
    baseline: Side | None = None
    value_bytes: int | None = None  # for unit "bytes"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # other sides shown for context (not judged)

    @property
    def value(self) -> float:
        if self.unit == "ratio":
            return round(self.measured.median, 3) / round(self.baseline.median, 3)
        if self.unit == "seconds":
            return round(self.measured.median, 3)
        return float(self.value_bytes)

    @property
    def met(self) -> bool:
        return self.value <= self.target

    def as_dict(self) -> dict:
        value = int(self.value) if self.unit == "bytes" else round(self.value, 4)
        doc: dict[str, Any] = {"id": self.id, "label": self.label, "unit": self.unit, "target": self.target,
                               "value": value, "met": self.met, "note": self.note}
        if self.measured:
            doc["measured"] = self.measured.as_dict()
        if self.baseline:
            doc["baseline"] = self.baseline.as_dict()
        if self.extra:
            doc["extra"] = {k: (v.as_dict() if isinstance(v, Side) else v) for k, v in self.extra.items()}
        return doc


def document(rows: list[Row], machine: dict[str, Any], runs: int) -> dict:
    return {"format": FORMAT, "runs": runs, "machine": machine, "rows": [r.as_dict() for r in rows],
            "all_met": all(r.met for r in rows)}


def write(doc: dict, path: Path = RESULTS) -> Path:
    problems = check(doc)
    if problems:
        raise ValueError("benchmark results are inconsistent: " + "; ".join(problems))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def _side(doc: Any, where: str, problems: list[str]) -> float | None:
    if not isinstance(doc, dict) or not isinstance(doc.get("seconds"), list) or not doc["seconds"]:
        problems.append(f"{where}: no runs")
        return None
    runs = doc["seconds"]
    if not all(isinstance(s, (int, float)) and s > 0 for s in runs):
        problems.append(f"{where}: runs must be positive seconds")
        return None
    if len(runs) < MIN_RUNS:
        problems.append(f"{where}: {len(runs)} runs, at least {MIN_RUNS} needed")
    median = round(statistics.median(runs), 3)
    if abs(doc.get("median", -1) - median) > 1e-6:
        problems.append(f"{where}: median {doc.get('median')} is not the median of its runs ({median})")
    return median


def check(doc: Any) -> list[str]:
    """Every way the document could misstate what was measured; empty when it is consistent."""
    problems: list[str] = []
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return [f"not a format-{FORMAT} results document"]
    if not isinstance(doc.get("runs"), int) or doc["runs"] < MIN_RUNS:
        problems.append(f"runs must be at least {MIN_RUNS}")
    if not isinstance(doc.get("machine"), dict) or "cpus" not in doc["machine"]:
        problems.append("machine: cpus missing")
    rows = doc.get("rows")
    if not isinstance(rows, list):
        return problems + ["rows missing"]
    ids = [r.get("id") for r in rows if isinstance(r, dict)]
    if ids != list(ROW_IDS):
        problems.append(f"rows must be {list(ROW_IDS)} in that order, found {ids}")
    for row in rows:
        if not isinstance(row, dict):
            problems.append("a row is not an object")
            continue
        rid, unit, target = row.get("id"), row.get("unit"), row.get("target")
        if unit not in UNITS or not isinstance(target, (int, float)) or not row.get("label"):
            problems.append(f"{rid}: unit, target and label are required")
            continue
        if unit == "ratio":
            measured = _side(row.get("measured"), f"{rid}.measured", problems)
            baseline = _side(row.get("baseline"), f"{rid}.baseline", problems)
            value = measured / baseline if measured and baseline else None
        elif unit == "seconds":
            value = _side(row.get("measured"), f"{rid}.measured", problems)
        else:
            value = row.get("value") if isinstance(row.get("value"), int) and row["value"] > 0 else None
            if value is None:
                problems.append(f"{rid}: bytes must be a positive integer")
        if value is None:
            continue
        if abs(row.get("value", -1) - round(value, 4)) > 1e-3:
            problems.append(f"{rid}: value {row.get('value')} does not follow from its runs ({value:.4f})")
        if row.get("met") is not (value <= target):
            problems.append(f"{rid}: met={row.get('met')} but value {value:.4f} vs target {target}")
    if rows and doc.get("all_met") is not all(isinstance(r, dict) and r.get("met") is True for r in rows):
        problems.append("all_met does not match the rows")
    return problems
