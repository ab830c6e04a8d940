"""Model package groups (`<env>-data`): one per model, closed to the account's other principals, and
open to a promotion source account only for versions pending this environment's approval."""
from __future__ import annotations

import json

from modules.boundary import boundary_document
from modules.config import load_env
from modules.data.model_registry import ModelRegistryProps, registry_policy
from modules.naming import Naming
from modules.training import package_group
from policies.iam_eval import as_principal, evaluate

SOURCE = "444455556666"


def _decide(policy: dict, principal: str, action: str, resource: str, **context) -> str:
    return evaluate([policy], as_principal(principal, action, resource, context))


def test_one_group_per_model_with_its_policy(synthesized, env):
    config = load_env(env)
    groups = synthesized.resources(f"{env}-data", "aws_sagemaker_model_package_group")
    names = sorted(g["model_package_group_name"] for g in groups.values())
    assert names == sorted(package_group(Naming.of(config), m.name) for m in config.platform.models)
    policies = synthesized.resources(f"{env}-data", "aws_sagemaker_model_package_group_policy")
    assert len(policies) == len(groups)


def test_the_policy_denies_other_principals_of_the_account():
    config = load_env("prod")
    n = Naming.of(config)
    policy = json.loads(registry_policy(ModelRegistryProps(n, "fraud", config.deployer_role_arn)))
    versions = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.prefix}-fraud/4"
    admin = f"arn:aws:iam::{n.account_id}:role/AWSReservedSSO_AdministratorAccess_0123"
    assert _decide(policy, admin, "sagemaker:UpdateModelPackage", versions) == "Deny"
    assert _decide(policy, n.role_arn("model-approver"), "sagemaker:UpdateModelPackage", versions) != "Deny"
    assert _decide(policy, config.deployer_role_arn, "sagemaker:DescribeModelPackage", versions) != "Deny"
    # another account gets nothing without a promotion source
    assert _decide(policy, f"arn:aws:iam::{SOURCE}:role/x", "sagemaker:CreateModelPackage", versions) != "Allow"


def test_only_the_approver_sets_a_version_approved_not_even_the_deployer():
    config = load_env("prod")
    n = Naming.of(config)
    policy = json.loads(registry_policy(ModelRegistryProps(n, "fraud", config.deployer_role_arn)))
    versions = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.prefix}-fraud/4"
    approved = {"sagemaker:ModelApprovalStatus": "Approved"}
    for action in ("sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"):
        for principal in (config.deployer_role_arn, n.role_arn("ml-engineer")):
            assert _decide(policy, principal, action, versions, **approved) == "Deny", (principal, action)
        assert _decide(policy, n.role_arn("model-approver"), action, versions, **approved) != "Deny"
    # the deployer still registers pending versions (model publish --register)
    assert _decide(policy, config.deployer_role_arn, "sagemaker:CreateModelPackage", versions,
                   **{"sagemaker:ModelApprovalStatus": "PendingManualApproval"}) != "Deny"
    # a group policy cannot govern CreateModel (it authorizes on model resources): it names none
    assert all("sagemaker:CreateModel" not in s["Action"] for s in policy["Statement"])


def test_a_promotion_source_registers_only_pending_versions():
    config = load_env("prod")
    n = Naming.of(config)
    policy = json.loads(registry_policy(ModelRegistryProps(n, "fraud", config.deployer_role_arn, SOURCE)))
    versions = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.prefix}-fraud/4"
    promoter = f"arn:aws:iam::{SOURCE}:role/aegis-staging-ml-engineer"
    assert _decide(policy, promoter, "sagemaker:CreateModelPackage", versions,
                   **{"sagemaker:ModelApprovalStatus": "PendingManualApproval"}) == "Allow"
    assert _decide(policy, promoter, "sagemaker:CreateModelPackage", versions) == "Allow"  # absent: pending
    assert _decide(policy, promoter, "sagemaker:CreateModelPackage", versions,
                   **{"sagemaker:ModelApprovalStatus": "Approved"}) != "Allow"
    assert _decide(policy, promoter, "sagemaker:UpdateModelPackage", versions,
                   **{"sagemaker:ModelApprovalStatus": "Approved"}) != "Allow"


def test_the_boundary_stays_within_the_managed_policy_size_limit(env):
    """IAM refuses a managed policy over 6,144 characters (whitespace not counted)."""
    document = boundary_document(Naming.of(load_env(env)))
    assert len("".join(document.split())) <= 6144
