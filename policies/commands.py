"""What the policy commands share (policies/cli.py, plan_cli.py, report_cli.py), beside what they share
with main.py (modules/commands.py): the fail-closed wrapper, the default reports folder, the checkov
prewarm to start while synthesizing, and how a plan gate result is shown and written."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from modules.commands import fail
from modules.errors import ConfigError

DEFAULT_REPORTS = "reports"


def fail_closed(command):
    """Any unexpected exception (a synth failure, a bug, a full disk) exits 2, never 1 or 0."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except ConfigError as exc:
            fail(str(exc))
        except Exception as exc:
            fail(f"{type(exc).__name__}: {exc}")

    return wrapper


def prewarm_checkov() -> None:
    """Start loading checkov and the Aegis checks for the gate's scan in another process (policies/scanner.py):
    passed as `while_synthesizing` (modules/synth_command.py), it loads on another core while synth runs."""
    from policies import scanner
    from policies.gate import CHECKS_DIR

    scanner.prewarm(CHECKS_DIR)


def emit_plan_result(result, reports: Path, formats: list[str]) -> None:
    """Print the plan gate's summary and write its reports (aegis-plan.*)."""
    from policies.plan.report import render_terminal, write_reports

    click.echo(render_terminal(result, sys.stdout), nl=False)
    if formats:
        written = write_reports(result, reports, formats)
        click.echo(f"reports in {reports}/: " + ", ".join(p.name for p in written))
