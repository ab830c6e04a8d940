"""What the policy commands share (policies/cli.py, plan_cli.py, report_cli.py), beside what they share
with main.py (modules/commands.py): the fail-closed wrapper every command runs in (`FailClosedGroup`),
the default reports folder, the checkov prewarm to start while synthesizing, and how a plan gate result
is shown and written."""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from modules.cache import CacheError
from modules.commands import fail
from modules.console import shown_path
from modules.errors import ConfigError

DEFAULT_REPORTS = "reports"
_Command = TypeVar("_Command", bound=Callable[..., Any])


def os_error_line(exc: OSError) -> str:
    """One line for a failed file operation: the file (and the second one of a rename) and the system's
    reason, e.g. `reports/aegis-gate.json: No space left on device`."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    blocker = _file_in_the_way(exc)
    if blocker:
        return f"{shown_path(blocker)}: a file is in the way where a folder is needed"
    files = [shown_path(name) for name in (exc.filename, exc.filename2) if name]
    return f"{' -> '.join(files)}: {reason}" if files else reason


def _file_in_the_way(exc: OSError) -> str | None:
    """For "File exists" / "Not a directory": the nearest part of the path that is a file, not a folder."""
    if not isinstance(exc, (FileExistsError, NotADirectoryError)) or not exc.filename:
        return None
    path = Path(os.fsdecode(exc.filename))
    for part in [path, *path.parents]:
        if part.exists() or part.is_symlink():
            return None if part.is_dir() else str(part)
    return None


def error_line(exc: Exception) -> str:
    """The one line an unexpected exception becomes: its own message for the errors users are meant to
    read, the file and reason for a failed file operation, else its type and the first line of its
    message (a jsii error carries a JavaScript stack after it)."""
    if isinstance(exc, (ConfigError, CacheError)):
        return str(exc)
    if isinstance(exc, OSError):
        return os_error_line(exc)
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def fail_closed(command: _Command) -> _Command:
    """Any unexpected exception (a synth failure, a bug, a read-only folder, a full disk) exits 2 with one
    line, never 1 or 0 and never a traceback. Every command runs inside it (`FailClosedGroup`)."""
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as exc:
            fail(error_line(exc))

    return wrapper  # type: ignore[return-value]


class FailClosedGroup(click.Group):
    """The CLI's command group (main.py): the group's own synth and every command run inside `fail_closed`,
    so every error of every command is exit 2 and one line, in this one place."""

    def invoke(self, ctx: click.Context) -> Any:
        return fail_closed(super().invoke)(ctx)


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
