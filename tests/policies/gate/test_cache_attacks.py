"""Attacks on the caches (modules/cache.py, policies/gate_cache.py, policies/run_memo.py,
modules/synth_cache.py): a forged or replayed entry, or a cache folder others can write, never changes
a verdict; `--no-cache` replaces a poisoned entry. Each stack here fails its public-access-block checks,
so the right verdict is always a FAIL (exit 1) naming them."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from main import cli
from modules import cache, synth_cache
from modules.config import load_all
from modules.synth_record import config_digest
from policies.catalog import CATALOG_FILE
from policies.gate import CHECKS_DIR, run_gate
from policies.gate_cache import GateCache
from tests.policies.gate.conftest import bucket, stack_doc, write_out
from tests.synthesized import record_stacks_as_synthesized

TODAY = dt.date(2026, 6, 1)
ROOT = Path(__file__).resolve().parents[3]
PAB_CHECKS = {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"}  # the four public-access-block settings


def _pab(value: bool) -> dict:
    return {"bucket": "${aws_s3_bucket.b1.id}", "block_public_acls": value, "block_public_policy": value,
            "ignore_public_acls": value, "restrict_public_buckets": value}


def _doc(value: bool) -> dict:
    return stack_doc({"aws_s3_bucket": {"b1": bucket("aegis-dev-b1")},
                      "aws_s3_bucket_public_access_block": {"pab": _pab(value)}})


@pytest.fixture
def open_bucket(tmp_path) -> Path:
    """One dev data stack whose bucket has every public-access-block setting off."""
    return write_out(tmp_path, {"dev-data": _doc(False)})


def _stack(out: Path) -> Path:
    return out / "stacks" / "dev-data" / "cdk.tf.json"


def _failed_pab(result) -> set[str]:
    return {f.check_id for f in result.findings if f.status == "failed"} & PAB_CHECKS


def _stack_key(out: Path, exceptions: Path) -> str:
    store = GateCache(CHECKS_DIR, CATALOG_FILE, exceptions)
    return store.stack_key(_stack(out).read_bytes(), config_digest(load_all(["dev"])[0]))


def _forge(path: Path, key: str, body: bytes) -> None:
    """An entry as someone without the cache's key can make it: the header's checksum recomputed (a plain
    SHA-256 of the body, the way format 1 checked it; format 2 wants an HMAC only the key gives)."""
    digest = hashlib.sha256(body).hexdigest()
    header = {"format": 1, "key": key, "length": len(body), "sha256": digest}
    if path.exists():
        old = json.loads(path.read_bytes().partition(b"\n")[0])
        header = {**old, "length": len(body), **{k: digest for k in ("sha256", "mac") if k in old}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json.dumps(header, sort_keys=True).encode() + b"\n" + body)


def _gate_args(out: Path, reports: Path, exceptions: Path, *extra: str) -> list[str]:
    return ["gate", "--no-synth", "--env", "dev", "--synth-out", str(out), "--out", str(reports), "--format", "json",
            "--exceptions", str(exceptions), *extra]


class _Payload:
    """Unpickling this runs code: it leaves a marker file and hands back a PASS of "0 stacks"."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        code = (f"(__import__('pathlib').Path({str(self.marker)!r}).write_text('ran'), "
                "(__import__('policies.gate_result', fromlist=['GateResult']).GateResult(exit_code=0), {}))[1]")
        return eval, (code, {})


def test_attack_pickled_run_cache_runs_no_code_and_prints_no_pass(open_bucket, private_cache, tmp_path,
                                                                  no_exceptions):
    from policies.cli import _run_memo

    configs = load_all(["dev"])
    memo = _run_memo(open_bucket, configs, None, no_exceptions, dt.date.today(), ["json"])
    marker = tmp_path / "pwned"
    body = pickle.dumps(_Payload(marker))
    for path in {memo._path(), private_cache / "gate" / f"run-{memo.key}.pickle"}:  # where any version looks
        _forge(path, memo.key, body)
    result = CliRunner().invoke(cli, _gate_args(open_bucket, tmp_path / "r", no_exceptions))
    assert not marker.exists(), "the cache entry ran code"
    assert result.exit_code == 1, result.output
    assert "PASS" not in result.stdout and "0 stacks" not in result.stdout
    doc = json.loads((tmp_path / "r" / "aegis-gate.json").read_text())
    assert {f["check_id"] for f in doc["findings"] if f["status"] == "failed"} >= PAB_CHECKS


def test_no_pickle_in_any_cache():
    """Pickle only between synth and the worker processes it starts, through a pipe (modules/synth.py):
    never in anything written to or read from a file."""
    users = sorted(p.relative_to(ROOT).as_posix() for folder in ("modules", "policies")
                   for p in (ROOT / folder).rglob("*.py")
                   if re.search(r"^\s*(import|from) pickle\b|\bpickle\.\w", p.read_text(), re.MULTILINE))
    assert users == ["modules/synth.py", "modules/synth_worker.py"]


