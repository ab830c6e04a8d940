"""How much of AWS's own conformance pack each generated pack covers (`aws_packs.yaml`).

For every framework with an AWS pack, each rule of AWS's template is deployed by Aegis's pack, or is
`not_applicable` (it evaluates nothing Aegis deploys, or cannot evaluate where the pack runs), or is
`left_out` with the reason. Coverage is deployed ÷ (deployed + left out). A rule without a place, a
reason that is not a sentence, or a rule both deployed and excused raises `RuleListError` naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from modules.governance.conformance.catalog import HERE, IDENTIFIER, RuleListError, _display, _load, framework

AWS_PACKS = HERE / "aws_packs.yaml"
MIN_COVERAGE = 0.90


@dataclass(frozen=True)
class PackCoverage:
    framework: str
    template: str
    aws_rules: tuple[str, ...]
    deployed: tuple[str, ...]  # AWS's rules that Aegis's pack deploys
    not_applicable: dict[str, str]
    left_out: dict[str, str]

    @property
    def applicable(self) -> tuple[str, ...]:
        return tuple(r for r in self.aws_rules if r not in self.not_applicable)

    @property
    def coverage(self) -> float:
        return len(self.deployed) / len(self.applicable) if self.applicable else 1.0


def _reasons(raw: Any, at: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise RuleListError(f"{at}: expected a mapping of rule identifier → reason")
    for rule, reason in raw.items():
        if not IDENTIFIER.match(str(rule)):
            raise RuleListError(f"{at} [{rule}]: not an AWS managed rule identifier")
        if not isinstance(reason, str) or len(reason.strip()) < 20:
            raise RuleListError(f"{at} [{rule}]: the reason must be a sentence")
    return dict(raw)


@lru_cache(maxsize=None)
def pack_coverage() -> dict[str, PackCoverage]:
    """Framework → coverage of AWS's pack; frameworks AWS publishes no pack for are absent."""
    where = _display(AWS_PACKS)
    raw = _load(AWS_PACKS)
    if not isinstance(raw, dict) or set(raw) != {"source", "not_applicable", "packs"}:
        raise RuleListError(f"{where}: expected `source`, `not_applicable` and `packs`")
    not_applicable = _reasons(raw["not_applicable"], f"{where} not_applicable")
    out = {}
    for key, pack in (raw["packs"] or {}).items():
        at = f"{where} [packs.{key}]"
        ours = {use.rule.identifier for use in framework(key).rules}
        if not isinstance(pack, dict) or set(pack) - {"template", "aws_rules", "left_out"}:
            raise RuleListError(f"{at}: expected `template`, `aws_rules` and `left_out`")
        if pack.get("template") is None:
            continue
        rules = tuple(pack.get("aws_rules") or ())
        if not rules or len(set(rules)) != len(rules) or not all(IDENTIFIER.match(str(r)) for r in rules):
            raise RuleListError(f"{at}: aws_rules must list AWS's rule identifiers once each")
        left_out = _reasons(pack.get("left_out") or {}, f"{at} left_out")
        stray = sorted(set(left_out) - set(rules))
        if stray:
            raise RuleListError(f"{at}: left_out names rules AWS's pack does not have: {stray}")
        excused_and_deployed = sorted((set(left_out) | set(not_applicable)) & ours & set(rules))
        if excused_and_deployed:
            raise RuleListError(f"{at}: {excused_and_deployed} are deployed by the pack and excused too")
        unplaced = sorted(r for r in rules if r not in ours and r not in left_out and r not in not_applicable)
        if unplaced:
            raise RuleListError(f"{at}: {unplaced} are neither in frameworks/{key}.yaml nor excused with a reason")
        out[key] = PackCoverage(key, pack["template"], rules, tuple(r for r in rules if r in ours),
                                {r: not_applicable[r] for r in rules if r in not_applicable}, left_out)
    return out
