"""AEGIS_ENVIRONMENT_STACKS: every stack belongs to a configured environment, and every judged
environment has all of its stacks.

Environment-aware checks can only judge a stack whose environment (and so tier and config) they
know; a stack of an unknown environment would otherwise be judged by nothing. An environment with
a missing pillar stack (no data keys, no audit trail, no governance) is incomplete.
"""
from __future__ import annotations

from modules.naming import STACK_ORDER
from policies.app_checks.base import app_check, fail, ok
from policies.app_checks.view import AppView


@app_check("AEGIS_ENVIRONMENT_STACKS", "Every stack belongs to a configured environment that has all its stacks")
def environment_stacks(app: AppView):
    for orphan in app.orphans:
        yield fail(orphan, "", f"stack {orphan} belongs to no configured environment: its tier and config are "
                               "unknown, so environment rules cannot judge it")
    for env in app.envs:
        missing = [env.naming.stack(p) for p in STACK_ORDER if p not in env.stacks]
        stack = next(iter(env.stacks.values())).name
        if missing:
            yield fail(stack, "", f"environment {env.name} is missing stack(s): {', '.join(missing)}")
        else:
            yield ok(stack, "", f"environment {env.name} has all {len(STACK_ORDER)} stacks")
