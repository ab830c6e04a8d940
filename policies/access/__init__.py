"""Effective permissions across an environment, against the intended access it declares.

    from policies.access import access_of
    envs = access_of(app)          # env name → EnvAccess (policies/access/analysis.py), memoized per AppView

`intent` reads policies/access_matrix.yaml (what each principal must, may and must not do, per tier),
`model` reads every principal and resource policy of an environment's synthesized stacks,
`analysis` evaluates each capability of each principal and follows PassRole and AssumeRole chains,
`matrix` turns the result into the report's `access_matrix`. The gate checks that use it are in
policies/app_checks/access_*.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from modules.errors import ConfigError
from policies.access.analysis import EnvAccess, analyze
from policies.access.intent import Intent, load_intent
from policies.access.model import build
from policies.app_checks.base import CannotJudge

if TYPE_CHECKING:
    from policies.app_checks.view import AppView

__all__ = ["EnvAccess", "Intent", "access_of", "judged", "load_intent"]


def access_of(app: "AppView", intent: Intent | None = None) -> dict[str, EnvAccess]:
    """Every environment's effective access, computed once per app view (the checks and the report share it)."""
    memo = app.memo.get("access")
    if memo is None:
        intent = intent or load_intent()
        memo = app.memo["access"] = {env.name: analyze(build(env, intent), intent) for env in app.envs}
        app.memo["access_intent"] = intent
    return memo


def judged(app: "AppView") -> Iterator[tuple[EnvAccess, Intent]]:
    """Each environment's access with the intent, for the gate's checks: `CannotJudge` (the gate errors)
    when the intent cannot be read or any cell of an environment could not be judged."""
    try:
        envs = access_of(app)
    except ConfigError as exc:
        raise CannotJudge(f"the intended access cannot be read: {exc}") from exc
    intent = app.memo["access_intent"]
    for access in envs.values():
        problems = access.problems()
        if problems:
            more = f" (and {len(problems) - 1} more cell(s))" if len(problems) > 1 else ""
            raise CannotJudge(f"{problems[0]}{more}")
        yield access, intent
