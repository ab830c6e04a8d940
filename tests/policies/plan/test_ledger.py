"""The apply ledger on its own: append-only, refuses a plan twice even between check and write, fails closed."""
from __future__ import annotations

import pytest

from policies.plan import ledger


def entry(sha: str, stack: str = "dev-data") -> dict:
    return {"plan_sha256": sha, "stack": stack, "env": "dev", "apply_started_at": "2025-06-01T12:00:00Z"}


def test_entries_are_appended_and_a_plan_is_recorded_once(tmp_path):
    path = tmp_path / "state" / "applied-plans.jsonl"
    assert ledger.read(path) == {}  # no file yet: nothing applied
    ledger.record(path, entry("a" * 64))
    first = path.read_bytes()
    ledger.record(path, entry("b" * 64, "dev-access"))
    assert path.read_bytes().startswith(first) and set(ledger.read(path)) == {"a" * 64, "b" * 64}
    # a second apply that passed its check before the first one wrote: the write refuses it
    with pytest.raises(ledger.LedgerError, match="already handed to terraform apply"):
        ledger.record(path, entry("a" * 64, "dev-access"))
    assert ledger.consumed(path, "a" * 64)["stack"] == "dev-data"


def test_a_last_line_without_newline_is_kept_whole(tmp_path):
    path = tmp_path / "applied-plans.jsonl"
    path.write_text('{"plan_sha256": "' + "a" * 64 + '"}')
    ledger.record(path, entry("b" * 64))
    assert set(ledger.read(path)) == {"a" * 64, "b" * 64}


@pytest.mark.parametrize("text", ["not json\n", "[1]\n", '{"stack": "dev-data"}\n', '{"plan_sha256": 3}\n'])
def test_a_damaged_ledger_is_an_error_naming_the_line(tmp_path, text):
    path = tmp_path / "applied-plans.jsonl"
    path.write_text('{"plan_sha256": "' + "a" * 64 + '"}\n\n' + text)
    with pytest.raises(ledger.LedgerError, match=r"applied-plans.jsonl:3: not a ledger entry"):
        ledger.read(path)
    with pytest.raises(ledger.LedgerError):
        ledger.record(path, entry("b" * 64))


def test_the_ledger_lives_beside_the_output_folder_unless_relocated(tmp_path, monkeypatch):
    monkeypatch.delenv(ledger.LEDGER_ENV, raising=False)
    assert ledger.ledger_path(tmp_path / "cdktf.out") == tmp_path / ".aegis" / "state" / "applied-plans.jsonl"
    monkeypatch.setenv(ledger.LEDGER_ENV, str(tmp_path / "volume" / "ledger.jsonl"))
    assert ledger.ledger_path(tmp_path / "cdktf.out") == tmp_path / "volume" / "ledger.jsonl"


def test_a_ledger_entry_is_on_disk_before_apply_goes_on(tmp_path, monkeypatch):
    """An entry only in the page cache is lost in a crash or power cut, and the plan could be applied
    again: the ledger fsyncs the new file and then its folder (the rename). Other files do not pay for it."""
    import os

    from modules.atomic import write_text_atomic

    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "state" / "applied-plans.jsonl"
    ledger.record(path, entry("a" * 64))
    assert synced == [path.stat().st_ino, path.parent.stat().st_ino]
    synced.clear()
    write_text_atomic(tmp_path / "report.json", "{}")
    assert synced == []
