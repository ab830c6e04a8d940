"""AEGIS_ACCESS_MUST_HAVE: every principal effectively has what policies/access_matrix.yaml says it
must have.

A must-have that is effectively denied (by the boundary, an SCP, a key or bucket policy, or the role's
own deny) is a broken deployment: the persona cannot do its job, and the workaround people reach for
is usually wider than the grant that was missing. Computed by policies/access like
AEGIS_ACCESS_WITHIN_INTENT; cells that cannot be judged stop the gate (exit 2).
"""
from __future__ import annotations

from typing import Iterator

from policies.access import judged
from policies.access.matrix import intended
from policies.app_checks.base import Result, app_check, fail, ok
from policies.app_checks.view import AppView


@app_check("AEGIS_ACCESS_MUST_HAVE", "Every principal effectively has the access it must have")
def access_must_have(app: AppView) -> Iterator[Result]:
    for access, intent in judged(app):
        for result in access.results:
            if result.role.declared is None:
                continue
            wanted = [cap for cap in access.capabilities if intended(intent, access, result, cap) == "must"]
            if not wanted:
                continue
            missing = [cap for cap in wanted if not result.cells[cap].effective]
            if missing:
                yield fail(result.role.stack, result.role.address,
                           f"{result.role.name} ({result.role.declared}) is effectively denied what it must have: "
                           f"{', '.join(missing)}")
            else:
                yield ok(result.role.stack, result.role.address,
                         f"{result.role.name} has its {len(wanted)} must-have capabilities")
