"""`python main.py preflight` (registered by main.py through `register`): read the real account before the
first apply (policies/preflight/). Exit 0 nothing blocks, 1 something will fail or conflict, 2 preflight
could not run."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from modules.commands import default_synth_out, environments_dir, fail
from modules.errors import ConfigError
from policies.commands import DEFAULT_REPORTS


def aws_for(region: str):
    """The AWS clients preflight starts from: boto3's default credential chain, the environment's region."""
    import boto3

    from policies.preflight.aws import Aws

    return Aws(boto3.Session(region_name=region), region)


def _stacks_of(env: str, out: Path) -> dict[str, dict]:
    from modules.synth_output import load_stack, manifest_stacks, stack_parts

    return {name: load_stack(out, name, path) for name, path in manifest_stacks(out).items()
            if (stack_parts(name) or ("",))[0] == env}


def register(cli: click.Group) -> None:
    from policies.preflight.report import FORMATS

    @cli.command()
    @click.option("--env", "env", required=True, help="Environment whose account to read.")
    @click.option("--out", "reports", default=DEFAULT_REPORTS, show_default=True, type=click.Path(file_okay=False),
                  help="Folder for aegis-preflight.json (and the other formats).")
    @click.option("--format", "fmts", multiple=True, type=click.Choice(FORMATS),
                  help="Report format (repeatable; default all). JSON is always written.")
    @click.option("--no-assume", is_flag=True,
                  help="Read as the caller instead of assuming the environment's deployer_role_arn.")
    @click.option("--synth-out", default=default_synth_out, show_default="cdktf.out", type=click.Path(file_okay=False),
                  help="Synth output to read the stacks from (synthesized when missing or stale).")
    def preflight(env, reports, fmts, no_assume, synth_out):
        """Read the real account before the first apply: identity, Organizations, existing singletons, quotas.

        Read-only AWS calls with the credentials terraform uses, as the deployer role. Exit 0 nothing blocks,
        1 something will fail or conflict, 2 preflight could not run.
        """
        from modules.config import load_all
        from modules.synth_command import ensure_synthesized
        from policies.preflight.aws import PreflightError
        from policies.preflight.report import write_reports
        from policies.preflight.runner import run
        from policies.preflight.terminal import Spinner, render

        try:
            (config,) = load_all([env], environments_dir())
        except ConfigError as exc:
            fail(str(exc))
        out = Path(synth_out)
        ensure_synthesized([config], out, keep_others=True)
        stacks = _stacks_of(config.name, out)
        try:
            with Spinner() as spinner:
                outcome = run(config, stacks, aws_for(config.region), assume=not no_assume, progress=spinner.show)
        except PreflightError as exc:
            fail(f"preflight could not run: {exc}")
        click.echo(render(outcome, sys.stdout), nl=False)
        written = write_reports(outcome, Path(reports), list(fmts) or list(FORMATS))
        click.echo(f"reports in {reports}/: " + ", ".join(p.name for p in written))
        sys.exit(outcome.exit_code)
