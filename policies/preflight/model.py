"""What preflight reports: one `Check` per thing it judged, and the verdict over all of them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["pass", "warn", "fail", "error"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail", "error")

EXIT_READY = 0      # nothing found that blocks an apply
EXIT_BLOCKED = 1    # something will fail or conflict
EXIT_NOT_RUN = 2    # preflight could not run (no credentials, throttled beyond retries, nothing judged)
WHO = ("identity.account", "identity.deployer-role")  # who the caller is, not what the account holds


@dataclass(frozen=True)
class Check:
    """- `id`: stable, dotted (`singleton.guardduty.eu-west-1`);
    - `status`: pass, warn (the apply works but changes or assumes something), fail (it will fail or
      conflict), error (the check could not read what it needs: not judged);
    - `found`: what the account holds, in one sentence;
    - `fix`: the exact remedy (the config key to set, a quota code to request, a command), "" when none;
    - `paste`: config settings that fix it, as (dotted key, value) pairs (`paste_yaml` renders them)."""

    id: str
    title: str
    status: Status
    found: str
    fix: str = ""
    paste: tuple[tuple[str, object], ...] = ()

    def as_dict(self) -> dict:
        out = asdict(self)
        out["paste"] = {key: value for key, value in self.paste}
        return out


@dataclass
class Outcome:
    env: str
    account_id: str
    region: str
    principal: str = ""  # the ARN the checks ran as (never a credential)
    checks: list[Check] = field(default_factory=list)
    stopped: str = ""    # why the run stopped early (a failed identity check), "" when it ran through

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in STATUSES}

    @property
    def exit_code(self) -> int:
        """1 when anything fails; 2 when no check of the account itself (past who the caller is) could be
        judged; else 0. A check in error is listed as not judged, and does not by itself block."""
        if any(c.status == "fail" for c in self.checks):
            return EXIT_BLOCKED
        account = [c for c in self.checks if c.id not in WHO]
        if not account or all(c.status == "error" for c in account):
            return EXIT_NOT_RUN
        return EXIT_READY

    @property
    def verdict(self) -> str:
        return {EXIT_READY: "READY", EXIT_BLOCKED: "BLOCKED", EXIT_NOT_RUN: "NOT RUN"}[self.exit_code]

    def paste_yaml(self) -> str:
        """The settings every check asks for, as one YAML block to paste into the environment file ("" when
        none): dotted keys nested, list values (`governance.central`) merged."""
        import yaml

        tree: dict = {}
        for check in self.checks:
            for key, value in check.paste:
                *parents, leaf = key.split(".")
                node = tree
                for part in parents:
                    node = node.setdefault(part, {})
                if isinstance(value, list):
                    node[leaf] = sorted(set(node.get(leaf, [])) | set(value))
                else:
                    node[leaf] = value
        return yaml.safe_dump(tree, sort_keys=False, default_flow_style=False) if tree else ""
