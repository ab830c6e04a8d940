"""Two gate runs writing the same reports/ folder at once: each report is replaced whole, by one run or
the other, and neither run fails on the other's temporary file (they used to share `aegis-gate.json.tmp`)."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from modules.atomic import atomic_file, write_text_atomic


def test_two_writers_of_one_report_never_collide(tmp_path):
    target = tmp_path / "reports" / "aegis-gate.json"
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(50):
                write_text_atomic(target, json.dumps({"writer": n, "i": i, "pad": "x" * 20_000}))
        except BaseException as exc:  # noqa: BLE001 - any failure of a writer fails the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert json.loads(target.read_text())["i"] == 49  # whole, from one of the writers' last round
    assert [p.name for p in target.parent.iterdir()] == ["aegis-gate.json"]  # no temporary left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "aegis-gate.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as handle:
        handle.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["aegis-gate.json"]


def test_reports_are_readable_by_others_cache_entries_are_not(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "report.md", "x")
        with atomic_file(tmp_path / "entry", private=True) as handle:
            handle.write(b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "entry").stat().st_mode & 0o777 == 0o600


def test_no_writer_uses_a_fixed_temporary_name():
    root = Path(__file__).resolve().parents[3]
    offenders = [str(p.relative_to(root)) for folder in ("modules", "policies") for p in (root / folder).rglob("*.py")
                 if '.name + ".tmp"' in p.read_text(encoding="utf-8")]
    assert offenders == []
