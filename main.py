"""Aegis command line: synthesize, validate and list environments (and, from `policies`, gate them).

Run with no arguments it synthesizes every environment into $CDKTF_OUTDIR (default `cdktf.out`),
so `cdktf synth` through cdktf.json keeps working.
"""
from __future__ import annotations

from pathlib import Path

import click

from modules import model_cli
from modules.atomic import write_text_atomic
from modules.commands import default_synth_out, environments_dir, fail_config, synth_out_option
from modules.config import CONFIG_DOC, env_files, load_all, load_env
from modules.config import environments_dir as default_environments_dir
from modules.errors import ConfigError, combined
from modules.naming import STACK_ORDER, Naming
from modules.synth_command import synthesize_cached
from policies.commands import FailClosedGroup

ROOT = Path(__file__).resolve().parent


def _load(envs: tuple[str, ...]):
    try:
        return load_all(envs, environments_dir())
    except ConfigError as exc:
        fail_config(exc)


def run_synth(envs: tuple[str, ...], out: str, use_cache: bool = True) -> list[str]:
    """Synthesize, or restore the output from the synth cache when none of its inputs changed
    (modules/synth_command.py); `use_cache=False` always synthesizes (and refreshes the cache entry)."""
    stacks = synthesize_cached(envs, out, use_cache=use_cache)
    for name in stacks:
        click.echo(f"  wrote {out}/stacks/{name}/cdk.tf.json")
    return stacks


@click.group(cls=FailClosedGroup, invoke_without_command=True)
@click.option("--environments", type=click.Path(file_okay=False), default=None,
              help="Folder of environment files (default: $AEGIS_ENVIRONMENTS, else environments/ of this project).")
@click.pass_context
def cli(ctx: click.Context, environments: str | None) -> None:
    """Aegis: secure, scalable AI workloads on AWS as CDKTF code, gated by policy."""
    if ctx.invoked_subcommand is None:
        run_synth((), default_synth_out())


@cli.command()
@click.option("--env", "envs", multiple=True, help="Environment to synthesize (repeatable; default all).")
@synth_out_option("--out", help="Output folder.", refuse_file=False)
@click.option("--no-cache", is_flag=True, help="Synthesize even when the synth cache holds this output.")
def synth(envs: tuple[str, ...], out: str, no_cache: bool) -> None:
    """Synthesize Terraform JSON for the selected environments (skipped when nothing it depends on changed)."""
    run_synth(envs, out, use_cache=not no_cache)


@cli.command()
@click.option("--env", "envs", multiple=True, help="Environment to validate (repeatable; default all).")
@click.option("--write-docs", is_flag=True,
              help=f"Regenerate {CONFIG_DOC} (every key, type, default, allowed values and rule) from the models.")
def validate(envs: tuple[str, ...], write_docs: bool) -> None:
    """Validate environment files only (no synth); every problem of every file is listed, grouped per file."""
    if write_docs:
        from modules.config_docs import render_config_docs

        write_text_atomic(ROOT / CONFIG_DOC, render_config_docs())
        click.echo(f"wrote {CONFIG_DOC}")
        return
    directory = environments_dir()
    try:
        names = list(envs) or list(env_files(directory or default_environments_dir()))
    except ConfigError as exc:
        fail_config(exc)
    errors = []
    for name in dict.fromkeys(names):
        try:
            click.echo(f"  {load_env(name, directory).name}: ok")
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        fail_config(combined(errors))


@cli.command()
def envs() -> None:
    """List environments with region, account and stacks."""
    for config in _load(()):
        naming = Naming.of(config)
        stacks = ", ".join(naming.stack(p) for p in STACK_ORDER)
        click.echo(f"{config.name:<10} {config.tier:<8} {config.region:<15} {config.account_id}  {stacks}")


def _register_policy_commands() -> None:
    """The command groups of `policies`, each a module with `register(cli)`."""
    from policies import cli as gate_commands
    from policies import evidence_cli, plan_cli, preflight_cli, report_cli

    for commands in (gate_commands, plan_cli, report_cli, preflight_cli, evidence_cli):
        commands.register(cli)
    model_cli.register(cli)


_register_policy_commands()

if __name__ == "__main__":
    cli()
