"""App-level checks: invariants over the whole synthesized app that checkov cannot express.

    from policies.app_checks import run_app_checks
    findings = run_app_checks(stacks, configs)

`stacks` maps stack name (`<env>-<pillar>`) to the parsed cdk.tf.json, `configs` maps environment
name to its `EnvConfig`. Each check lives in its own module of this package (one small function,
registered with `@app_check`, policies/app_checks/base.py); `all_checks()` imports every module of
the package (policies/check_registry.py). The other modules are what checks share: `view` (the
app), `lookups`, `scaling` and `iam`. IDs are `AEGIS_<NAME>`; severities and controls are in
policies/catalog.yaml (`custom:`).
"""
from __future__ import annotations

from modules.config import EnvConfig
from policies.app_checks.base import REGISTRY, AppCheck, AppFinding, CannotJudge
from policies.app_checks.view import AppView

__all__ = ["AppFinding", "AppCheckError", "AppCheckNotJudged", "REGISTRY", "all_checks", "run_app_checks"]


class AppCheckError(RuntimeError):
    """An app-level check crashed: the gate must not pass (it reports an error)."""


class AppCheckNotJudged(AppCheckError):
    """An app-level check could not judge what it read (`CannotJudge`): an error, with where."""


def all_checks() -> list[AppCheck]:
    """Every app-level check, by ID (importing every module of the package first)."""
    return REGISTRY.load()


def run_app_checks(stacks: dict[str, dict], configs: dict[str, EnvConfig],
                   app: AppView | None = None) -> list[AppFinding]:
    """Run every app-level check; findings sorted by stack, address and check ID. `app`: the view of
    these stacks when the caller built it (to read what the checks derived, e.g. the access matrix)."""
    app = app or AppView.build(stacks, configs)
    findings: list[AppFinding] = []
    for check in all_checks():
        try:
            results = list(check.func(app))
        except CannotJudge as exc:
            raise AppCheckNotJudged(f"{check.check_id} cannot judge: {exc}") from exc
        except Exception as exc:  # a crash must surface as an error, never as "no findings"
            raise AppCheckError(f"{check.check_id} crashed: {type(exc).__name__}: {exc}") from exc
        for result in results:
            findings.append(AppFinding(check.check_id, result.stack, result.address, result.passed, result.message))
    return sorted(findings, key=lambda f: (f.stack, f.address, f.check_id, f.passed, f.message))
