"""The suppression policy (policies/suppression_policy.yaml): how long and how broad a suppression may be,
and who must approve it. Without the rules, `resource: "*"` in every environment until 2999 would
suppress a critical finding in prod, and so would an inline `suppress(..., expires="9999-12-31")`.

- Lifetime: an expiry at most `max_lifetime_days` after today, per tier (a year at most); a
  suppression spanning several tiers (`environments: ['*']`, a skip comment under `gate --path`,
  which has no environment) gets the shortest.
- Breadth: exceptions of checks at or above `exact_resource_from` (HIGH by default), and of the
  plan's deletion checks always, name one resource exactly: no `*`, `?` or `[` in the pattern.
- Approval: a check at or above `approver.from` (CRITICAL) in an environment of an `approver.tiers`
  tier (prod) is suppressed only by a reviewed exception with an `approver` other than its owner;
  inline suppressions and skip comments of it are refused.
- Quality: reasons, names and dates as modules/suppress.py defines them; a checkov skip comment
  carries its expiry at the end of its reason (`#checkov:skip=CKV_AWS_260:<reason>, expires 2027-06-30`).

The file can tighten the built-in rules, never loosen them. `judge` sets the `problem` of every
suppression that breaks them; the engine turns problems into gate errors (exit 2), naming the
file and line (exceptions) or the resource (inline, skip comments).
"""
from __future__ import annotations

import datetime as dt
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from modules.config import Tier
from modules.errors import ConfigError
from modules.suppress import reason_problem, strict_date
from modules.synth_output import stack_parts
from modules.yaml_source import SourceMap, load_yaml
from policies.catalog import SEVERITIES, severity_rank
from policies.findings import DELETION_CHECKS, SKIP_COMMENT, Suppression

POLICY_FILE = Path(__file__).resolve().parent / "suppression_policy.yaml"
POLICY_DISPLAY = "policies/suppression_policy.yaml"
TOP_KEY = "suppression_policy"
TIERS: tuple[str, ...] = typing.get_args(Tier)
STRICTEST_TIER = "prod"  # the tier of an environment the gate cannot name
MAX_LIFETIME_DAYS = 365
WILDCARD = re.compile(r"[*?\[]")
# checkov's stand-ins when a skip comment gives no reason (checkov's own, and policies/scanner.py's).
NO_REASON = ("No comment provided", "checkov skip comment")
_SKIP_EXPIRY = re.compile(r"[\s,;(]*\bexpires\s*[:=]?\s*(\S+?)\)?\s*$", re.IGNORECASE)
_KEYS = {"max_lifetime_days", "exact_resource_from", "approver"}
_APPROVER_KEYS = {"from", "tiers"}


@dataclass(frozen=True)
class SuppressionPolicy:
    max_lifetime_days: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, MAX_LIFETIME_DAYS))
    exact_resource_from: str = "high"
    approver_from: str = "critical"
    approver_tiers: frozenset[str] = frozenset({"prod"})

    def lifetime(self, tiers: Iterable[str]) -> tuple[int, str]:
        """The longest a suppression of these tiers may live, in days, and the tier that sets it."""
        # Of equal limits, the higher tier is named (prod's limit, not dev's).
        tier = min(tiers, key=lambda t: (self.max_lifetime_days.get(t, MAX_LIFETIME_DAYS), -TIERS.index(t)))
        return self.max_lifetime_days.get(tier, MAX_LIFETIME_DAYS), tier

    def exact_resource(self, check_id: str, severity: str) -> bool:
        return check_id in DELETION_CHECKS or severity_rank(severity) >= severity_rank(self.exact_resource_from)

    def approver_tier(self, severity: str, tiers: Iterable[str]) -> str | None:
        """The tier that makes an approver necessary for this severity, or None."""
        if severity_rank(severity) < severity_rank(self.approver_from):
            return None
        return next((t for t in reversed(TIERS) if t in tiers and t in self.approver_tiers), None)


