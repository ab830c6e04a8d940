"""AEGIS_STUDIO_PRIVATE_SPACES: a Studio execution role creates and deletes only its own profile's
private spaces and apps.

Studio spaces and apps are resources of the whole domain (`space/<domain>/*`, `app/<domain>/*`).
A Studio role allowed CreateApp / DeleteApp / CreateSpace / DeleteSpace / UpdateSpace on them could
stop or replace the other persona's apps, or create a *shared* space, whose apps run as the domain's
default space execution role instead of the persona's own. SageMaker sets
`sagemaker:OwnerUserProfileArn` and `sagemaker:SpaceSharingType` on these calls (Service
Authorization Reference; SageMaker developer guide, "Give your users access to spaces"), so the
role's policy can require its own profile and `Private`.

Judged with policies/iam_eval.py, for each Studio role (`<prefix>-studio-<persona>`, the persona being
its profile's name) with its policies and boundary: each call on its own profile's private space or
app must be allowed (the persona can work), and must be denied for the other Studio profiles, for a
shared space, and for a request that names no owner. The domain's ID is a reference until apply: it
is replaced by one placeholder ID before judging. A role whose policies cannot be read fails.
"""
from __future__ import annotations

import json
import re
from typing import Iterator

from modules.training import STUDIO_PERSONAS, studio_personas, studio_role
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import NotJudged, role_with_boundary, roles_named
from policies.app_checks.view import AppView, Env
from policies.iam_eval import Request, UnsupportedPolicy, is_allowed

DOMAIN_ID = "d-placeholder0"
_DOMAIN_REF = re.compile(r"\$\{aws_sagemaker_domain\.[^}]+\.id\}")
CALLS = (("sagemaker:CreateSpace", "space"), ("sagemaker:UpdateSpace", "space"), ("sagemaker:DeleteSpace", "space"),
         ("sagemaker:CreateApp", "app"), ("sagemaker:DeleteApp", "app"))


@app_check("AEGIS_STUDIO_PRIVATE_SPACES",
           "Studio roles create and delete only their own profile's private spaces and apps")
def studio_private_spaces(app: AppView):
    for env in app.envs:
        if next(env.resources("aws_sagemaker_domain"), None) is None:
            continue
        for persona in studio_personas(env.config):
            found = roles_named(env, env.naming.role(studio_role(persona)))
            if not found:
                yield fail(env.home_stack("platform"), "", f"no Studio role for {persona}: its Studio access is not judged")
            for stack, name, role in found:
                try:
                    arn, documents, boundary = role_with_boundary(env, stack, name, role)
                except NotJudged as exc:
                    yield fail(stack.name, f"aws_iam_role.{name}", str(exc))
                    continue
                yield judge(stack.name, f"aws_iam_role.{name}",
                            _problems(env, persona, arn, documents, boundary),
                            f"only {persona}'s own private spaces and apps")


def _literal(document):
    return json.loads(_DOMAIN_REF.sub(DOMAIN_ID, json.dumps(document))) if document is not None else None


def _problems(env: Env, persona: str, arn: str, documents: list, boundary) -> Iterator[str]:
    n = env.naming
    sm = f"arn:aws:sagemaker:{n.region}:{n.account_id}"
    documents, boundary = [_literal(d) for d in documents], _literal(boundary)
    base = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": arn, "aws:PrincipalAccount": n.account_id}

    def profile(who: str) -> str:
        return f"{sm}:user-profile/{DOMAIN_ID}/{who}"

    others = [profile(p) for p in STUDIO_PERSONAS if p != persona]
    try:
        for action, kind in CALLS:
            resource = f"{sm}:{kind}/{DOMAIN_ID}/{persona}-space"

            def may(context: dict, action: str = action, resource: str = resource) -> bool:
                return is_allowed(documents, Request(action, resource, {**base, **context}), boundary=boundary)

            verb = action.split(":")[1]
            if not may({"sagemaker:OwnerUserProfileArn": profile(persona), "sagemaker:SpaceSharingType": "Private"}):
                yield f"cannot {verb} its own private {kind}: Studio does not work for {persona}"
            for other in others:
                if may({"sagemaker:OwnerUserProfileArn": other, "sagemaker:SpaceSharingType": "Private"}):
                    yield f"may {verb} a {kind} of {other.rsplit('/', 1)[1]}'s profile"
            if may({"sagemaker:OwnerUserProfileArn": profile(persona), "sagemaker:SpaceSharingType": "Shared"}):
                yield f"may {verb} a shared {kind} (it runs as the domain's default space role)"
            if may({}):
                yield f"may {verb} a {kind} that names no owner"
    except UnsupportedPolicy as exc:
        yield f"the policies cannot be judged: {exc}"
