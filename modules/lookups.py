"""Values later stacks need from the `<env>-data` stack, found by naming convention.

KMS key ARNs are random, but their aliases follow the convention, so a later stack looks a key up
through `data "aws_kms_key"` by alias ARN instead of a cross-stack reference. One lookup per class
per stack; the construct id `kms-<class>` names the class, which the policy checks rely on.
"""
from __future__ import annotations

from modules import aws


def data_key_arn(stack, key_class: str) -> str:
    """ARN of the environment's `<class>` data key, via a per-stack `aws_kms_key` lookup."""
    construct_id = f"kms-{key_class}"
    existing = stack.node.try_find_child(construct_id)
    if existing is None:
        existing = aws.data_aws_kms_key.DataAwsKmsKey(
            stack, construct_id, key_id=stack.naming.kms_alias_arn(key_class))
    return existing.arn