def load_policy(path: Path | None = None, display: str | None = None) -> SuppressionPolicy:
    """Parse and validate; a bad value is a ConfigError naming file, key and line. Without the project's
    file the built-in rules apply (they are the loosest the file may declare)."""
    path = path or POLICY_FILE
    display = display or (POLICY_DISPLAY if path == POLICY_FILE else path.name)
    if not path.exists():
        if path != POLICY_FILE:
            raise ConfigError(display, "", "suppression policy file not found")
        return SuppressionPolicy()
    source = SourceMap()
    raw = load_yaml(path, display, source)

    def fail(key: tuple, message: str) -> ConfigError:
        return source.error(key, message, display)

    if not isinstance(raw, dict) or set(raw) != {TOP_KEY}:
        raise fail((), f"top level must be a mapping with one key, `{TOP_KEY}`")
    body = raw[TOP_KEY] or {}
    if not isinstance(body, dict):
        raise fail((TOP_KEY,), "must be a mapping")
    _known_keys(body, _KEYS, (TOP_KEY,), fail)
    exact = body.get("exact_resource_from", "high")
    if exact not in SEVERITIES[:SEVERITIES.index("high") + 1]:
        raise fail((TOP_KEY, "exact_resource_from"), f"'{exact}' is not one of: low, medium, high (HIGH and "
                                                     "CRITICAL checks always name one resource)")
    approver_from, approver_tiers = _approver(body.get("approver", {}), fail)
    return SuppressionPolicy(max_lifetime_days=_lifetimes(body.get("max_lifetime_days", {}), fail),
                             exact_resource_from=exact, approver_from=approver_from, approver_tiers=approver_tiers)


