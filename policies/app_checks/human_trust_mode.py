"""AEGIS_HUMAN_TRUST_MODE: people can assume each human persona the way the configuration says
they sign in, and only they can.

A trust that requires aws:MultiFactorAuthPresent is unassumable from IAM Identity Center or SAML:
their sessions never carry the key (MFA happens at the identity provider's sign-in), so the
persona is locked for everyone, and so is a persona policy that denies every session without it.
The trust must follow `access.trust.mode` (modules/access/personas.py):

- iam-mfa: an IAM principal of the trusted account assumes the role with MFA, not without;
- identity-center: a session of the persona's permission set (`AWSReservedSSO_<set>_*`, under
  `aws-reserved/sso.amazonaws.com/`) of the identity account assumes the role without the MFA key;
  other permission sets and plain IAM principals of that account, even with MFA, do not;
- saml: the SAML provider's sessions (audience https://signin.aws.amazon.com/saml) assume it.

Outside iam-mfa, no persona policy may deny on the MFA keys. Decided by the IAM evaluator; a role
that is missing or not literal JSON fails.
"""
from __future__ import annotations

from typing import Iterator

from modules.access.settings import WORKLOAD_PERSONAS
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.iam import role_policies, roles_named
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import as_list, document
from policies.iam_eval import UnsupportedPolicy, may_assume

SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
MFA_KEYS = ("aws:multifactorauthpresent", "aws:multifactorauthage")


def sso_role(account: str, permission_set: str) -> str:
    return (f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/eu-west-1/"
            f"AWSReservedSSO_{permission_set}_0123456789abcdef")


@app_check("AEGIS_HUMAN_TRUST_MODE", "Human personas can be assumed the way the configured trust mode signs people in")
def human_trust_mode(app: AppView):
    for env in app.envs:
        access = env.config.access
        for persona in access.enabled_personas():
            if persona in WORKLOAD_PERSONAS:
                continue
            role_name = env.naming.role(persona)
            found = roles_named(env, role_name)
            if not found:
                yield fail(env.home_stack("access"), "", f"no {role_name} role although the persona is enabled")
                continue
            stack, name, role = found[0]
            trust = access.trust_of(persona, env.config.account_id, "")
            yield judge(stack.name, f"aws_iam_role.{name}", _problems(env, persona, trust, stack, name, role),
                        f"{trust.effective_mode} sessions can assume it, others cannot")


def _problems(env: Env, persona: str, trust, stack, name: str, role: dict) -> Iterator[str]:
    doc = document(role.get("assume_role_policy"))
    if doc is None:
        yield "the trust policy is not a literal JSON document and cannot be judged"
        return
    mode = trust.effective_mode
    try:
        if mode == "identity-center":
            yield from _identity_center(env, persona, trust, doc)
        elif mode == "saml":
            context = {"SAML:aud": SAML_AUDIENCE}
            if not may_assume(doc, {"Federated": trust.saml_provider_arn}, "sts:AssumeRoleWithSAML", context):
                yield f"sessions of {trust.saml_provider_arn} cannot assume it"
        elif mode == "iam-mfa":
            yield from _iam_mfa(trust, doc)
    except UnsupportedPolicy as exc:
        yield f"the trust policy cannot be judged: {exc}"
        return
    if mode != "iam-mfa":
        for label, raw, _ in role_policies(stack, name, role):
            policy = document(raw) or {}
            for stmt in as_list(policy.get("Statement")):
                keys = {k.lower() for values in (stmt.get("Condition") or {}).values() if isinstance(values, dict)
                        for k in values}
                if stmt.get("Effect") == "Deny" and keys & set(MFA_KEYS):
                    yield (f"{label} statement {stmt.get('Sid', '?')} denies on the MFA key, which {mode} sessions "
                           "never carry: the persona could do nothing")


def _identity_center(env: Env, persona: str, trust, doc: dict) -> Iterator[str]:
    account = trust.identity_account_id
    permission_set = env.config.access.permission_set(persona, env.config.project, env.config.name)
    own = sso_role(account, permission_set)
    if not may_assume(doc, {"AWS": own}, context={"aws:PrincipalArn": own}):
        yield (f"Identity Center sessions of permission set {permission_set} (account {account}) cannot assume it: "
               "they never carry aws:MultiFactorAuthPresent; trust the permission-set roles by aws:PrincipalArn")
    for other in (sso_role(account, "AdministratorAccess"), f"arn:aws:iam::{account}:role/any-role"):
        if may_assume(doc, {"AWS": other}, context={"aws:PrincipalArn": other, "aws:MultiFactorAuthPresent": "true"}):
            yield f"{other} can assume it too: trust only the persona's permission set"


def _iam_mfa(trust, doc: dict) -> Iterator[str]:
    if trust.identity_account_id is not None:
        person = f"arn:aws:iam::{trust.identity_account_id}:role/person"
    else:
        person = str(trust.principal_arns[0]).replace("*", "x")
    principal = {"AWS": person}
    with_mfa = {"aws:PrincipalArn": person, "aws:MultiFactorAuthPresent": "true"}
    if not may_assume(doc, principal, context=with_mfa):
        yield f"{person} cannot assume it even with MFA"
    if may_assume(doc, principal, context={"aws:PrincipalArn": person}):
        yield f"{person} can assume it without MFA (aws:MultiFactorAuthPresent)"
