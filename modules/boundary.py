"""The permission boundary every role of an environment carries.

It caps what any role can ever do, whatever policies are attached later: only the services the
architecture uses, only in the environment's regions, and no way to escape the boundary (no users,
no access keys, no roles without this boundary, no edits to the boundary itself).
It is created in the `<env>-data` stack, the first stack that creates roles; the others refer to it
by its conventional ARN.
"""
from __future__ import annotations

from modules.iam_doc import document, statement
from modules.naming import Naming

# Services the project's roles may use at most (each role's own policy narrows this further).
ALLOWED_SERVICES = (
    "application-autoscaling", "autoscaling", "cloudwatch", "dynamodb", "ec2", "ecr", "elasticfilesystem",
    "elasticloadbalancing", "events", "kms", "lambda", "logs", "s3", "sagemaker", "sns", "sqs", "ssm",
    "sts", "xray", "cloudtrail", "config", "guardduty", "securityhub", "inspector2", "macie2",
    "access-analyzer", "backup", "budgets", "ce", "wafv2", "cloudfront", "signer", "tag",
)
# Global services that the region guard must not block.
GLOBAL_SERVICES = ("iam:*", "sts:*", "cloudfront:*", "budgets:*", "ce:*", "organizations:*", "support:*")


def boundary_name(naming: Naming) -> str:
    return naming.resource("permission-boundary")


def boundary_arn(naming: Naming) -> str:
    return f"arn:aws:iam::{naming.account_id}:policy/{boundary_name(naming)}"


def boundary_document(naming: Naming) -> str:
    own_arn = boundary_arn(naming)
    return document(
        statement("AllowArchitectureServices", "Allow", [f"{svc}:*" for svc in ALLOWED_SERVICES], "*"),
        statement("AllowReadIamAndPassEnvironmentRoles", "Allow",
                  ["iam:Get*", "iam:List*", "iam:PassRole"], "*"),
        statement("DenyOutsideEnvironmentRegions", "Deny", list(GLOBAL_SERVICES), "*", not_actions=True,
                  condition={"StringNotEquals": {"aws:RequestedRegion": sorted({naming.region, naming.dr_region})}}),
        statement("DenyLongLivedCredentials", "Deny",
                  ["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:CreateUser", "iam:UpdateLoginProfile"], "*"),
        statement("DenyBoundaryEscape", "Deny",
                  ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
                   "iam:PutUserPermissionsBoundary"], "*"),
        statement("DenyRolesWithoutThisBoundary", "Deny",
                  ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], "*",
                  condition={"StringNotEquals": {"iam:PermissionsBoundary": own_arn}}),
        statement("DenyBoundaryChanges", "Deny",
                  ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion",
                   "iam:SetDefaultPolicyVersion"], own_arn),
        statement("DenyLeavingOrganization", "Deny", "organizations:LeaveOrganization", "*"),
    )
