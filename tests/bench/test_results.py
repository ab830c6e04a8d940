"""bench/results.json: its shape, and that every target in it is recorded as met.

The suite never runs the benchmark or times anything (absolute times on a shared machine say little,
and a test that waits on them is flaky). What it can check honestly:
- the writer: a sample table goes through the same functions `make bench` uses, and the checker
  rejects every way a table could misstate its numbers (a median that is not the median of its runs,
  a ratio that does not follow from its medians, "met" over a miss, fewer than three runs, a row
  judged another way than the contract says);
- the judging of the growth row, fed numbers: its time ratio divided by its resource ratio, ≤ 0.60;
- the recorded run: when bench/results.json exists (it is gitignored: written by `make bench` on the
  machine that ran it), it must pass the same checks and record every target as met. On a fresh
  clone there is no such file and only the writer is checked: the suite says nothing about speed
  then, and `make bench` itself exits non-zero when a target is missed.
"""
from __future__ import annotations

import copy
import json

import pytest

from tests.bench import results
from tests.bench.bench import render
from tests.bench.results import Row, Side


def _sample() -> dict:
    def side(label, *seconds, resources=None):
        return Side(label, list(seconds), resources=resources)

    rows = [
        Row("synth_lazy_vs_eager", "synth", "ratio", 0.30, side("lazy", 6.1, 6.4, 6.2),
            side("eager", 30.0, 29.5, 31.2)),
        Row("gate_vs_checkov", "gate", "ratio", 1.0, side("gate", 9.0, 9.2, 8.8), side("checkov", 14.0, 14.5, 13.9),
            extra={"bare_checkov_as_is": side("as is", 8.0, 8.1, 8.2)}),
        Row("rerun_vs_first_run", "rerun", "ratio", 0.10, side("again", 1.6, 1.7, 1.5), side("first", 20.0, 21, 19)),
        Row("rerun_seconds", "rerun s", "seconds", 2.0, side("again", 1.6, 1.7, 1.5)),
        Row("growth_30_vs_3_models", "growth", results.PER_RESOURCE, 0.60, side("30", 15.0, 15.5, 14.8, resources=1000),
            side("3", 11.0, 11.2, 10.9, resources=400)),
        Row("peak_rss", "rss", "bytes", 1.5 * 1024 ** 3, value_bytes=900 * 1024 ** 2),
    ]
    return results.document(rows, {"cpus": 2, "load_before": [1.0, 1.0, 1.0], "load_after": [1.0, 1.0, 1.0]}, 3)


def test_the_writer_produces_a_consistent_table(tmp_path):
    doc = _sample()
    path = results.write(doc, tmp_path / "results.json")
    written = json.loads(path.read_text())
    assert results.check(written) == [] and written["all_met"] is True
    assert [r["id"] for r in written["rows"]] == list(results.ROW_IDS)
    assert written["rows"][0]["value"] == pytest.approx(6.2 / 30.0, abs=1e-3)
    table = render(written)
    assert "every target met" in table and table.count("met") >= 6


@pytest.mark.parametrize("damage, problem", [
    (lambda d: d["rows"][0].update(met=False), "met=False"),
    (lambda d: d["rows"][4]["measured"].update(seconds=[30.0, 30.0, 30.0], median=30.0), "does not follow"),
    (lambda d: d["rows"][3]["measured"].update(median=1.0), "is not the median"),
    (lambda d: d["rows"][1]["measured"].update(seconds=[9.0], median=9.0), "at least 3"),
    (lambda d: d["rows"].pop(5), "rows must be"),
    (lambda d: d.update(all_met=False), "all_met"),
    (lambda d: d["rows"][5].update(value=-1), "positive integer"),
    (lambda d: d["rows"][4]["baseline"].update(resources=800), "does not follow"),
    (lambda d: d["rows"][4]["measured"].pop("resources"), "resources must be a positive integer"),
    (lambda d: d["rows"][4].update(resource_ratio=1.0), "resource_ratio 1.0 does not follow"),
    (lambda d: d["rows"][4].update(time_ratio=1.0), "time_ratio 1.0 does not follow"),
    (lambda d: d["rows"][4].update(unit="ratio", value=1.3636, target=1.5), "the contract judges it as"),
])
def test_the_checker_rejects_a_misstated_table(damage, problem):
    doc = copy.deepcopy(_sample())
    damage(doc)
    assert any(problem in p for p in results.check(doc)), results.check(doc)
    with pytest.raises(ValueError):
        results.write(doc)