def test_attack_forged_scan_entry_with_recomputed_checksum_cannot_pass_open_access_block(
        open_bucket, private_cache, no_exceptions):
    first = run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert first.exit_code == 1 and _failed_pab(first) == PAB_CHECKS
    key = _stack_key(open_bucket, no_exceptions)
    path = private_cache / "gate" / f"{key}.json"
    payload = json.loads(path.read_bytes().partition(b"\n")[2])
    payload["results"] = [r for r in payload["results"] if r[2]]  # every failure dropped
    _forge(path, key, json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    again = run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert again.exit_code == 1 and _failed_pab(again) == PAB_CHECKS
    assert "stack dev-data: checksum mismatch" in again.cache_note or "no valid header" in again.cache_note


def test_attack_replayed_entry_of_an_earlier_stack_cannot_pass_it_now(tmp_path, private_cache, no_exceptions):
    """An entry genuinely made (and signed) for the stack as it was, with the access block on, is put
    under the key of the stack as it is now, with it off: it names other stack bytes, so it is not used."""
    out = write_out(tmp_path, {"dev-data": _doc(True)})
    before = run_gate(out, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert before.errors == [] and _failed_pab(before) == set()
    old_key = _stack_key(out, no_exceptions)
    body = cache.read_entry(private_cache / "gate" / f"{old_key}.json", old_key)
    _stack(out).write_text(json.dumps(_doc(False), indent=2))
    record_stacks_as_synthesized(out)
    new_key = _stack_key(out, no_exceptions)
    cache.write_entry(private_cache / "gate" / f"{new_key}.json", new_key, body)
    now = run_gate(out, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert now.exit_code == 1 and _failed_pab(now) == PAB_CHECKS
    assert "stack dev-data: computed for other inputs" in now.cache_note


def test_attack_signed_entry_that_hides_a_resource_is_scanned_again(open_bucket, private_cache, no_exceptions):
    """Even signed, an entry must cover exactly the stack's resources: one that leaves out the access
    block (and its failures) is not used."""
    run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    key = _stack_key(open_bucket, no_exceptions)
    path = private_cache / "gate" / f"{key}.json"
    payload = cache.read_entry(path, key)
    hidden = "aws_s3_bucket_public_access_block.pab"
    payload["parsed"] = [a for a in payload["parsed"] if a != hidden]
    payload["lines"].pop(hidden)
    payload["results"] = [r for r in payload["results"] if r[3] != hidden]
    cache.write_entry(path, key, payload)
    result = run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert result.errors == [] and result.exit_code == 1 and _failed_pab(result) == PAB_CHECKS
    assert "does not cover the stack's resources" in result.cache_note


def test_attack_no_cache_replaces_a_poisoned_entry(open_bucket, private_cache, tmp_path, no_exceptions):
    """A poisoned entry that holds up (made by someone who can write as you: every failure turned into
    a pass) is what `--no-cache` is for: it reads nothing and writes every entry afresh."""
    run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    key = _stack_key(open_bucket, no_exceptions)
    path = private_cache / "gate" / f"{key}.json"
    payload = cache.read_entry(path, key)
    payload["results"] = [[*r[:2], True, *r[3:]] for r in payload["results"]]
    cache.write_entry(path, key, payload)
    poisoned = run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert _failed_pab(poisoned) == set()  # the threat: nothing short of a scan can tell
    forced = CliRunner().invoke(cli, _gate_args(open_bucket, tmp_path / "r", no_exceptions, "--no-cache"))
    assert forced.exit_code == 1, forced.output
    after = run_gate(open_bucket, exceptions_file=no_exceptions, today=TODAY, cache=True)
    assert "cache hit" in after.cache_note and after.exit_code == 1 and _failed_pab(after) == PAB_CHECKS


@pytest.mark.parametrize("spoil", ["writable by others", "owned by another user", "key readable by others"])
def test_attack_cache_folder_others_can_write_is_refused(open_bucket, private_cache, tmp_path, no_exceptions,
                                                         spoil):
    args = _gate_args(open_bucket, tmp_path / "r", no_exceptions)
    assert CliRunner().invoke(cli, args).exit_code == 1  # the cache holds this run now
    target = private_cache
    if spoil == "writable by others":
        private_cache.chmod(0o777)
    elif spoil == "owned by another user":
        if os.geteuid() != 0:
            pytest.skip("only root can give a folder away")
        target = private_cache / "gate"
        os.chown(target, 4242, -1)
    else:
        target = private_cache / cache.KEY_FILE
        target.chmod(0o644)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and os.path.basename(target) in errors[0] and "cache hit" not in result.stderr


def test_attack_forged_synth_cache_entry_with_recomputed_checksum_is_not_restored(synthesized, private_cache,
                                                                                  tmp_path):
    """A synth cache entry whose file list was edited to match a planted stack (the checksum recomputed)
    is not restored: synth runs instead of handing the planted stack to cdktf deploy."""
    key = synth_cache.synth_key(())
    synth_cache.store(key, synthesized.out)
    entry = private_cache / "synth" / key
    planted = entry / "files" / "stacks" / "prod-data" / "cdk.tf.json"
    planted.write_text('{"resource": {}}')
    listing_path = entry / synth_cache.ENTRY
    listing = json.loads(listing_path.read_bytes().partition(b"\n")[2])
    listing["files"]["stacks/prod-data/cdk.tf.json"] = hashlib.sha256(planted.read_bytes()).hexdigest()
    _forge(listing_path, key, json.dumps(listing, sort_keys=True, separators=(",", ":")).encode())
    found = synth_cache.restore(key, tmp_path / "cdktf.out")
    assert found.stacks is None and "ignored" in found.note and not (tmp_path / "cdktf.out").exists()


def test_a_cache_folder_is_created_private_and_a_missing_one_is_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AEGIS_CACHE_DIR", str(tmp_path / "new" / "cache"))
    folder = cache.cache_dir("gate")
    assert (folder.stat().st_mode & 0o777, folder.parent.stat().st_mode & 0o777) == (0o700, 0o700)
    cache.write_entry(folder / "e.json", "k", {"a": 1})
    assert (folder.parent / cache.KEY_FILE).stat().st_mode & 0o777 == 0o600
    (folder.parent / cache.KEY_FILE).unlink()  # a new key: every entry made with the old one is refused
    with pytest.raises(cache.CorruptEntry, match="not signed with this cache's key"):
        cache.read_entry(folder / "e.json", "k")
    shutil.rmtree(tmp_path / "new")
