"""Preflight on the terminal: a spinner naming the call in flight (only on a terminal: logs get no control
characters), then a table of the checks, the fixes, and the config lines to paste.

Values from the account go through `printable` (modules/console.py). Credentials never reach this module."""
from __future__ import annotations

import itertools
import sys
import threading
import time
from typing import TextIO

from modules.console import colour_enabled, paint, printable
from policies.preflight.model import STATUSES, Outcome

STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "red"}


class Spinner:
    """`with Spinner() as spin: spin.show("Reading GuardDuty")`: a spinner with the current step and elapsed
    seconds on stderr when it is a terminal; silent otherwise."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.live = colour_enabled(self.stream)
        self.label = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True) if self.live else None
        self.started = time.monotonic()

    def show(self, label: str) -> None:
        self.label = label

    def _spin(self) -> None:
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            if self._stop.wait(0.1):
                return
            self.stream.write(f"\r\033[K{frame} preflight: {self.label} {time.monotonic() - self.started:5.1f}s")
            self.stream.flush()

    def __enter__(self) -> "Spinner":
        if self._thread:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
            self.stream.write("\r\033[K")
            self.stream.flush()


def render(outcome: Outcome, stream: TextIO | None = None) -> str:
    stream = stream or sys.stdout
    counts = outcome.counts()
    width = max((len(c.id) for c in outcome.checks), default=10)
    lines = [f"{'status':<6}  {'check':<{width}}  found"]
    for check in outcome.checks:
        status = paint(f"{check.status:<6}", STYLE[check.status], stream)
        lines.append(f"{status}  {printable(check.id):<{width}}  {printable(check.found)}")
        if check.fix and check.status != "pass":
            lines.append(f"{'':<6}  {'':<{width}}  fix: {printable(check.fix)}")
    verdict = paint(outcome.verdict, {"READY": "green", "BLOCKED": "red", "NOT RUN": "red"}[outcome.verdict], stream)
    lines += ["", f"Aegis preflight: {verdict}  {outcome.env} (account {outcome.account_id}, {outcome.region}) as "
                  f"{printable(outcome.principal)}",
              "  " + ", ".join(f"{counts[s]} {s}" for s in STATUSES)]
    if outcome.stopped:
        lines.append(f"  stopped: {printable(outcome.stopped)}")
    paste = outcome.paste_yaml()
    if paste:
        lines += ["", f"Paste into environments/{outcome.env}.yaml:", ""]
        lines += ["  " + printable(line) for line in paste.rstrip().splitlines()]
    return "\n".join(lines) + "\n"
