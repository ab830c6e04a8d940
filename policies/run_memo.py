"""The gate of one exact set of inputs, kept whole ("nothing changed"): the result (verdict, findings,
suppressions) and the checksums of the report files written from it. A rerun with nothing changed
prints that result and leaves report files that still match alone (rewriting any that do not), without
scanning, judging or rendering again.

Its key covers every input of the run and of its reports: every file of the synth output, every
environment file and validated config, the generator (app-level checks use its naming), the policy
pack, catalog, exceptions, checkov and Python (the stack key's base, policies/gate_cache.py), the
report writers, the formats, the target's name and today's date (suppressions expire).

The entry is plain JSON in the signed cache (modules/cache.py), never pickle, and it is not taken on
its word: it must name the same stack files (SHA-256) and pack it is used for, and its result must
describe the stacks being judged: exactly their resource counts, findings only on their resources,
each environment's threshold as configured now, no error, and the verdict that those findings give.
Anything else is ignored and the gate runs. `read=False` on the store (`--no-cache`) never reads it
and always writes it afresh.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import fields
from pathlib import Path
from typing import Any

import orjson

from modules.cache import CorruptEntry, Hasher, cache_dir, read_entry, source_files, touch, write_blob
from modules.synth_output import manifest_stacks, resources, split_stack
from policies import gate_cache
from policies.catalog import Catalog, Rule, load_catalog
from policies.findings import Finding, Suppression
from policies.gate_cache import GateCache
from policies.gate_result import EXIT_FAIL, EXIT_PASS, GateResult, verdict_of

HIT = "cache hit (nothing changed since the last gate of these inputs: verdict and reports reused)"
_RESULT_FIELDS = ("exit_code", "errors", "thresholds", "stacks", "target", "checkov_version", "check_names",
                  "access_matrix")


class RunMemo:
    def __init__(self, store: GateCache, key: str, out_dir: Path, configs: dict[str, Any],
                 bound: dict[str, Any]) -> None:
        self.store, self.key, self.out_dir, self.configs, self.bound = store, key, out_dir, configs, bound
        self.note = ""

    @classmethod
    def for_run(cls, store: GateCache, out_dir: Path, configs: dict[str, Any], environments_dir: Path | None,
                today: dt.date, formats: list[str], target: str) -> "RunMemo":
        from modules.config import environments_dir as default_environments
        from modules.synth_record import config_digest, generator_files

        env_dir = environments_dir or default_environments()
        out_dir = Path(out_dir)
        key = Hasher("gate-run").add("base", store._base_key())
        output: dict[str, str] = {}
        for path in sorted((p for p in out_dir.rglob("*") if p.is_file()), key=lambda p: p.relative_to(out_dir).as_posix()):
            rel, data = path.relative_to(out_dir).as_posix(), path.read_bytes()
            key.add(f"output:{rel}", data)
            output[rel] = hashlib.sha256(data).hexdigest()
        key.add_files("environments", [p for p in env_dir.glob("*.yaml") if p.is_file()], env_dir)
        for name in sorted(configs):
            key.add(f"config:{name}", config_digest(configs[name]))
        key.add_files("generator", generator_files(), gate_cache.ROOT)
        key.add_files("report", source_files(gate_cache.POLICIES / "report"), gate_cache.POLICIES)
        key.add("today", today.isoformat()).add("formats", ",".join(formats)).add("target", target)
        bound = {"output": output, "pack": store._base_key(), "today": today.isoformat(), "target": target}
        return cls(store, key.hexdigest(), out_dir, configs, bound)

    def _path(self) -> Path:
        return cache_dir("gate") / f"run-{self.key}.json"

    def load(self) -> tuple[GateResult, dict[str, str]] | None:
        """(result, {report file name: sha256}) of the same run before, or None (never with `read=False`)."""
        if not self.store.read:
            return None
        try:
            path = self._path()
            payload = read_entry(path, self.key)
        except CorruptEntry as exc:
            self.note = f"run entry ignored ({exc})"
            return None
        except OSError:
            return None
        if payload is None:
            return None
        try:
            result, reports = _result_from(payload["result"], self.store.catalog_file), payload["reports"]
            problem = "computed for other inputs" if payload["bound"] != self.bound else self._problem(result)
            if not problem and not all(isinstance(k, str) and isinstance(v, str) for k, v in reports.items()):
                problem = "report checksums have the wrong shape"
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            problem = f"wrong shape ({type(exc).__name__})"
        if problem:
            self.note = f"run entry ignored ({problem})"
            return None
        touch(path)
        self.note = HIT
        return result, reports

    def _problem(self, result: GateResult) -> str:
        """Why a kept result cannot be this run's ("" when it can), from the stacks as they are now."""
        if result.errors or result.exit_code not in (EXIT_PASS, EXIT_FAIL):
            return "not a verdict"
        if result.target != self.bound["target"]:
            return "another target"
        if result.thresholds != {name: config.gate.fail_on for name, config in self.configs.items()}:
            return "thresholds differ from the environments'"
        stacks = {name: path for name, path in manifest_stacks(self.out_dir).items()
                  if split_stack(name)[0] in self.configs}
        addresses = {name: {r.address for r in resources(_stack_document(path))} for name, path in stacks.items()}
        if result.stacks != {name: len(found) for name, found in addresses.items()}:
            return "its stacks and resource counts are not the output's"
        for finding in result.findings:
            if finding.stack not in addresses or finding.env != split_stack(finding.stack)[0]:
                return f"a finding on unknown stack '{finding.stack}'"
            if finding.address and finding.address not in addresses[finding.stack] \
                    and not finding.address.startswith("provider."):
                return f"a finding on unknown resource {finding.stack}/{finding.address}"
        thresholds = dict(result.thresholds)
        if verdict_of(result.findings, thresholds) != result.exit_code:
            return "its verdict does not follow from its findings"
        return ""

    def save(self, result: GateResult, reports: dict[str, str]) -> None:
        try:
            payload = {"bound": self.bound, "result": _result_plain(result), "reports": reports}
            # Key order kept (not sorted): reports written again from it must come out byte for byte the same.
            # orjson: the standard encoder took ~40 µs per finding, at the end of every gate that ran.
            write_blob(self._path(), self.key, orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS))
        except OSError as exc:
            self.note = f"run not cached ({exc.strerror or exc})"


