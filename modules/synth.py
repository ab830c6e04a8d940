"""Synthesize environments into a cdktf-compatible output folder, atomically, on every core.

Configs are all validated before anything is written. The app is synthesized into a temporary
folder beside the target and swapped in only when complete, so a failure never leaves a
half-written output folder and never destroys the previous one.

Stacks never reference each other (names by convention, modules/naming.py), so they synthesize
byte for byte the same in any App. With more than one worker the stacks are shared out among
processes (this one and `python -m modules.synth_worker` children, each with its own jsii kernel)
and their outputs merged; only the manifest's `dependencies` (the apply chain) is written here.
tests/modules/test_parallel_synth.py compares the result with the one-process synth.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from modules.config import EnvConfig
from modules.naming import STACK_ORDER
from modules.synth_output import MANIFEST, manifest_stacks, staging_folder, swap_in
from modules.synth_record import write_record

_ROOT = Path(__file__).resolve().parent.parent

# Rough resource counts of each stack (and per model), only to share stacks out evenly among
# workers; the output does not depend on them.
_WEIGHT = {"bootstrap": 30, "data": 100, "platform": 60, "access": 65, "governance": 80}
_WEIGHT_PER_MODEL = {"platform": 20, "access": 5}
# A worker costs a Python process and a jsii kernel (~2 s of CPU): worth it from about this much work.
_MIN_WEIGHT_PER_WORKER = 150


class SynthError(Exception):
    pass


Unit = tuple[str, int]  # (environment name, index in STACK_ORDER / modules.app.STACK_CLASSES)


def synthesize(configs: list[EnvConfig], out: Path, *, workers: int | None = None) -> list[str]:
    """Write `out/manifest.json` and `out/stacks/<stack>/cdk.tf.json`; return the stack names.

    `workers` processes share the stacks (default: `synth_workers`); 1 synthesizes in this process only.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_folder(out, "synth")
    try:
        groups = plan_groups(configs, synth_workers(configs) if workers is None else workers)
        if len(groups) <= 1:
            from modules.app import build_app  # imports cdktf and jsii: only when synthesizing

            build_app(configs, str(staging)).synth()
        else:
            _synthesize_parallel(configs, staging, groups)
        stacks = _check_output(staging)
        write_record(staging, configs)
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stacks


def _weight(config: EnvConfig, index: int) -> int:
    pillar = STACK_ORDER[index]
    return _WEIGHT.get(pillar, 80) + _WEIGHT_PER_MODEL.get(pillar, 0) * len(config.platform.models)


