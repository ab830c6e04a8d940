"""Terminal output: progress with elapsed time, colour only where it helps, and paths as messages show them.

Colour is off when the stream is not a terminal or NO_COLOR is set. Progress goes to stderr so
stdout stays parseable.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
import time
from pathlib import Path
from typing import Iterator, TextIO

_CODES = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}


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
