"""Persona roles: who may assume them (trust), how long, and what they may do.

Trust comes from config: an identity account, a SAML provider, an OIDC provider (audience and
subjects), or a list of principal ARNs, in a mode (`access.trust.mode`):
- iam-mfa: IAM principals; human roles require MFA (`aws:MultiFactorAuthPresent`), and their
  policy denies every session without it;
- identity-center: the IAM Identity Center permission-set roles (`AWSReservedSSO_<set>_*`) of the
  identity account, one permission set per persona and environment. Identity Center sessions never
  carry the MFA key, so requiring it would lock everyone out: MFA is Identity Center's, at sign-in,
  and the config must declare it (`idp_enforces_mfa`);
- saml: a SAML provider whose identity provider enforces MFA (declared the same way).
The workload persona (app-invoker) has no MFA and only named principals. Every role carries the
environment's permission boundary.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.access.persona_policies import persona_policy
from modules.access.settings import WORKLOAD_PERSONAS, PersonaName, Trust
from modules.boundary import boundary_arn
from modules.config import EnvConfig
from modules.iam_doc import document, statement
from modules.naming import Naming
from modules.suppress import suppress

SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"


def permission_set_roles(account_id: str, permission_set: str) -> str:
    """The roles IAM Identity Center creates for a permission set in an account: path
    `aws-reserved/sso.amazonaws.com/[<region>/]`, name `AWSReservedSSO_<set>_<random suffix>` (the suffix
    changes when the set is re-assigned, so the trust matches it with a wildcard, as AWS recommends)."""
    return f"arn:aws:iam::{account_id}:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_{permission_set}_*"


def workload_pattern(naming: Naming) -> str:
    """Default principals of a workload persona: this account's `<prefix>-workload-*` roles."""
    return f"arn:aws:iam::{naming.account_id}:role/{naming.prefix}-workload-*"


def effective_trust(persona: PersonaName, config: EnvConfig) -> Trust:
    naming = Naming.of(config)
    return config.access.trust_of(persona, config.account_id, workload_pattern(naming))


def uses_iam_mfa(persona: PersonaName, config: EnvConfig) -> bool:
    """Human persona in iam-mfa mode: AWS sets aws:MultiFactorAuthPresent on its sessions."""
    return persona not in WORKLOAD_PERSONAS and effective_trust(persona, config).effective_mode == "iam-mfa"


def trust_policy(persona: PersonaName, config: EnvConfig) -> str:
    trust = effective_trust(persona, config)
    human = persona not in WORKLOAD_PERSONAS
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}} if human else {}
    if human and trust.effective_mode == "identity-center":
        assert trust.identity_account_id is not None, f"identity-center trust of {persona} has no account"
        permission_set = config.access.permission_set(persona, config.project, config.name)
        return document(statement(
            "AssumeFromIdentityCenter", "Allow", ["sts:AssumeRole", "sts:SetSourceIdentity"],
            principal={"AWS": f"arn:aws:iam::{trust.identity_account_id}:root"},
            condition={"ArnLike": {"aws:PrincipalArn": [permission_set_roles(trust.identity_account_id,
                                                                              permission_set)]}}))
    # A Trust holds exactly one of its kinds (its validator): the one that is set decides.
    if trust.identity_account_id is not None:
        return document(statement(
            "AssumeFromIdentityAccount", "Allow", ["sts:AssumeRole", "sts:SetSourceIdentity"],
            principal={"AWS": f"arn:aws:iam::{trust.identity_account_id}:root"}, condition=mfa or None))
    if trust.principal_arns is not None:
        # Account principals plus an aws:PrincipalArn condition: named roles (wildcards allowed) that
        # may be re-created without breaking the trust, and nothing else in those accounts.
        accounts = sorted({f"arn:aws:iam::{arn.split(':')[4]}:root" for arn in trust.principal_arns})
        condition = {"ArnLike": {"aws:PrincipalArn": sorted(trust.principal_arns)}, **mfa}
        return document(statement(
            "AssumeFromNamedPrincipals", "Allow", ["sts:AssumeRole", "sts:SetSourceIdentity"],
            principal={"AWS": accounts}, condition=condition))
    if trust.saml_provider_arn is not None:
        return document(statement(
            "AssumeWithSaml", "Allow", ["sts:AssumeRoleWithSAML", "sts:TagSession"],
            principal={"Federated": trust.saml_provider_arn},
            condition={"StringEquals": {"SAML:aud": SAML_AUDIENCE}}))
    oidc = trust.oidc
    assert oidc is not None, f"trust of {persona} has no kind"
    host = oidc.provider_host
    return document(statement(
        "AssumeWithWebIdentity", "Allow", "sts:AssumeRoleWithWebIdentity",
        principal={"Federated": oidc.provider_arn},
        condition={"StringEquals": {f"{host}:aud": oidc.audience},
                   "StringLike": {f"{host}:sub": sorted(oidc.subjects)}}))


def account_principal_narrowed_to(persona: PersonaName, config: EnvConfig) -> str | None:
    """What the conditions of `trust_policy` narrow an account principal to, in words; None when the
    trust names no account principal, or one no condition narrows (a workload trusting a whole account)."""
    trust = effective_trust(persona, config)
    kind, human = trust.kind, persona not in WORKLOAD_PERSONAS
    if kind == "identity_account_id" and human and trust.effective_mode == "identity-center":
        return ("only the IAM Identity Center roles of the persona's permission set (ArnLike "
                "aws:PrincipalArn) in the configured identity account")
    if kind == "identity_account_id" and human:
        return ("only sessions with MFA (Bool aws:MultiFactorAuthPresent), from the configured identity "
                "account")
    if kind == "principal_arns":
        return ("only the configured role ARNs (ArnLike aws:PrincipalArn), which survive re-creation of "
                "those roles")
    return None


class PersonaRoles(Construct):
    """One role (and one inline policy) per enabled persona."""

    def __init__(self, scope: Construct, construct_id: str, *, config: EnvConfig):
        super().__init__(scope, construct_id)
        naming = Naming.of(config)
        self.roles = {}
        for persona in config.access.enabled_personas():
            role = aws.iam_role.IamRole(
                self, persona,
                name=naming.role(persona),
                description=f"Aegis {persona} persona of {config.name}",
                assume_role_policy=trust_policy(persona, config),
                max_session_duration=config.access.session_hours(persona) * 3600,
                permissions_boundary=boundary_arn(naming),
            )
            narrowed = account_principal_narrowed_to(persona, config)
            if narrowed:
                # CKV_AWS_61 fails any account principal, whatever the conditions narrow it to.
                suppress(role, "CKV_AWS_61", f"The account principal is narrowed by conditions to {narrowed}; "
                         "the permission boundary caps the session", "2027-11-30")
            aws.iam_role_policy.IamRolePolicy(
                self, f"{persona}-policy", name=persona, role=role.id,
                policy=persona_policy(persona, config, mfa_guard_statement=uses_iam_mfa(persona, config)))
            self.roles[persona] = role
