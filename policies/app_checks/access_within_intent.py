"""AEGIS_ACCESS_WITHIN_INTENT: no principal's effective access exceeds the intent declared in
policies/access_matrix.yaml.

checkov and the other checks judge one resource at a time; what a principal can really do depends on
how its identity policies, permission boundary, the SCPs, key, bucket and trust policies compose, and
on the roles it can pass to a service or assume. policies/access computes every role's effective
capabilities that way, with the path that grants each one, and this check fails a role (of a declared
principal) with every capability its intent does not allow, e.g. `use-key:inference: data-scientist →
iam:PassRole → aegis-prod-fraud-scorer-exec (via sagemaker.amazonaws.com) → kms:Decrypt on the
inference key via s3.eu-west-1.amazonaws.com`.

A cell the evaluator cannot judge (an unresolved reference, an unmodelled condition key or operator,
a managed policy that is neither in the app nor bounded in the matrix) stops the gate with exit 2 and
the document it is in; it never reads as allowed or denied.
"""
from __future__ import annotations

from typing import Iterator

from policies.access import judged
from policies.access.matrix import intended, verdict
from policies.app_checks.base import Result, app_check, fail, ok
from policies.app_checks.view import AppView


@app_check("AEGIS_ACCESS_WITHIN_INTENT", "No principal's effective access exceeds its declared intent")
def access_within_intent(app: AppView) -> Iterator[Result]:
    for access, intent in judged(app):
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
