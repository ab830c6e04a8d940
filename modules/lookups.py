"""Values later stacks need from earlier stacks (`<env>-data`, `<env>-platform`), found by naming convention.

KMS key ARNs are random, but their aliases follow the convention, so a later stack looks a key up
through `data "aws_kms_key"` by alias ARN instead of a cross-stack reference. One lookup per class
per stack; the construct id `kms-<class>` names the class, which the policy checks rely on.
"""
from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from modules import aws


def data_key_arn(scope: Construct, key_class: str) -> str:
    """ARN of the environment's `<class>` data key, via the `aws_kms_key` lookup of the pillar stack
    that `scope` is in (created on first use), so a construct needs no stack handed to it for it."""
    stack = TerraformStack.of(scope)
    construct_id = f"kms-{key_class}"
    existing = stack.node.try_find_child(construct_id)
    if existing is None:
        existing = aws.data_aws_kms_key.DataAwsKmsKey(
            stack, construct_id, key_id=stack.naming.kms_alias_arn(key_class))
    return existing.arn


def environment_vpc_id(scope: Construct) -> str:
    """ID of the environment's VPC (`<env>-platform`), via an `aws_vpc` lookup by its Name tag in the stack that
    `scope` is in (created on first use): AWS assigns the id, so only a lookup after apply knows it."""
    stack = TerraformStack.of(scope)
    existing = stack.node.try_find_child("environment-vpc")
    if existing is None:
        existing = aws.data_aws_vpc.DataAwsVpc(stack, "environment-vpc", tags={"Name": stack.naming.resource("vpc")})
    return existing.id
