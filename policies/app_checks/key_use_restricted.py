"""AEGIS_KEY_USE_RESTRICTED: each KMS key policy itself decides who may use the key.

A key policy statement that allows the account root delegates to IAM: every principal of the
account whose IAM policy allows kms:* (an administrator role, a permission set with
AdministratorAccess) may then use the key. Allow statements with aws:PrincipalArn or
kms:ViaService conditions on the root restrict nothing next to such a grant. The key policy must
deny use (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, CreateGrant) to every principal of the
account except the named users, while still delegating administration (no lock-out).

Decided by the IAM evaluator: an administrator of the environment's account that the key policy
does not name (a role, an IAM user and the root user, with an identity policy allowing `*`) asks to
use the key directly, through every service the policy mentions in kms:ViaService and through S3;
any request allowed fails the key. A policy that is not literal JSON, or that the evaluator cannot
model, fails (not judged).
"""
from __future__ import annotations

import re
from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import key_policy
from policies.app_checks.view import AppView, Env, Stack
from policies.checks.aegis_values import document, strings
from policies.iam_eval import UnsupportedPolicy, as_principal, kms_is_allowed

USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant")
ADMINISTRATOR = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
VIA = re.compile(r"^[a-z0-9-]+\.([a-z0-9-]+)\.amazonaws\.com$")


@app_check("AEGIS_KEY_USE_RESTRICTED", "KMS key policies themselves restrict who may use the key")
def key_use_restricted(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_kms_key"):
            yield judge(stack.name, f"aws_kms_key.{name}", _problems(env, stack, name, conf),
                        "only the principals the key policy names may use the key")


def outsiders(account: str) -> list[str]:
    """Administrators no key policy of the project names: they hold `*` in IAM."""
    return [f"arn:aws:iam::{account}:role/Admin", f"arn:aws:iam::{account}:user/admin",
            f"arn:aws:iam::{account}:root"]


def _contexts(policy: dict, env: Env) -> list[dict]:
    """Directly, and through each service the policy names (and S3, in the environment's regions)."""
    services = {value for value in strings(policy) if VIA.match(value)}
    services |= {f"s3.{region}.amazonaws.com" for region in (env.naming.region, env.naming.dr_region, "us-east-1")}
    return [{}, *({"kms:ViaService": s} for s in sorted(services))]


def _problems(env: Env, stack: Stack, name: str, conf: dict) -> Iterator[str]:
    policy = document(key_policy(stack, name, conf))
    if policy is None:
        yield "the key policy is missing or not a literal JSON document: it cannot be judged"
        return
    account = env.naming.account_id
    for principal in outsiders(account):
        for action in USE:
            for context in _contexts(policy, env):
                extra = {**context, "kms:CallerAccount": account, "kms:GrantIsForAWSResource": True}
                try:
                    allowed = kms_is_allowed(policy, [ADMINISTRATOR], as_principal(principal, action, "*", extra))
                except UnsupportedPolicy as exc:
                    yield f"the key policy cannot be judged: {exc}"
                    return
                if allowed:
                    how = f" through {context['kms:ViaService']}" if context else ""
                    yield (f"{principal} with IAM '*' may {action}{how}: deny key use in the key policy to every "
                           "principal of the account but the named users (modules/grants.py key_use_restrictions)")
                    return