def synth_workers(configs: list[EnvConfig]) -> int:
    """Processes worth starting: one per core, fewer for little work. AEGIS_SYNTH_WORKERS overrides
    (1 = this process only). The eager-import baseline always runs in one process."""
    from modules import aws

    configured = int(os.environ.get("AEGIS_SYNTH_WORKERS", "0") or 0)
    if aws.eager():
        return 1
    if configured:
        return max(1, configured)
    total = sum(_weight(c, i) for c in configs for i in range(len(STACK_ORDER)))
    return max(1, min(os.cpu_count() or 1, total // _MIN_WEIGHT_PER_WORKER))


def plan_groups(configs: list[EnvConfig], workers: int) -> list[list[Unit]]:
    """Stacks shared out among `workers` groups, heaviest first onto the lightest group (deterministic).

    A pillar's stacks of every environment stay together while they fit in one group's share: a
    worker then imports the provider modules of fewer pillars."""
    units = [((c.name, i), _weight(c, i)) for c in configs for i in range(len(STACK_ORDER))]
    count = max(1, min(workers, len(units)))
    share = sum(w for _, w in units) / count
    items: list[tuple[int, list[Unit]]] = []
    for index in range(len(STACK_ORDER)):
        pillar = [(unit, w) for unit, w in units if unit[1] == index]
        if sum(w for _, w in pillar) <= share:
            items.append((sum(w for _, w in pillar), [unit for unit, _ in pillar]))
        else:
            items += [(w, [unit]) for unit, w in pillar]
    groups: list[tuple[int, int, list[Unit]]] = [(0, g, []) for g in range(count)]
    for weight, members in sorted(items, key=lambda item: (-item[0], item[1])):
        total, slot, current = min(groups)
        groups[slot] = (total + weight, slot, current + members)
    return [sorted(members) for _, _, members in groups if members]


def _synthesize_parallel(configs: list[EnvConfig], staging: Path, groups: list[list[Unit]]) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    workers: list[tuple[subprocess.Popen, Path, Path]] = []
    try:
        for index, group in enumerate(groups[1:], start=1):
            part, log = staging / f".part-{index}", staging / f".part-{index}.log"
            names = {name for name, _ in group}
            with open(log, "wb") as sink:
                proc = subprocess.Popen([sys.executable, "-m", "modules.synth_worker", str(part)], cwd=_ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=sink, stderr=sink)
            workers.append((proc, part, log))
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps(([c for c in configs if c.name in names], group)))
            proc.stdin.close()
        from modules.app import build_app  # this process builds the first group meanwhile

        build_app(configs, str(staging / ".part-0"), set(groups[0])).synth()
    except BaseException:
        for proc, _, _ in workers:
            proc.kill()
            proc.wait()
        raise
    failures = []
    for proc, _, log in workers:
        if proc.wait() != 0:
            lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            failures.append(lines[-1] if lines else f"exit code {proc.returncode}")
    if failures:
        raise SynthError("a synth worker failed: " + "; ".join(failures))
    _merge_parts(staging, [staging / f".part-{i}" for i in range(len(groups))], groups)


def _merge_parts(staging: Path, parts: list[Path], groups: list[list[Unit]]) -> None:
    stacks: dict[str, dict] = {}
    versions = set()
    (staging / "stacks").mkdir()
    for part in parts:
        manifest = json.loads((part / MANIFEST).read_text(encoding="utf-8"))
        versions.add(manifest["version"])
        for name, entry in manifest["stacks"].items():
            stacks[name] = entry
            (part / "stacks" / name).rename(staging / "stacks" / name)
        leftovers = sorted(p.name for p in part.iterdir() if p.name not in (MANIFEST, "stacks"))
        leftovers += sorted(p.name for p in (part / "stacks").iterdir())
        if leftovers:
            raise SynthError(f"unexpected synth output not merged: {', '.join(leftovers)}")
        shutil.rmtree(part)
    for log in staging.glob(".part-*.log"):
        log.unlink()
    if len(versions) != 1:
        raise SynthError(f"synth workers disagree on the manifest version: {sorted(versions)}")
    for env, index in (unit for group in groups for unit in group):
        # What `stack.add_dependency(previous)` writes in the one-App synth (modules/app.py).
        stacks[f"{env}-{STACK_ORDER[index]}"]["dependencies"] = [f"{env}-{STACK_ORDER[index - 1]}"] if index else []
    (staging / MANIFEST).write_text(stable_stringify({"stacks": stacks, "version": versions.pop()}), encoding="utf-8")


def stable_stringify(value, indent: str = "") -> str:
    """JSON as cdktf writes its manifest (npm `json-stable-stringify`, space 2): sorted keys, an empty
    list or object still spans two lines, no final newline."""
    inner = indent + "  "
    if isinstance(value, dict):
        items = [f"\n{inner}{json.dumps(key, ensure_ascii=False)}: {stable_stringify(value[key], inner)}"
                 for key in sorted(value)]
        return "{" + ",".join(items) + "\n" + indent + "}"
    if isinstance(value, list):
        return "[" + ",".join(f"\n{inner}{stable_stringify(item, inner)}" for item in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def _check_output(folder: Path) -> list[str]:
    stacks = manifest_stacks(folder)
    for name in sorted(stacks):
        text = stacks[name].read_text(encoding="utf-8")
        if str(folder) in text:
            raise SynthError(f"stack {name}: synthesized JSON contains a machine path")
    return sorted(stacks)
