"""Values later stacks need from earlier stacks (`<env>-data`, `<env>-platform`), found by naming convention.

KMS key ARNs are random, but their aliases follow the convention, so a later stack looks a key up
through `data "aws_kms_key"` by alias ARN instead of a cross-stack reference. One lookup per class
per stack; the construct id `kms-<class>` names the class, which the policy checks rely on.
"""
from __future__ import annotations

import hashlib
from typing import Any, Callable

from cdktf import TerraformStack
from constructs import Construct

from modules import aws

# AWS-managed prefix list of CloudFront's origin-facing addresses (VPC origins connect from these).
CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


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


def _shared(scope: Construct, construct_id: str, make: Callable[[TerraformStack, str], Any]) -> Any:
    """A lookup every construct of a stack asks the same question of: one data source per stack (created
    on first use, kept on the Python stack object), not one per model. Each data source is a jsii round
    trip to create and a vertex of checkov's graph, and every copy would read the same answer."""
    stack = TerraformStack.of(scope)
    cache = stack.__dict__.setdefault("_shared_lookups", {})
    found = cache.get(construct_id)
    if found is None:
        found = cache[construct_id] = make(stack, construct_id)
    return found


def ecr_repository_names_ref(scope: Construct) -> str:
    """Terraform expression of the region's ECR repository names (`data.aws_ecr_repositories`, one per stack)."""
    lookup = _shared(scope, "ecr-repositories", lambda stack, cid: aws.data_aws_ecr_repositories.DataAwsEcrRepositories(
        stack, cid).fqn)
    return f"{lookup}.names"


def cloudfront_origin_facing_prefix_list_id(scope: Construct) -> str:
    """ID of CloudFront's origin-facing managed prefix list (one lookup per stack)."""
    return _shared(scope, "cloudfront-origin-facing", lambda stack, cid: aws.data_aws_ec2_managed_prefix_list
                   .DataAwsEc2ManagedPrefixList(stack, cid, name=CLOUDFRONT_ORIGIN_FACING).id)


def ami_from_parameter(scope: Construct, parameter: str) -> tuple[str, str]:
    """(image id, root device name) of the AMI an AWS public SSM parameter names (e.g. the Deep Learning
    AMI's `.../latest/ami-id`), owned by Amazon: one parameter and one AMI lookup per stack and parameter."""
    suffix = hashlib.sha256(parameter.encode()).hexdigest()[:8]

    def make(stack: TerraformStack, construct_id: str) -> tuple[str, str]:
        value = aws.data_aws_ssm_parameter.DataAwsSsmParameter(stack, f"ami-parameter-{suffix}", name=parameter)
        image = aws.data_aws_ami.DataAwsAmi(
            stack, construct_id, owners=["amazon"], most_recent=True,
            filter=[aws.data_aws_ami.DataAwsAmiFilter(name="image-id", values=[value.insecure_value])])
        return image.id, image.root_device_name
    return _shared(scope, f"ami-{suffix}", make)
