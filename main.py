"""Aegis command line: synthesize, validate and list environments (and, from `policies`, gate them).

Run with no arguments it synthesizes every environment into $CDKTF_OUTDIR (default `cdktf.out`),
so `cdktf synth` through cdktf.json keeps working.
"""
from __future__ import annotations

import click

from modules import model_cli
from modules.commands import default_synth_out, environments_dir, fail
from modules.config import load_all
from modules.errors import ConfigError
from modules.naming import STACK_ORDER, Naming
from modules.synth_command import synthesize_cached
from policies.commands import FailClosedGroup


def _load(envs: tuple[str, ...]):
    try:
        return load_all(envs, environments_dir())
    except ConfigError as exc:
        fail(str(exc))


def run_synth(envs: tuple[str, ...], out: str, use_cache: bool = True) -> list[str]:
    """Synthesize, or restore the output from the synth cache when none of its inputs changed
    (modules/synth_command.py); `use_cache=False` always synthesizes (and refreshes the cache entry)."""
    stacks = synthesize_cached(envs, out, use_cache=use_cache)
    for name in stacks:
        click.echo(f"  wrote {out}/stacks/{name}/cdk.tf.json")
    return stacks


@click.group(cls=FailClosedGroup, invoke_without_command=True)
@click.option("--environments", type=click.Path(file_okay=False), default=None,
              help="Folder of environment files (default: environments/ of this project).")
@click.pass_context
def cli(ctx: click.Context, environments: str | None) -> None:
    """Aegis: secure, scalable AI workloads on AWS as CDKTF code, gated by policy."""
    if ctx.invoked_subcommand is None:
        run_synth((), default_synth_out())


@cli.command()
@click.option("--env", "envs", multiple=True, help="Environment to synthesize (repeatable; default all).")
@click.option("--out", default=default_synth_out, show_default="cdktf.out",
              help="Output folder.")
@click.option("--no-cache", is_flag=True, help="Synthesize even when the synth cache holds this output.")
def synth(envs: tuple[str, ...], out: str, no_cache: bool) -> None:
    """Synthesize Terraform JSON for the selected environments (skipped when nothing it depends on changed)."""
    run_synth(envs, out, use_cache=not no_cache)


@cli.command()
@click.option("--env", "envs", multiple=True, help="Environment to validate (repeatable; default all).")
def validate(envs: tuple[str, ...]) -> None:
    """Validate environment files only (no synth)."""
    for config in _load(envs):
        click.echo(f"  {config.name}: ok")


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
    from policies import plan_cli, report_cli

    for commands in (gate_commands, plan_cli, report_cli):
        commands.register(cli)
    model_cli.register(cli)


_register_policy_commands()

if __name__ == "__main__":
    cli()
