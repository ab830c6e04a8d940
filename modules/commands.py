"""What the command modules share (main.py, policies/cli.py, policies/plan_cli.py,
policies/report_cli.py): the error exit, the root `--environments` option and where synth output goes."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from modules.console import paint, printable
from modules.errors import ConfigError, grouped_lines

EXIT_ERROR = 2  # could not do the job: bad input, a failed step, anything not judged
DEFAULT_SYNTH_OUT = "cdktf.out"
SYNTH_OUT_ENV_VAR = "CDKTF_OUTDIR"


def fail(message: str, *details: str) -> NoReturn:
    """`error: <message>` on stderr (red on a terminal), each detail on an indented line of its own, then
    exit 2. Control characters are escaped (modules/console.py `printable`): messages carry values from
    the judged code, and a newline in one must not start a line of its own."""
    click.echo(paint(f"error: {printable(message)}", "red", sys.stderr), err=True)
    for detail in details:
        click.echo(paint(f"  {printable(detail)}", "red", sys.stderr), err=True)
    sys.exit(EXIT_ERROR)


def fail_config(error: ConfigError) -> NoReturn:
    """`fail` with every problem of `error`: one line for one problem, else a summary and one line per problem,
    grouped per file, each naming file, line and key."""
    if len(error.problems) == 1:
        fail(str(error))
    fail(*grouped_lines(error)[:1], *grouped_lines(error)[1])


def environments_dir() -> Path | None:
    """The folder of environment files given to the root command (`--environments`), if any."""
    directory = click.get_current_context().find_root().params.get("environments")
    return Path(directory) if directory else None


def synth_out_option(*names: str, help: str, refuse_file: bool = True):
    """The synth output folder option: `cdktf.out`, or $CDKTF_OUTDIR as `cdktf synth` sets it. Declared as
    click's envvar (not a callable default), so `--help` shows `[env var: CDKTF_OUTDIR; default: cdktf.out]`.
    `refuse_file=False` leaves a file in its place to the command's own one-line error."""
    return click.option(*names, default=DEFAULT_SYNTH_OUT, envvar=SYNTH_OUT_ENV_VAR, show_default=True,
                        show_envvar=True, type=click.Path(file_okay=False) if refuse_file else None, help=help)


def default_synth_out() -> str:
    """The synth output folder when no option names one: $CDKTF_OUTDIR, as `cdktf synth` sets it."""
    return os.environ.get(SYNTH_OUT_ENV_VAR) or DEFAULT_SYNTH_OUT
