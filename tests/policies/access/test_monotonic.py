"""Properties of effective access: adding a Deny never widens it and adding an Allow never narrows it,
for the evaluator's composition rules and for the whole analysis (chains included)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.access import load_intent
from policies.iam_eval import as_principal, same_account_allowed
from tests.policies.access.small_app import ACCOUNT, DS, EXEC, PREFIX, REGION, ROOT, analyze_with, intent_file

ACTIONS = ["kms:Decrypt", "kms:*", "s3:GetObject", "s3:*", "iam:PassRole", "sts:AssumeRole", "*",
           "sagemaker:UpdateEndpoint"]
RESOURCES = ["*", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*", f"arn:aws:s3:::{PREFIX}-inference-{ACCOUNT}-{REGION}/*",
             f"arn:aws:s3:::{PREFIX}-datasets-{ACCOUNT}-{REGION}/*", EXEC, f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-*"]
CONDITIONS = [None, {"StringEquals": {"aws:RequestedRegion": REGION}},
              {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
              {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
              {"Bool": {"aws:SecureTransport": "false"}}, {"ArnLike": {"aws:PrincipalArn": DS}},
              {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}]


def statement(effect: str):
    def build(action, resource, condition, not_action):
        stmt = {"Effect": effect, ("NotAction" if not_action else "Action"): action, "Resource": resource}
        if condition:
            stmt["Condition"] = condition
        return stmt
    return st.builds(build, st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), st.sampled_from(CONDITIONS),
                     st.booleans())


def principal_statement(effect: str):
    return st.builds(lambda s, p: {**s, "Principal": p}, statement(effect),
                     st.sampled_from(["*", {"AWS": DS}, {"AWS": ROOT}, {"AWS": EXEC}]))


def policy(statements: list[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": statements}


REQUESTS = [as_principal(DS, action, resource, {"aws:RequestedRegion": REGION, "aws:SecureTransport": "true",
                                                **extra})
            for action, resource, extra in (
                ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k", {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}),
                ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k", {}),
                ("s3:GetObject", f"arn:aws:s3:::{PREFIX}-inference-{ACCOUNT}-{REGION}/a", {}),
                ("iam:PassRole", EXEC, {"iam:PassedToService": "sagemaker.amazonaws.com"}),
                ("sts:AssumeRole", EXEC, {}))]

identity_docs = st.lists(statement("Allow") | statement("Deny"), max_size=4)
resource_docs = st.lists(principal_statement("Allow") | principal_statement("Deny"), max_size=3)


def decisions(identity, resource, boundary, required):
    return [same_account_allowed(policy(resource), [policy(identity)], request,
                                 boundary=policy(boundary) if boundary is not None else None, policy_required=required)
            for request in REQUESTS]


@settings(max_examples=300, deadline=None, database=None)
@given(identity_docs, resource_docs, st.none() | identity_docs, st.booleans(), statement("Deny"),
       st.sampled_from(["identity", "resource", "boundary"]))
def test_adding_a_deny_anywhere_never_widens(identity, resource, boundary, required, extra, where):
    before = decisions(identity, resource, boundary, required)
    if where == "identity":
        identity = identity + [extra]
    elif where == "resource":
        resource = resource + [{**extra, "Principal": "*"}]
    elif boundary is not None:
        boundary = boundary + [extra]
    after = decisions(identity, resource, boundary, required)
    assert all(b or not a for b, a in zip(before, after, strict=True))


@settings(max_examples=300, deadline=None, database=None)
@given(identity_docs, resource_docs, st.none() | identity_docs, st.booleans(), statement("Allow"),
       st.sampled_from(["identity", "resource", "boundary"]))
def test_adding_an_allow_anywhere_never_narrows(identity, resource, boundary, required, extra, where):
    before = decisions(identity, resource, boundary, required)
    if where == "identity":
        identity = identity + [extra]
    elif where == "resource":
        resource = resource + [{**extra, "Principal": {"AWS": DS}}]
    elif boundary is not None:
        boundary = boundary + [extra]
    after = decisions(identity, resource, boundary, required)
    assert all(a or not b for b, a in zip(before, after, strict=True))


# --- the whole analysis: chains, keys, buckets ----------------------------------------------------------

INTENT = load_intent(intent_file(Path(tempfile.mkdtemp(prefix="intent-"))))


def effective(access) -> set[tuple[str, str]]:
    cells = {(r.role.name, cap): c.effective for r in access.results for cap, c in r.cells.items()}
    assert None not in cells.values()  # the pools use only what the evaluator models
    return {k for k, v in cells.items() if v}


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(identity_docs, st.lists(principal_statement("Allow"), max_size=2), statement("Deny"), statement("Allow"))
def test_in_the_analysis_a_deny_never_widens_and_an_allow_never_narrows(ds, key_extra, new_deny, new_allow):
    from tests.policies.access.small_app import ROOT_DELEGATION

    key = (ROOT_DELEGATION, *[{**s, "Resource": "*"} for s in key_extra])
    base = effective(analyze_with(INTENT, ds=tuple(ds), key_policy=key)[0])
    denied = effective(analyze_with(INTENT, ds=(*ds, new_deny), key_policy=key)[0])
    allowed = effective(analyze_with(INTENT, ds=(*ds, new_allow), key_policy=key)[0])
    assert denied <= base
    assert allowed >= base
