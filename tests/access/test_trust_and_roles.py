"""Who may assume each persona role, for how long, and the boundary and name rules of every role
of every stack."""
from __future__ import annotations

import json

import pytest

from modules.access.personas import trust_policy, uses_iam_mfa
from modules.access.settings import PERSONAS, WORKLOAD_PERSONAS, AccessSettings
from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import may_assume
from tests.synthesized import ENVS

HUMANS = sorted(set(PERSONAS) - WORKLOAD_PERSONAS)


def test_every_persona_role_exists_with_its_configured_session_length(env_iam):
    access = env_iam.config.access
    for persona in PERSONAS:
        role = env_iam.persona(persona)
        assert role.max_session_duration == access.session_hours(persona) * 3600
    # The break-glass role has the shortest sessions of the human roles.
    assert env_iam.persona("platform-admin").max_session_duration == min(
        env_iam.persona(p).max_session_duration for p in HUMANS)


def sso_role(account: str, permission_set: str, region: str | None = "eu-west-1") -> str:
    """An IAM Identity Center role as AWS names it (no region segment for an us-east-1 identity source)."""
    path = f"aws-reserved/sso.amazonaws.com/{region + '/' if region else ''}"
    return f"arn:aws:iam::{account}:role/{path}AWSReservedSSO_{permission_set}_0123456789abcdef"


def conventional_permission_set(config, persona: str) -> str:
    """`<Project><Env><Persona>`: the permission set of a persona when the config names none."""
    return "".join(part.capitalize() for part in f"{config.project}-{config.name}-{persona}".split("-"))


def sso_may_assume(trust: dict, arn: str) -> bool:
    """An Identity Center session asks: its context has no aws:MultiFactorAuthPresent, ever."""
    return may_assume(trust, {"AWS": arn}, context={"aws:PrincipalArn": arn})


@pytest.mark.parametrize("persona", HUMANS)
def test_identity_center_users_can_assume_their_persona_without_an_mfa_key(env_iam, persona):
    """The default trust (identity-center mode): the persona's own permission set in the identity
    account, whose sessions never carry aws:MultiFactorAuthPresent (MFA is Identity Center's)."""
    config = env_iam.config
    trust = env_iam.persona(persona).trust
    identity = config.access.trust.identity_account_id
    permission_set = conventional_permission_set(config, persona)
    for region in ("eu-west-1", None):
        assert sso_may_assume(trust, sso_role(identity, permission_set, region))
    others = [sso_role(identity, conventional_permission_set(config, p)) for p in HUMANS if p != persona]
    others += [sso_role(identity, f"{permission_set}Admin"), sso_role(identity, "AdministratorAccess"),
               sso_role(env_iam.naming.account_id, permission_set), sso_role("123456789012", permission_set),
               f"arn:aws:iam::{identity}:role/AWSReservedSSO_{permission_set}_0123"]  # not under the SSO path
    for other in others:
        assert not sso_may_assume(trust, other), other
    # An IAM user or role of the identity account, even with MFA, is not an Identity Center session.
    user = f"arn:aws:iam::{identity}:user/alice"
    assert not may_assume(trust, {"AWS": user}, context={"aws:PrincipalArn": user, "aws:MultiFactorAuthPresent": "true"})
    assert not may_assume(trust, {"Service": "ec2.amazonaws.com"})
    assert config.access.trust.idp_enforces_mfa  # declared: Identity Center requires MFA at sign-in


@pytest.mark.parametrize("persona", HUMANS)
def test_human_roles_need_mfa_and_an_identity_account_principal(env, persona):
    """iam-mfa mode: IAM principals of the identity account, with MFA."""
    config = _with_access(env, {"trust": {"mode": "iam-mfa", "identity_account_id": "999900001111"}})
    trust = json.loads(trust_policy(persona, config))
    person = {"AWS": "arn:aws:iam::999900001111:role/engineers"}
    assert may_assume(trust, person, context={"aws:MultiFactorAuthPresent": "true"})
    assert not may_assume(trust, person, context={"aws:MultiFactorAuthPresent": "false"})
    assert not may_assume(trust, person)  # long-term keys (and Identity Center sessions): the MFA key is absent
    for stranger in (f"arn:aws:iam::{config.account_id}:role/anything", "arn:aws:iam::123456789012:root"):
        assert not may_assume(trust, {"AWS": stranger}, context={"aws:MultiFactorAuthPresent": "true"})
    assert not may_assume(trust, {"Service": "ec2.amazonaws.com"})
    for stmt in trust["Statement"]:
        assert stmt["Condition"]["Bool"]["aws:MultiFactorAuthPresent"] == "true"
    assert uses_iam_mfa(persona, config)


def test_app_invoker_is_a_workload_role_for_its_configured_principals_only(env_iam):
    trust = env_iam.persona("app-invoker").trust
    (principal,) = env_iam.config.access.persona("app-invoker").trust.principal_arns
    account = principal.split(":")[4]
    context = {"aws:PrincipalArn": principal}
    assert may_assume(trust, {"AWS": principal}, context=context)  # no MFA for a workload
    other = f"arn:aws:iam::{account}:role/some-other-app"
    assert not may_assume(trust, {"AWS": other}, context={"aws:PrincipalArn": other})
    identity = env_iam.config.access.trust.identity_account_id
    human = sso_role(identity, "AegisDevMlEngineer")
    assert not may_assume(trust, {"AWS": human}, context={"aws:PrincipalArn": human, "aws:MultiFactorAuthPresent": "true"})