def _known_keys(body: dict, allowed: set[str], key: tuple, fail: Callable[[tuple, str], ConfigError]) -> None:
    for name in body:
        if name not in allowed:
            raise fail(key + (name,), f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _lifetimes(value: Any, fail: Callable[[tuple, str], ConfigError]) -> dict[str, int]:
    key = (TOP_KEY, "max_lifetime_days")
    if not isinstance(value, dict):
        raise fail(key, f"must map tiers ({', '.join(TIERS)}) to days")
    days = dict.fromkeys(TIERS, MAX_LIFETIME_DAYS)
    for tier, limit in value.items():
        if tier not in TIERS:
            raise fail(key + (tier,), f"'{tier}' is not a tier ({', '.join(TIERS)})")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIFETIME_DAYS:
            raise fail(key + (tier,), f"must be a number of days from 1 to {MAX_LIFETIME_DAYS} (a year at most)")
        days[tier] = limit
    return days


def _approver(value: Any, fail: Callable[[tuple, str], ConfigError]) -> tuple[str, frozenset[str]]:
    key = (TOP_KEY, "approver")
    if not isinstance(value, dict):
        raise fail(key, "must be a mapping with `from` (a severity) and `tiers`")
    _known_keys(value, _APPROVER_KEYS, key, fail)
    severity = value.get("from", "critical")
    if severity not in SEVERITIES:
        raise fail(key + ("from",), f"'{severity}' is not one of: {', '.join(SEVERITIES)}")
    tiers = value.get("tiers", [STRICTEST_TIER])
    if not isinstance(tiers, list) or any(t not in TIERS for t in tiers) or STRICTEST_TIER not in tiers:
        raise fail(key + ("tiers",), f"must be a list of tiers ({', '.join(TIERS)}) that includes {STRICTEST_TIER}")
    return severity, frozenset(tiers)


# ---------------------------------------------------------------- judging suppressions

def split_skip_comment(text: str) -> tuple[str, str]:
    """A checkov skip comment's text → (reason, expiry as written, "" when it names none)."""
    if text.strip() in NO_REASON:
        return "", ""
    match = _SKIP_EXPIRY.search(text)
    if not match:
        return text.strip(), ""
    return text[:match.start()].strip(), match.group(1)


def environments_named(items: Iterable[Suppression]) -> set[str]:
    """The environments whose tier judging these suppressions needs."""
    names: set[str] = set()
    for item in items:
        names.update(e for e in _environments(item) if e != "*")
    return names


def environment_tiers(names: Iterable[str], directory: Path | None) -> dict[str, str]:
    """The tier of each named environment that has a file: its validated config's, which is bound to facts
    (an environment on a production account is prod whatever its file says)."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    from modules.config import env_files, environments_dir, load_all

    files = env_files(directory or environments_dir())
    known = [n for n in wanted if n in files]
    return {c.name: c.tier for c in load_all(known, directory)} if known else {}


def _environments(item: Suppression) -> tuple[str, ...]:
    if item.origin == "exceptions":
        return item.environments
    parts = stack_parts(item.where.split("/", 1)[0]) if item.origin == "inline" else None
    return (parts[0],) if parts else ("*",)  # a skip comment has no environment: every tier


def tiers_of(item: Suppression, env_tiers: Mapping[str, str]) -> frozenset[str]:
    """The tiers a suppression applies in: those of its environments (an unknown one counts as prod)."""
    names = _environments(item)
    if "*" in names:
        return frozenset(TIERS)
    return frozenset(env_tiers.get(name, STRICTEST_TIER) for name in names)


def judge(items: Iterable[Suppression], policy: SuppressionPolicy, severity_of: Callable[[str], str],
          env_tiers: Mapping[str, str], today: dt.date) -> None:
    """Set the `problem` of every suppression the policy refuses (one that has a problem keeps it)."""
    for item in items:
        if not item.problem:
            item.problem = violation(item, policy, severity_of(item.check_id), tiers_of(item, env_tiers), today) or ""


def violation(item: Suppression, policy: SuppressionPolicy, severity: str, tiers: frozenset[str],
              today: dt.date) -> str | None:
    """Why the policy refuses this suppression, or None."""
    return (_quality_problem(item)
            or _expiry_problem(item, policy, tiers, today)
            or _breadth_problem(item, policy, severity)
            or _approval_problem(item, policy, severity, tiers))


def _quality_problem(item: Suppression) -> str | None:
    if item.origin == SKIP_COMMENT and not item.reason:
        return "a checkov skip comment needs a reason and an expiry: #checkov:skip=<ID>:<reason>, expires YYYY-MM-DD"
    problem = reason_problem(item.reason)
    return f"the reason {problem}" if problem else None


def _expiry_problem(item: Suppression, policy: SuppressionPolicy, tiers: frozenset[str],
                    today: dt.date) -> str | None:
    expires = strict_date(item.expires)
    if expires is None:
        if item.origin == SKIP_COMMENT and not item.expires:
            return "a checkov skip comment needs an expiry at the end of its reason: `<reason>, expires YYYY-MM-DD`"
        return f"expiry '{item.expires}' is not a YYYY-MM-DD date"
    return lifetime_problem(expires, policy, tiers, today)


def lifetime_problem(expires: dt.date, policy: SuppressionPolicy, tiers: frozenset[str], today: dt.date) -> str | None:
    """Expired, or further from today than the policy allows in these tiers; None when fine."""
    if expires < today:
        return f"expired on {expires.isoformat()}: fix the finding, or review and renew the suppression"
    days, tier = policy.lifetime(tiers)
    if (expires - today).days > days:
        return (f"expires {expires.isoformat()}, {(expires - today).days} days from today: at most {days} days in "
                f"{tier} ({POLICY_DISPLAY}); review it and set a nearer expiry")
    return None


def _breadth_problem(item: Suppression, policy: SuppressionPolicy, severity: str) -> str | None:
    if item.origin != "exceptions" or not WILDCARD.search(item.pattern):
        return None
    if not policy.exact_resource(item.check_id, severity):
        return None
    what = "a plan deletion check (approve each deletion in policies/approvals.yaml)" \
        if item.check_id in DELETION_CHECKS else f"a {severity} check"
    return (f"resource pattern '{item.pattern}' has a wildcard: {what} is excepted for one exact resource "
            "address or construct path at a time")


def _approval_problem(item: Suppression, policy: SuppressionPolicy, severity: str, tiers: frozenset[str]) -> str | None:
    tier = policy.approver_tier(severity, tiers)
    if tier is None:
        return None
    if item.origin != "exceptions":
        how = "by a checkov skip comment" if item.origin == SKIP_COMMENT else item.origin
        return (f"a {severity} check in {tier} cannot be suppressed {how}: add a reviewed entry to "
                "policies/exceptions.yaml with an approver other than its owner")
    if not item.approver:
        return f"a {severity} check in {tier} needs an `approver` other than the owner ({item.owner})"
    return None