def test_a_missed_target_is_recorded_as_missed():
    doc = _sample()
    rows = doc["rows"]
    rows[4]["measured"] = {"label": "30", "seconds": [20.0, 21.0, 19.0], "median": 20.0, "resources": 1000}
    rows[4]["time_ratio"] = round(20.0 / 11.0, 4)
    rows[4]["value"], rows[4]["met"] = round(20.0 / 11.0 / 2.5, 4), False
    doc["all_met"] = False
    assert results.check(doc) == []
    assert "TARGETS MISSED: growth_30_vs_3_models" in render(doc)


def _growth(measured: float, baseline: float, resources: tuple[int, int]) -> Row:
    return Row("growth_30_vs_3_models", "growth", results.PER_RESOURCE, 0.60,
               Side("30", [measured] * 3, resources=resources[0]), Side("3", [baseline] * 3, resources=resources[1]))


@pytest.mark.parametrize("time_ratio, resource_ratio, met", [
    (1.5, 2.5, True),     # exactly the target: 0.60
    (1.4, 2.5, True),     # 0.56
    (1.6, 2.5, False),    # 0.64: each resource handled more slowly
    (2.0, 4.0, True),     # twice the time for four times the resources: 0.50, however large the time ratio
    (1.5, 2.0, False),    # the same time ratio for fewer added resources: 0.75
])
def test_growth_is_judged_per_resource(time_ratio, resource_ratio, met):
    assert (results.per_resource(time_ratio, resource_ratio) <= 0.60) is met
    row = _growth(10.0 * time_ratio, 10.0, (int(400 * resource_ratio), 400))
    assert row.time_ratio == pytest.approx(time_ratio) and row.resource_ratio == pytest.approx(resource_ratio)
    assert row.value == pytest.approx(time_ratio / resource_ratio) and row.met is met
    doc = results.document([row], {"cpus": 2}, 3)["rows"][0]
    assert (doc["time_ratio"], doc["resource_ratio"], doc["met"]) == (round(time_ratio, 4), round(resource_ratio, 4), met)
    assert doc["measured"]["resources"] == int(400 * resource_ratio) and doc["baseline"]["resources"] == 400


def test_the_table_shows_the_growth_time_ratio_resource_ratio_and_their_quotient():
    doc = _sample()
    doc["rows"][4] = _growth(14.3, 10.0, (1038, 417)).as_dict()
    line = next(line for line in render(doc).splitlines() if "per resource," in line)
    assert "time ratio 1.43 ÷ resource ratio 2.49 (1038 / 417 resources) = 0.57 per resource, target ≤ 0.60: met" \
        in line


def test_the_recorded_benchmark_met_every_target():
    if not results.RESULTS.exists():
        pytest.skip("no bench/results.json on this machine: run `make bench` (the writer is tested above)")
    doc = json.loads(results.RESULTS.read_text())
    if isinstance(doc, dict) and isinstance(doc.get("format"), int) and doc["format"] < results.FORMAT:
        pytest.skip(f"bench/results.json was written by an older benchmark (format {doc['format']}, judged "
                    "differently): run `make bench`")
    assert results.check(doc) == []
    missed = [f"{r['id']}: {r['value']} vs target {r['target']}" for r in doc["rows"] if not r["met"]]
    assert missed == []