def test_every_role_in_every_stack_has_the_boundary_and_the_prefix(synthesized):
    seen = 0
    for stack in synthesized.stack_names:
        env = stack.split("-")[0]
        naming = Naming.of(load_env(env))
        for conf in synthesized.resources(stack, "aws_iam_role").values():
            seen += 1
            assert conf["name"].startswith(naming.prefix + "-"), (stack, conf["name"])
            # In the bootstrap stack, which creates the boundary, a reference orders the role after it.
            expected = "${aws_iam_policy.permission-boundary.arn}" if stack.endswith("-bootstrap") else \
                f"arn:aws:iam::{naming.account_id}:policy/{naming.prefix}-permission-boundary"
            assert conf.get("permissions_boundary") == expected, (stack, conf["name"])
    assert seen >= 6 * len(ENVS)  # five personas and the trail delivery role per environment at least


def test_every_human_trust_in_every_stack_requires_mfa(synthesized):
    """No role anywhere lets an account or user principal in without MFA, unless an aws:PrincipalArn
    condition narrows it to named roles: IAM Identity Center permission-set roles (people, whose MFA
    is Identity Center's; such a trust must not ask for the MFA key they never carry) or other roles
    (a workload). AWS service trusts are not human."""
    for stack in synthesized.stack_names:
        for conf in synthesized.resources(stack, "aws_iam_role").values():
            for stmt in json.loads(conf["assume_role_policy"])["Statement"]:
                principal = stmt.get("Principal", {})
                aws_principals = principal.get("AWS", []) if isinstance(principal, dict) else [principal]
                aws_principals = aws_principals if isinstance(aws_principals, list) else [aws_principals]
                if not aws_principals or stmt["Effect"] != "Allow":
                    continue
                condition = stmt.get("Condition", {})
                named_roles = condition.get("ArnLike", {}).get("aws:PrincipalArn") or \
                    condition.get("ArnEquals", {}).get("aws:PrincipalArn")
                named_roles = [named_roles] if isinstance(named_roles, str) else named_roles
                mfa = condition.get("Bool", {}).get("aws:MultiFactorAuthPresent")
                if named_roles and all(":role/aws-reserved/sso.amazonaws.com/" in arn for arn in named_roles):
                    assert mfa is None, (stack, conf["name"])
                    continue
                if named_roles and all(":role/" in arn for arn in named_roles):
                    continue
                assert mfa == "true", (stack, conf["name"])


# --- trust kinds from config (pure: the same function the synthesized roles use) -------------------

def _with_access(env: str, access: dict):
    config = load_env(env)
    merged = config.access.model_dump(exclude_unset=True) | access
    return config.model_copy(update={"access": AccessSettings.model_validate(merged)})


def test_saml_trust_requires_the_aws_sign_in_audience():
    saml = "arn:aws:iam::999900001111:saml-provider/corp-idp"
    config = _with_access("dev", {"trust": {"saml_provider_arn": saml, "idp_enforces_mfa": True}})
    trust = json.loads(trust_policy("ml-engineer", config))
    assert may_assume(trust, {"Federated": saml}, "sts:AssumeRoleWithSAML",
                      {"SAML:aud": "https://signin.aws.amazon.com/saml"})
    assert not may_assume(trust, {"Federated": saml}, "sts:AssumeRoleWithSAML", {"SAML:aud": "https://evil.example"})
    assert not may_assume(trust, {"Federated": saml}, "sts:AssumeRole")
    assert not uses_iam_mfa("ml-engineer", config)  # the IdP enforces MFA (declared)


def test_oidc_trust_checks_audience_and_subject():
    provider = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    config = _with_access("dev", {"personas": {"app-invoker": {"trust": {"oidc": {
        "provider_arn": provider, "audience": "sts.amazonaws.com",
        "subjects": ["repo:example/inference-client:environment:dev"]}}}}})
    trust = json.loads(trust_policy("app-invoker", config))
    ok = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": "repo:example/inference-client:environment:dev"}
    assert may_assume(trust, {"Federated": provider}, "sts:AssumeRoleWithWebIdentity", ok)
    for key, bad in (("token.actions.githubusercontent.com:sub", "repo:example/other:ref:refs/heads/main"),
                     ("token.actions.githubusercontent.com:aud", "other")):
        assert not may_assume(trust, {"Federated": provider}, "sts:AssumeRoleWithWebIdentity", ok | {key: bad})


def test_unconfigured_workload_trust_falls_back_to_named_workload_roles_not_the_account():
    config = _with_access("dev", {"personas": {}})
    trust = json.loads(trust_policy("app-invoker", config))
    n = Naming.of(config)
    workload = f"arn:aws:iam::{n.account_id}:role/{n.prefix}-workload-api"
    assert may_assume(trust, {"AWS": workload}, context={"aws:PrincipalArn": workload})
    admin = f"arn:aws:iam::{n.account_id}:role/Admin"
    assert not may_assume(trust, {"AWS": admin}, context={"aws:PrincipalArn": admin})


def test_human_trust_defaults_to_the_environment_account_with_mfa():
    config = load_env("dev")
    config = config.model_copy(update={"access": AccessSettings()})
    trust = json.loads(trust_policy("security-auditor", config))
    me = {"AWS": f"arn:aws:iam::{config.account_id}:role/sso-auditors"}
    assert may_assume(trust, me, context={"aws:MultiFactorAuthPresent": "true"})
    assert not may_assume(trust, me)


def test_persona_inline_policies_fit_the_iam_role_policy_quota(env_iam):
    """IAM refuses a role whose inline policies together exceed 10,240 characters (whitespace not counted):
    the edge statements pushed the break-glass admin's policy close to it, so its margin is held here."""
    for persona in PERSONAS:
        size = sum(len("".join(json.dumps(doc, separators=(",", ":")).split())) for doc in env_iam.persona(persona).inline)
        assert size <= 10_240, (persona, size)
