"""A model's registry: one SageMaker model package group, with a resource policy.

It belongs to `<env>-data` with the model's image repository: `model publish --register` adds a
version between `<env>-data` and `<env>-platform`, and the platform plan deploys only an Approved
one. The policy denies the group to every principal of the account but the environment's roles and
the deployer (identity policies alone would let an account administrator register or approve), denies
setting a version Approved to every principal but the model-approver (the deployer included), and,
when the configuration names a promotion source account, lets that account register versions here,
always pending this environment's own approval (the boundary leaves approval to the model-approver).
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.boundary import APPROVED, APPROVER_PERSONA
from modules.iam_doc import document, statement
from modules.naming import Naming
from modules.training import package_group, package_group_arn, package_versions_arn

# What a model package group's resource policy can govern (SageMaker Developer Guide, cross-account
# model registry): the group, and its versions.
GROUP_ACTIONS = ("sagemaker:DescribeModelPackageGroup",)
# (sagemaker:CreateModel authorizes on `model` resources only: a group policy cannot govern it.)
VERSION_ACTIONS = ("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages",
                   "sagemaker:UpdateModelPackage")
APPROVAL_ACTIONS = ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage")
PROMOTION_ACTIONS = ("sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages")
PENDING = "PendingManualApproval"


@dataclass(frozen=True)
class ModelRegistryProps:
    naming: Naming
    model_name: str
    deployer_role_arn: str
    promotion_source_account_id: str | None = None


def registry_policy(props: ModelRegistryProps) -> str:
    n = props.naming
    group, versions = package_group_arn(n, props.model_name), package_versions_arn(n, props.model_name)
    statements = [statement(
        "DenyOtherPrincipalsOfTheAccount", "Deny", sorted(GROUP_ACTIONS + VERSION_ACTIONS), [group, versions],
        principal="*", condition={"StringEquals": {"aws:PrincipalAccount": n.account_id},
                                  "ArnNotLike": {"aws:PrincipalArn": sorted([n.role_arn_pattern,
                                                                             props.deployer_role_arn])}}),
        # The deployer and the account's administrators sit outside the boundary: only here is approval
        # theirs to lose too.
        statement("DenyApprovalExceptApprover", "Deny", list(APPROVAL_ACTIONS), versions, principal="*",
                  condition={"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVED},
                             "ArnNotEquals": {"aws:PrincipalArn": n.role_arn(APPROVER_PERSONA)}})]
    source = props.promotion_source_account_id
    if source:
        statements += [
            statement("PromotionSourceReadsGroup", "Allow", list(GROUP_ACTIONS), group,
                      principal={"AWS": f"arn:aws:iam::{source}:root"}),
            # An absent status is registered as PendingManualApproval; anything else is refused.
            statement("PromotionSourceRegistersPending", "Allow", list(PROMOTION_ACTIONS), versions,
                      principal={"AWS": f"arn:aws:iam::{source}:root"},
                      condition={"StringEqualsIfExists": {"sagemaker:ModelApprovalStatus": PENDING}}),
        ]
    return document(*statements)


class ModelRegistry(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ModelRegistryProps):
        super().__init__(scope, construct_id)
        name = package_group(props.naming, props.model_name)
        self.group = aws.sagemaker_model_package_group.SagemakerModelPackageGroup(
            self, "group", model_package_group_name=name,
            model_package_group_description=f"Registered versions of model {props.model_name}",
            tags={"Model": props.model_name})
        self.policy = aws.sagemaker_model_package_group_policy.SagemakerModelPackageGroupPolicy(
            self, "policy", model_package_group_name=self.group.model_package_group_name,
            resource_policy=registry_policy(props))
