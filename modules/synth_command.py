"""Synthesis as the commands run it: through the synth cache, and only where the output is stale.

`python main.py synth` always makes the output (restored from the cache when none of its inputs
changed). gate, plan and report first ask the synth record whether the output they are about to use
is fresh (modules/synth_record.py) and synthesize only when it is not, or refuse with --no-synth.
Both go through `synthesize_cached`, the one place that looks up the cache, checks Node.js,
synthesizes and stores the result. Errors exit 2 with one line (modules/commands.py).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Callable

import click

from modules import node, synth, synth_cache
from modules.commands import environments_dir, fail, fail_config
from modules.config import EnvConfig, load_all
from modules.console import step
from modules.errors import ConfigError
from modules.synth_record import recorded_environments, why_stale


def synthesize_cached(envs: list[str] | tuple[str, ...], out: str | Path, *, configs: list[EnvConfig] | None = None,
                      use_cache: bool = True, while_synthesizing: Callable[[], None] | None = None) -> list[str]:
    """Make `out` the synth output of `envs` (every environment when none) and return its stacks:
    restored from the synth cache when none of its inputs changed, else synthesized and cached.
    `use_cache=False` synthesizes anyway (and refreshes the cache entry).

    `configs` are the loaded `envs` when the caller has them already (else they are loaded only on a
    miss). `while_synthesizing` runs just before synth starts, never on a hit: the policy commands
    start loading checkov there, on another core (policies/commands.py)."""
    out = Path(out)
    directory = environments_dir()
    try:
        key = synth_cache.synth_key(envs, directory)
        found = synth_cache.restore(key, out) if use_cache else None
        if found and found.stacks is not None:
            click.echo(f"synth: {found.note}", err=True)
            return found.stacks
        if configs is None:
            configs = load_all(envs, directory)
    except ConfigError as exc:
        fail_config(exc)
    problem = node.node_problem()
    if problem:
        fail(problem)
    if while_synthesizing:
        while_synthesizing()
    with step(f"Synthesizing {len(configs)} environment(s) into {out.name}/"):
        stacks = synth.synthesize(configs, out)
    synth_cache.remember(key, envs, directory, out)
    if found:
        click.echo(f"synth: {found.note}", err=True)
    return stacks


def ensure_synthesized(configs: list[EnvConfig], out: Path, *, no_synth: bool = False, use_cache: bool = True,
                       keep_others: bool = False, note: str = "",
                       while_synthesizing: Callable[[], None] | None = None) -> None:
    """Make sure `out` is a fresh synth output of `configs`: synthesize when it is missing or stale (saying
    why, then `note`), or with `no_synth` refuse (exit 2). `keep_others` synthesizes the other environments
    the output holds too, those that still load, so that making one fresh does not drop the rest."""
    stale = why_stale(out, configs)
    if stale is None:
        return
    if no_synth:
        fail(f"{stale}: run `python main.py synth` first, or drop --no-synth")
    click.echo(f"{stale}: synthesizing{note}", err=True)
    if keep_others:
        configs = sorted([*configs, *_still_loading(recorded_environments(out), configs)], key=lambda c: c.name)
    synthesize_cached([c.name for c in configs], out, configs=configs, use_cache=use_cache,
                      while_synthesizing=while_synthesizing)


def _still_loading(names: list[str], loaded: list[EnvConfig]) -> list[EnvConfig]:
    have = {c.name for c in loaded}
    others = []
    for name in names:
        if name not in have:
            with contextlib.suppress(ConfigError):  # an environment file removed or broken since: its stacks go
                others += load_all([name], environments_dir())
    return others
