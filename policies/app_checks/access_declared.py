"""AEGIS_ACCESS_DECLARED: every role of the app belongs to exactly one principal of
policies/access_matrix.yaml.

Roles are sorted into principals by their name (`roles:` patterns), so new roles enter the matrix
without code. A role that no pattern matches is an undeclared principal: a finding on purpose, since
intent is declared, not implied, and a new role needs a decision about what it may do; its effective
capabilities are still computed and shown (here and in the report's matrix). A role two principals
match is a finding too: its intent would be ambiguous.
"""
from __future__ import annotations

from typing import Iterator

from policies.access import judged
from policies.app_checks.base import Result, app_check, fail, ok
from policies.app_checks.view import AppView


@app_check("AEGIS_ACCESS_DECLARED", "Every role belongs to exactly one principal of the access matrix")
def access_declared(app: AppView) -> Iterator[Result]:
    for access, intent in judged(app):
        for result in access.results:
            role = result.role
            matches = access.model.ambiguous.get(role.name)
            if matches:
                yield fail(role.stack, role.address, f"{role.name} matches several principals of "
                           f"{intent.where}: {', '.join(matches)}; make the role patterns disjoint")
            elif role.declared is None:
                effective = [cap for cap in access.capabilities if result.cells[cap].effective]
                yield fail(role.stack, role.address,
                           f"{role.name} is an undeclared principal: no principal of {intent.where} matches it "
                           f"(effective: {', '.join(effective) or 'none of the matrix capabilities'}); declare "
                           "what it must and may do")
            else:
                yield ok(role.stack, role.address, f"{role.name} is declared as {role.declared}")
