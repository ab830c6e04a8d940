"""Peak resident memory of everything this process starts: the sum over its process tree, sampled.

`resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` only gives the largest single child, while a run is
several processes at once (Python, the jsii Node.js kernel, synth and checkov workers). So /proc is
polled for this process's descendants and their RSS summed; the largest sum seen is the peak. Linux
only; elsewhere the peak falls back to ru_maxrss.
"""
from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_rss(root: int) -> int:
    """Bytes resident in `root`'s descendants (not `root` itself: the benchmark driver is not measured)."""
    children = _children_map()
    total, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


class PeakRss:
    """Samples the tree every `interval` seconds between start and stop (or as a context manager);
    `.peak` in bytes afterwards. `rusage=True` also counts the largest finished child's own peak,
    which a sample may miss (but which covers every child since this process started)."""

    def __init__(self, interval: float = 0.05, rusage: bool = True) -> None:
        self.interval = interval
        self.rusage = rusage
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.polled = Path("/proc/self/stat").exists()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, tree_rss(me))

    def start(self) -> "PeakRss":
        if self.polled:
            self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        if self.polled:
            self._thread.join()
        if self.rusage or not self.polled:
            self.peak = max(self.peak, largest_child())
        return self.peak

    def __enter__(self) -> "PeakRss":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def largest_child() -> int:
    """The largest single finished child's peak RSS, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
