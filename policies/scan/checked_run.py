"""One checkov runner run that fails closed: a crash, or a graph-check job that raised (which checkov itself
drops without a word, policies/scan/patches.py `take_job_failures`), is a ScanError naming what it judged."""
from __future__ import annotations

from typing import Any, Callable

from policies.scan import patches
from policies.scan.result import ScanError


def checked_run(run: Callable[[], Any], what: str, crashed: str = "checkov crashed") -> Any:
    """`run()` (a checkov runner's run); `what` names the judged input in the error (never a machine path)."""
    patches.take_job_failures()  # a run that crashed before may have left some
    try:
        report = run()
    except Exception as exc:
        raise ScanError(f"{crashed}: {type(exc).__name__}: {exc}") from exc
    failed = patches.take_job_failures()
    if failed:  # checkov drops what its jobs raised on: results would be missing, never wrong
        shown = "; ".join(failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
        raise ScanError(f"checkov's graph checks could not judge {what}: {shown}")
    return report
