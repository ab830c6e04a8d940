"""`make bench`: one table, every side measured in this run, interleaved, median of BENCH_RUNS (≥ 3).

1. synth of the default app (`main.py synth --no-cache`) against the same command with the eager
   provider import (AEGIS_EAGER_PROVIDER=1: whole package imported, plain Node, one process) ≤ 0.30;
2. the gate on that output (`main.py gate --no-synth --no-cache`, every check and report) against bare
   checkov on a copy it can parse (the same work) ≤ 1.0. Bare checkov on the output as it is is shown
   too: it parses no stack (`terraform.required_version`) and checks nothing, so it only times start-up;
3. `make run` repeated with nothing changed against its first run (empty cache, no output yet) ≤ 0.10,
   and ≤ 2 s;
4. growth: synth and gate (`main.py gate --no-cache`, no output yet) of prod with 30 models against
   prod with 3 (tests/bench/scale.py), judged per resource: the time ratio divided by the ratio of the
   resources in the two outputs ≤ 0.60 (the resources each model adds are not held against it, slower
   handling of each resource is);
5. peak resident memory of all processes at once, over the whole run ≤ 1.5 GB.
Nothing touches the project's own cdktf.out/, reports/ or cache: all of it lives in a temporary folder.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from policies.scanner import OFFLINE_ENV
from tests.bench import results
from tests.bench.results import Row, Side
from tests.bench.rss import PeakRss, largest_child
from tests.bench.scale import write_scaled

ROOT = Path(__file__).resolve().parents[2]
RUNS = max(results.MIN_RUNS, int(os.environ.get("BENCH_RUNS", "3")))
MAKE_RUN_PEAK: list[int] = []
GB = 10 ** 9  # decimal: the stricter reading of "1.5 GB"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,), side: Side | None = None):
    """Run one command; its wall seconds (and CPU seconds of all its processes) go to `side`."""
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env={**os.environ, **OFFLINE_ENV, **(env or {})},
                          capture_output=True, text=True)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    if done.returncode not in ok:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(args)}")
    if side is not None:
        side.seconds.append(elapsed)
        side.cpu.append(cpu)
    return elapsed


def _fresh(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


def _parseable_copy(out: Path, dest: Path) -> int:
    """What bare checkov can read: the stacks without `terraform.required_version`. Returns resources."""
    count = 0
    for path in out.rglob("cdk.tf.json"):
        doc = json.loads(path.read_text())
        doc.get("terraform", {}).pop("required_version", None)
        count += sum(len(v) for v in doc.get("resource", {}).values())
        target = dest / path.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc, indent=2))
    return count


def _resources(out: Path) -> int:
    return sum(len(v) for p in out.rglob("cdk.tf.json") for v in json.loads(p.read_text()).get("resource", {}).values())


def measure(tmp: Path) -> list[Row]:
    py, main = sys.executable, "main.py"
    checkov = str(Path(sys.executable).with_name("checkov"))
    cache = {"AEGIS_CACHE_DIR": str(tmp / "cache")}  # never the project's cache
    out, reports = tmp / "cdktf.out", tmp / "reports"
    synth_cmd = [py, main, "synth", "--no-cache", "--out", str(out)]

    lazy, eager = Side("synth, lazy loading (this project)", []), Side("synth, eager import, one process", [])
    serial = Side("synth, lazy loading, one process", [])
    for _ in range(RUNS):
        _run(synth_cmd, cache, side=lazy)
        _run(synth_cmd, {**cache, "AEGIS_EAGER_PROVIDER": "1"}, side=eager)
        _run(synth_cmd, {**cache, "AEGIS_SYNTH_WORKERS": "1"}, side=serial)
    resources = _resources(out)
    stacks = len(list(out.rglob("cdk.tf.json")))

    parseable = tmp / "parseable"
    _parseable_copy(out, parseable)
    gate = Side("gate: every check, every report", [])
    bare = Side("bare checkov, copy it can parse", [])
    bare_as_is = Side("bare checkov on the output as it is (parses 0 stacks)", [])
    for _ in range(RUNS):
        _run([py, main, "gate", "--no-synth", "--no-cache", "--synth-out", str(out), "--out", str(reports)], cache,
             ok=(0, 1), side=gate)
        _run([checkov, "-d", str(parseable), "--framework", "terraform_json", "--skip-download"], ok=(0, 1),
             side=bare)
        _run([checkov, "-d", str(out), "--framework", "terraform_json", "--skip-download"], ok=(0, 1),
             side=bare_as_is)

    first, again = Side("make run, first (empty cache)", []), Side("make run, nothing changed", [])
    make = shutil.which("make") or "make"
    for i in range(RUNS):
        if i == 0:
            run_peak = PeakRss(rusage=False).start()  # the project's own cold run alone, for the memory note
        run_out, run_reports, run_cache = tmp / f"run{i}.out", tmp / f"run{i}.reports", tmp / f"run{i}.cache"
        _fresh(run_out, run_reports, run_cache)
        args = [make, "--no-print-directory", "run", f"OUT={run_out}", f"REPORTS={run_reports}", f"PY={py}"]
        _run(args, {"AEGIS_CACHE_DIR": str(run_cache)}, ok=(0, 1), side=first)
        if i == 0:
            MAKE_RUN_PEAK.append(run_peak.stop())
        _run(args, {"AEGIS_CACHE_DIR": str(run_cache)}, ok=(0, 1), side=again)

    sizes = {n: write_scaled(n, tmp / f"envs{n}") for n in (3, 30)}
    grow = {n: Side(f"prod with {n} models: synth + gate", []) for n in sizes}
    for _ in range(RUNS):
        for n, envs in sizes.items():
            scaled_out = tmp / f"scaled{n}.out"
            _fresh(scaled_out)
            _run([py, main, "--environments", str(envs), "gate", "--no-cache", "--synth-out", str(scaled_out),
                  "--out", str(tmp / f"scaled{n}.reports")], cache, ok=(0, 1), side=grow[n])
    scaled = {n: _resources(tmp / f"scaled{n}.out") for n in sizes}
    for n, side in grow.items():
        side.resources = scaled[n]
    marginal = (grow[30].median - grow[3].median) / (scaled[30] - scaled[3]) * 1000

    return [
        Row("synth_lazy_vs_eager", f"synth, default app ({stacks} stacks, {resources} resources): lazy / eager",
            "ratio", 0.30, lazy, eager, extra={"one_process": serial},
            note="lazy = what `main.py synth` does: only the provider modules used, in Python and in Node, stacks "
                 "shared among one process per core; eager = the whole provider package imported, one process"),
        Row("gate_vs_checkov", "gate / bare checkov on the same stacks (like for like)", "ratio", 1.0, gate, bare,
            extra={"bare_checkov_as_is": bare_as_is,
                   "ratio_to_bare_as_is": round(gate.median / bare_as_is.median, 3)},
            note="judged against bare checkov on a copy without terraform.required_version, which it can parse "
                 "(the same work); bare checkov on the output as it is fails to parse every stack, checks "
                 "nothing and exits 0, so that ratio only compares start-up"),
        Row("rerun_vs_first_run", "make run, nothing changed / first run", "ratio", 0.10, again, first),
        Row("rerun_seconds", "make run, nothing changed (seconds)", "seconds", 2.0, again),
        Row("growth_30_vs_3_models", f"prod synth + gate, 30 models ({scaled[30]} resources) / 3 models "
            f"({scaled[3]} resources), per resource", results.PER_RESOURCE, 0.60, grow[30], grow[3],
            extra={"ms_per_added_resource": round(marginal, 2)},
            note=f"{marginal:.1f} ms of wall time per added resource; one command (`gate` synthesizes first), cold"),
    ]


def main() -> int:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="aegis-bench-") as tmp, PeakRss() as peak:
        rows = measure(Path(tmp))
    peak_bytes = max(peak.peak, largest_child())
    rows.append(Row("peak_rss", "peak resident memory, all processes of the run at once", "bytes", 1.5 * GB,
                    value_bytes=peak_bytes,
                    note=f"the whole benchmark, baselines included (the eager synth is the largest); a cold `make run` "
                         f"alone: {MAKE_RUN_PEAK[0] / GB:.2f} GB; largest single process: {largest_child() / GB:.2f} GB"
                         + ("" if peak.polled else " (no /proc: single-process peaks only)")))
    machine = {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
               "load_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version(),
               "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
               "platform": platform.platform(terse=True)}
    doc = results.document(rows, machine, RUNS)
    print(render(doc))
    path = results.write(doc)
    print(f"written: {path.relative_to(ROOT)}")
    return 0 if doc["all_met"] else 1


def render(doc: dict) -> str:
    machine = doc["machine"]
    lines = [f"Aegis benchmark: every side measured in this run, interleaved, median of {doc['runs']} runs; "
             f"{machine['cpus']} cores, load {machine['load_before'][0]:.2f} before / {machine['load_after'][0]:.2f} "
             "after (1-minute average)",
             f"{'':<62}{'wall s':>8}{'cpu s':>8}  runs (wall s)"]
    for number, row in enumerate(doc["rows"], start=1):
        verdict = "met" if row["met"] else "MISSED"
        if row["unit"] == "bytes":
            lines.append(f"{number}. {row['label']}: {row['value'] / GB:.2f} GB, target ≤ {row['target'] / GB:.1f} GB: "
                         f"{verdict}")
            lines += [f"     {row['note']}"] if row.get("note") else []
            continue
        lines.append(f"{number}. {row['label']}")
        sides = [row.get("measured"), row.get("baseline")] + [v for v in row.get("extra", {}).values()
                                                              if isinstance(v, dict) and "seconds" in v]
        for side in filter(None, sides):
            cpu = f"{side['cpu_median']:>8.2f}" if "cpu_median" in side else f"{'':>8}"
            runs = ", ".join(f"{s:.2f}" for s in side["seconds"])
            lines.append(f"     {side['label']:<57}{side['median']:>8.2f}{cpu}  {runs}")
        unit = " s" if row["unit"] == "seconds" else ""
        if row["unit"] == results.PER_RESOURCE:
            resources = f"{row['measured']['resources']} / {row['baseline']['resources']} resources"
            lines.append(f"     → time ratio {row['time_ratio']:.2f} ÷ resource ratio {row['resource_ratio']:.2f} "
                         f"({resources}) = {row['value']:.2f} per resource, target ≤ {row['target']:.2f}: {verdict}")
            continue
        lines.append(f"     → {row['unit']} {row['value']:.2f}{unit}, target ≤ {row['target']:.2f}{unit}: {verdict}")
    verdict = "every target met" if doc["all_met"] else "TARGETS MISSED: " + ", ".join(
        r["id"] for r in doc["rows"] if not r["met"])
    lines.append(verdict)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
