"""`bench/results.json`: the table `make bench` prints, as data, and the rules that keep it honest.

A row holds the measured runs of each side (wall seconds; medians are computed here, never typed in),
the value judged (a ratio of medians, or seconds, or bytes), its target and whether it was met. The
growth row is judged per resource: its time ratio divided by the ratio of the resources the two sides
handled, so resources added with the models are not held against it but slower handling of each
resource is. The checker recomputes every median, ratio and verdict from the runs (and resources),
and knows how each row is judged, so a file whose "met" does not follow from its own numbers, or that
judges a row another way, is rejected.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = 2  # 2: the growth row is judged per resource (its sides carry the resources they handled)
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results.json"
PER_RESOURCE = "ratio per resource"
UNITS = ("ratio", PER_RESOURCE, "seconds", "bytes")
# The contract: one row per target of the issue, and how each is judged (ids are stable; labels are for people).
ROW_UNITS = {"synth_lazy_vs_eager": "ratio", "gate_vs_checkov": "ratio", "rerun_vs_first_run": "ratio",
             "rerun_seconds": "seconds", "growth_30_vs_3_models": PER_RESOURCE, "peak_rss": "bytes"}
ROW_IDS = tuple(ROW_UNITS)
MIN_RUNS = 3


def time_ratio(measured_median: float, baseline_median: float) -> float:
    """Measured over baseline wall time, from medians rounded as the table records them."""
    return round(measured_median, 3) / round(baseline_median, 3)


def per_resource(ratio: float, resource_ratio: float) -> float:
    """A time ratio judged against the work: divided by the ratio of resources handled. 1.0 means each
    resource takes as long on the measured side as on the baseline (time grows with the resources);
    less means fixed costs are shared out over more of them."""
    return ratio / resource_ratio


@dataclass
class Side:
    label: str
    seconds: list[float]  # wall time of each run
    cpu: list[float] = field(default_factory=list)  # CPU seconds of each run, all processes (context only)
    resources: int | None = None  # resources the command handled (for rows judged per resource)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def as_dict(self) -> dict:
        doc = {"label": self.label, "seconds": [round(s, 3) for s in self.seconds], "median": round(self.median, 3)}
        if self.cpu:
            doc["cpu_median"] = round(statistics.median(self.cpu), 3)
        if self.resources is not None:
            doc["resources"] = self.resources
        return doc


@dataclass
class Row:
    id: str
    label: str
    unit: str  # ratio: value = measured / baseline (medians); ratio per resource: that ratio / resource ratio;
    # seconds: value = median of measured; bytes
    target: float
    measured: Side | None = None
    baseline: Side | None = None
    value_bytes: int | None = None  # for unit "bytes"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)  # other sides shown for context (not judged)

    @property
    def time_ratio(self) -> float:
        return time_ratio(self.measured.median, self.baseline.median)

    @property
    def resource_ratio(self) -> float:
        return self.measured.resources / self.baseline.resources

    @property
    def value(self) -> float:
        if self.unit == "ratio":
            return self.time_ratio
        if self.unit == PER_RESOURCE:
            return per_resource(self.time_ratio, self.resource_ratio)
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
        if self.unit == PER_RESOURCE:
            doc["time_ratio"], doc["resource_ratio"] = round(self.time_ratio, 4), round(self.resource_ratio, 4)
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


def _resources(doc: Any, where: str, problems: list[str]) -> int | None:
    count = doc.get("resources") if isinstance(doc, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        problems.append(f"{where}: resources must be a positive integer")
        return None
    return count


def _per_resource(row: dict, ratio: float | None, problems: list[str]) -> float | None:
    """The value of a row judged per resource; the time and resource ratios it records must follow too."""
    rid = row.get("id")
    counts = [_resources(row.get(side), f"{rid}.{side}", problems) for side in ("measured", "baseline")]
    if ratio is None or None in counts:
        return None
    resource_ratio = counts[0] / counts[1]
    for key, derived in (("time_ratio", ratio), ("resource_ratio", resource_ratio)):
        if abs(row.get(key, -1) - round(derived, 4)) > 1e-3:
            problems.append(f"{rid}: {key} {row.get(key)} does not follow from its runs ({derived:.4f})")
    return per_resource(ratio, resource_ratio)


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
        _check_row(row, problems)
    if rows and doc.get("all_met") is not all(isinstance(r, dict) and r.get("met") is True for r in rows):
        problems.append("all_met does not match the rows")
    return problems


def _check_row(row: Any, problems: list[str]) -> None:
    """One row: judged as the contract judges it, its value and verdict following from its own numbers."""
    if not isinstance(row, dict):
        problems.append("a row is not an object")
        return
    rid, unit, target = row.get("id"), row.get("unit"), row.get("target")
    if unit not in UNITS or not isinstance(target, (int, float)) or not row.get("label"):
        problems.append(f"{rid}: unit, target and label are required")
        return
    if rid in ROW_UNITS and unit != ROW_UNITS[rid]:
        problems.append(f"{rid}: judged as {unit!r}, the contract judges it as {ROW_UNITS[rid]!r}")
    value = _row_value(row, unit, problems)
    if value is None:
        return
    if abs(row.get("value", -1) - round(value, 4)) > 1e-3:
        problems.append(f"{rid}: value {row.get('value')} does not follow from its runs ({value:.4f})")
    if row.get("met") is not (value <= target):
        problems.append(f"{rid}: met={row.get('met')} but value {value:.4f} vs target {target}")


def _row_value(row: dict, unit: str, problems: list[str]) -> float | None:
    """The value a row's runs give by its unit; None when they give none (the problem is recorded)."""
    rid = row.get("id")
    if unit in ("ratio", PER_RESOURCE):
        measured = _side(row.get("measured"), f"{rid}.measured", problems)
        baseline = _side(row.get("baseline"), f"{rid}.baseline", problems)
        value = measured / baseline if measured and baseline else None
        return _per_resource(row, value, problems) if unit == PER_RESOURCE else value
    if unit == "seconds":
        return _side(row.get("measured"), f"{rid}.measured", problems)
    if isinstance(row.get("value"), int) and row["value"] > 0:
        return row["value"]
    problems.append(f"{rid}: bytes must be a positive integer")
    return None
