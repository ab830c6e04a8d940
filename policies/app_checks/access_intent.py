"""AEGIS_ACCESS_WITHIN_INTENT, AEGIS_ACCESS_MUST_HAVE, AEGIS_ACCESS_DECLARED: effective access matches
the intent declared in policies/access_matrix.yaml.

checkov and the other checks judge one resource at a time; what a principal can really do depends on
how its identity policies, permission boundary, the SCPs, key, bucket and trust policies compose, and
on the roles it can pass to a service or assume. policies/access computes every role's effective
capabilities that way, with the path that grants each one, and these checks compare them with the
intent of the principal the role belongs to (by its name, `roles:` in the matrix):

- WITHIN_INTENT (critical): an effective capability the intent does not allow, with its path, e.g.
  `data-scientist → iam:PassRole → aegis-prod-fraud-scorer-exec (via sagemaker.amazonaws.com) →
  kms:Decrypt on the inference key via s3.eu-west-1.amazonaws.com`;
- MUST_HAVE (medium): a declared must-have that is effectively denied (a persona that cannot do its
  job is a broken deployment);
- DECLARED (medium): a role that no principal of the matrix matches, or that two match. Undeclared
  roles are findings on purpose: intent is declared, not implied, and a new role needs a decision about
  what it may do. Its capabilities are still computed and shown in the matrix.

A cell the evaluator cannot judge (an unresolved reference, an unmodelled condition key or operator,
a managed policy that is neither in the app nor bounded in the matrix) stops the gate with exit 2 and
the document it is in; it never reads as allowed or denied.
"""
from __future__ import annotations

from typing import Iterator

from modules.errors import ConfigError
from policies.access import EnvAccess, access_of
from policies.access.matrix import intended, verdict
from policies.app_checks.base import CannotJudge, Result, app_check, fail, ok
from policies.app_checks.view import AppView


def _judged(app: AppView) -> Iterator[tuple[EnvAccess, object]]:
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


@app_check("AEGIS_ACCESS_WITHIN_INTENT", "No principal's effective access exceeds its declared intent")
def access_within_intent(app: AppView) -> Iterator[Result]:
    for access, intent in _judged(app):
        for result in access.results:
            if result.role.declared is None:
                continue
            found = [f"{cap}: {result.cells[cap].path}" for cap in access.capabilities
                     if verdict(result.cells[cap], intended(intent, access, result, cap)) == "violation"]
            if found:
                yield fail(result.role.stack, result.role.address,
                           f"{result.role.name} ({result.role.declared}) can do what its intent forbids: "
                           + "; ".join(found))
            else:
                yield ok(result.role.stack, result.role.address,
                         f"{result.role.name} ({result.role.declared}) stays within its declared access")


@app_check("AEGIS_ACCESS_MUST_HAVE", "Every principal effectively has the access it must have")
def access_must_have(app: AppView) -> Iterator[Result]:
    for access, intent in _judged(app):
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


@app_check("AEGIS_ACCESS_DECLARED", "Every role belongs to exactly one principal of the access matrix")
def access_declared(app: AppView) -> Iterator[Result]:
    for access, intent in _judged(app):
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
