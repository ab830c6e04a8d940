"""IAM statements that several constructs grant, written once (the idea of aws-cdk's `grant*` methods).

Each helper returns its statements in the order a policy lists them, with the Sids, actions and
resources the constructs have always written, so the synthesized JSON does not change when a
construct uses one. Identity-policy grants first, then resource-policy and key-policy statements.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modules.iam_doc import Statement, statement

if TYPE_CHECKING:
    from modules.data.key_users import KeyUsers

# Everything a key administrator may do to a key: manage it, never use it.
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion", "kms:Create*", "kms:Delete*", "kms:Describe*", "kms:Disable*",
    "kms:Enable*", "kms:Get*", "kms:List*", "kms:Put*", "kms:Revoke*", "kms:ScheduleKeyDeletion",
    "kms:TagResource", "kms:UntagResource", "kms:Update*",
]
# What using a key means: reading or writing data under it, or handing that to a grantee. Everything
# else (DescribeKey, policies, rotation, aliases) is administration and stays with IAM.
KEY_USE_ACTIONS = ["kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]


# --- identity policies of workload roles ---------------------------------------------------------

def read_own_model_artifacts(artifacts_bucket_arn: str, *prefixes: str) -> list[Statement]:
    """Read and list only one model's folders (`prefixes`) of the model-artifacts bucket."""
    objects = [f"{artifacts_bucket_arn}/{prefix}*" for prefix in prefixes]
    listed = [f"{prefix}*" for prefix in prefixes]
    return [
        statement("ReadOwnModelArtifacts", "Allow", "s3:GetObject", objects[0] if len(objects) == 1 else objects),
        statement("ListOwnModelArtifacts", "Allow", "s3:ListBucket", artifacts_bucket_arn,
                  condition={"StringLike": {"s3:prefix": listed[0] if len(listed) == 1 else listed}}),
    ]


def pull_own_image(repository_arn: str) -> list[Statement]:
    """Pull images from one ECR repository (and get the registry token every pull needs)."""
    return [
        statement("PullOwnImage", "Allow",
                  ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                  repository_arn),
        # ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        statement("EcrAuthorizationToken", "Allow", "ecr:GetAuthorizationToken", "*"),
    ]


def write_log_streams(sid: str, log_group_arn: str) -> Statement:
    """Write events into the streams of one existing log group (created, encrypted, by its stack)."""
    return statement(sid, "Allow", ["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group_arn}:log-stream:*")


# --- resource policies -----------------------------------------------------------------------------

def deny_insecure_transport(actions: str | list[str], resources: str | list[str], *,
                            principal: Any = "*") -> Statement:
    """Refuse every request to the resource that does not come over TLS."""
    return statement("DenyInsecureTransport", "Deny", actions, resources, principal=principal,
                     condition={"Bool": {"aws:SecureTransport": "false"}})


# --- key policies ----------------------------------------------------------------------------------

def key_administration(account_root: str, key_admin_arn: str) -> list[Statement]:
    """The account delegates to IAM (as AWS recommends); the key administrators manage, never use, the key."""
    return [
        statement("AccountAdmin", "Allow", "kms:*", "*", principal={"AWS": account_root}),
        statement("KeyAdministrators", "Allow", KEY_ADMIN_ACTIONS, "*", principal={"AWS": key_admin_arn}),
    ]


def key_use_restrictions(users: "KeyUsers", region: str) -> list[Statement]:
    """Denies that make the key policy itself decide who uses the key, whatever IAM grants.

    The account-root statement keeps delegating everything to IAM (so the root and the key
    administrators keep managing the key: no lock-out), but using the key is denied to every
    principal of the account except the named users, each through its own services only, and no
    one may create a grant except through an AWS service for an AWS resource."""
    def via(services: tuple[str, ...]) -> list[str]:
        return [f"{s}.{region}.amazonaws.com" for s in services]

    statements = [
        statement("DenyUseByOtherPrincipals", "Deny", KEY_USE_ACTIONS, "*", principal="*",
                  condition={"StringEquals": {"aws:PrincipalAccount": users.account_id},
                             "ArnNotLike": {"aws:PrincipalArn": users.exempt()}}),
    ]
    if users.roles:
        statements.append(statement(
            "DenyUsersOutsideTheirServices", "Deny", KEY_USE_ACTIONS, "*", principal="*",
            condition={"ArnLike": {"aws:PrincipalArn": list(users.roles)},
                       "StringNotEquals": {"kms:ViaService": via(users.services)}}))
    for n, (role, services) in enumerate(users.own_services):
        statements.append(statement(
            f"DenyUser{n}OutsideItsOwnServices", "Deny", KEY_USE_ACTIONS, "*", principal="*",
            condition={"ArnLike": {"aws:PrincipalArn": role},
                       "StringNotEquals": {"kms:ViaService": via(services)}}))
    if users.provisioners:
        statements.append(statement(
            "DenyProvisionersOutsideProvisioning", "Deny", KEY_USE_ACTIONS, "*", principal="*",
            condition={"ArnLike": {"aws:PrincipalArn": list(users.provisioners)},
                       "StringNotEquals": {"kms:ViaService": via(users.provisioning)}}))
    statements.append(statement(
        "DenyGrantsNotForAwsResources", "Deny", "kms:CreateGrant", "*", principal="*",
        condition={"BoolIfExists": {"kms:GrantIsForAWSResource": "false"}}))
    return statements


def logs_may_encrypt(region: str, account_id: str) -> Statement:
    """CloudWatch Logs of `region` may use the key, for this account's log groups there only."""
    return statement("CloudWatchLogsEncrypt", "Allow",
                     ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                     "*", principal={"Service": f"logs.{region}.amazonaws.com"},
                     condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                            f"arn:aws:logs:{region}:{account_id}:log-group:*"}})
