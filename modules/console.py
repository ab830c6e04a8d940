"""Terminal output: progress with elapsed time, colour only where it helps, and paths as messages show them.

Colour is off when the stream is not a terminal or NO_COLOR is set. Progress goes to stderr so
stdout stays parseable. Values from the judged code (names, addresses, file names, messages) go
through `printable` on their way to a terminal or a CI log.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(value: object) -> str:
    """`value` as inert text for a terminal or a CI log: every C0 and C1 control character and DEL written
    as an escape (`\\n`, `\\x1b`, `\\x9b`). A value from the judged code then cannot move the cursor,
    recolour or clear the screen, or start a line of its own (in GitHub Actions a line starting with
    `::` is a workflow command)."""
    return _CONTROL.sub(lambda m: _NAMED.get(m.group()) or f"\\x{ord(m.group()):02x}", str(value))


def clip(text: str, limit: int) -> str:
    """`text` in at most `limit` characters; a cut one ends in "…", so it never reads as the whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def colour_enabled(stream: TextIO) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def paint(text: str, style: str, stream: TextIO | None = None) -> str:
    # Streams default at call time, not import time, so redirection (click's CliRunner, tests) is seen.
    if not colour_enabled(stream or sys.stdout):
        return text
    return f"\033[{_CODES[style]}m{text}\033[0m"


def shown_path(path: str | bytes | os.PathLike[str]) -> str:
    """A path as a message shows it: relative to the working directory when inside it, else as given."""
    text = os.fsdecode(path)
    try:
        return Path(text).absolute().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return text


@contextlib.contextmanager
def step(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """Show `label` with a spinner and elapsed seconds while the block runs (plain line when not a TTY)."""
    stream = stream or sys.stderr
    start = time.monotonic()
    live = colour_enabled(stream)
    stop = threading.Event()

    def spin() -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            if stop.wait(0.1):
                return
            stream.write(f"\r{frame} {label} {time.monotonic() - start:5.1f}s")
            stream.flush()

    thread = threading.Thread(target=spin, daemon=True) if live else None
    if thread:
        thread.start()
    try:
        yield
    except BaseException:
        stop.set()
        if thread:
            thread.join()
            stream.write("\r\033[K")
        raise
    stop.set()
    if thread:
        thread.join()
        stream.write("\r\033[K")
    stream.write(f"{label} done ({time.monotonic() - start:.1f}s)\n")
    stream.flush()