def _stack_document(path: Path) -> dict:
    """A stack's parsed JSON for counting its resources. orjson, not the strict parser (a third of the time):
    the key pins these exact bytes, which the gate that saved the entry parsed strictly. Not JSON, or not an
    object: ValueError, which `load` reports as an entry of the wrong shape."""
    doc = orjson.loads(path.read_bytes())
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    return doc


def _result_plain(result: GateResult) -> dict[str, Any]:
    """A gate result as plain JSON data (the catalog is left out: the key pins its file)."""
    data = {name: getattr(result, name) for name in _RESULT_FIELDS}
    data["findings"] = [f.as_dict() for f in result.findings]
    data["suppressions"] = [s.as_dict() for s in result.suppressions]
    return data


def _suppression(data: dict[str, Any]) -> Suppression:
    names = {f.name for f in fields(Suppression)}
    item = Suppression(**{k: v for k, v in data.items() if k in names})
    item.environments = tuple(item.environments)
    return item


class _CatalogOnDemand(Catalog):
    """The catalog of a kept run, parsed only when something reads it: rewriting the HTML report does, an
    unchanged rerun does not (~30 ms). The key pins the file, which the run that saved the entry parsed."""

    def __init__(self, path: Path) -> None:  # not the dataclass's __init__: it would set `rules`
        self._path = path
        self._rules: dict[str, Rule] | None = None

    @property
    def rules(self) -> dict[str, Rule]:  # type: ignore[override]  # read-only here: a kept run never edits it
        if self._rules is None:
            self._rules = load_catalog(self._path).rules
        return self._rules


def _result_from(data: dict[str, Any], catalog_file: Path) -> GateResult:
    """The result `_result_plain` wrote, with the catalog as it is now (its file is part of the key)."""
    names = {f.name for f in fields(Finding)}
    findings = []
    for item in data["findings"]:
        values = {k: v for k, v in item.items() if k in names}
        values["suppression"] = _suppression(values["suppression"]) if values.get("suppression") else None
        findings.append(Finding(**values))
    result = GateResult(**{name: data[name] for name in _RESULT_FIELDS})
    result.findings, result.suppressions = findings, [_suppression(s) for s in data["suppressions"]]
    result.catalog = _CatalogOnDemand(catalog_file)
    return result
