"""VPC endpoints: AWS APIs stay on the AWS network, and the VPC needs no internet path to reach them.

Interface endpoints (private DNS) sit in the private subnets behind one security group that admits
HTTPS from the VPC CIDR only. Their policies admit only principals of this account. The S3 gateway
endpoint admits this account's principals to the project's buckets the workloads use, and anyone
in the VPC to exactly the AWS-owned buckets they download from (read only, see
modules/platform/aws_owned_buckets.py): ECR image layers always, the SSM and GuardDuty agents'
packages whenever the VPC runs instances. A gateway endpoint's prefix-list route is more specific
than a NAT gateway's 0.0.0.0/0, so in-region S3 traffic goes through the endpoint (and its policy)
even when there is a NAT gateway. The DynamoDB one admits only the project's tables.

A VPC that runs instances (GPU fleets) also gets the Systems Manager endpoints (ssm, ssmmessages,
ec2messages): SSM Agent registers the instance and receives commands through them, and both
GuardDuty's automated agent management and Inspector's EC2 scanning reach instances only through
SSM. They keep AWS's default endpoint policy: the agent's message channels authenticate with the
instance role, whose own policy is the control. GuardDuty creates its `guardduty-data` endpoint
itself (automated agent configuration), behind a security group admitting 443 from the VPC.
"""
from __future__ import annotations

import functools

from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.iam_doc import document, statement
from modules.platform.aws_owned_buckets import ecr_layer_bucket, guardduty_agent_buckets, objects, ssm_agent_buckets
from modules.platform.context import PlatformContext
from modules.platform.network import Network
from modules.serving import KINDS

# Endpoint service suffix → the IAM service prefix its policy admits.
INTERFACE_SERVICES = {
    "sagemaker.api": "sagemaker",
    "sagemaker.runtime": "sagemaker",
    "sts": "sts",
    "kms": "kms",
    "logs": "logs",
    "monitoring": "cloudwatch",
    "ecr.api": "ecr",
    "ecr.dkr": "ecr",
}
# The training lane's own (modules/training.py): Studio apps and processing jobs read the training job
# template from SSM Parameter Store.
TRAINING_INTERFACE_SERVICES = {"ssm": "ssm"}
# Buckets the VPC's workloads read and write: training jobs (the boundary keeps them in the VPC)
# read datasets and write artifacts; endpoints, fleets and functions read artifacts and write
# inference data.
WORKLOAD_BUCKETS = ("datasets", "model-artifacts", "inference")
S3_ACTIONS = ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:GetObjectVersion",
              "s3:ListBucket", "s3:ListMultipartUploadParts", "s3:PutObject"]
DYNAMODB_ACTIONS = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
                    "dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
                    "dynamodb:Query", "dynamodb:UpdateItem"]


# Systems Manager's endpoints, for SSM Agent on the instances (registration, documents, commands).
SSM_AGENT_SERVICES = ("ssm", "ssmmessages", "ec2messages")


def runs_instances(config: EnvConfig) -> bool:
    return any(KINDS[m.serving].instances for m in config.platform.models)


def agent_buckets(config: EnvConfig) -> list[str]:
    """AWS-owned buckets the instances' agents download from through the S3 endpoint, whenever the VPC
    runs instances (GPU fleets): with or without NAT, in-region S3 traffic takes the gateway endpoint.
    SSM Agent always; GuardDuty's security agent when runtime monitoring installs it."""
    region = config.region
    if not runs_instances(config):
        return []
    buckets = ssm_agent_buckets(region)
    if config.access.guardduty.runtime_monitoring:
        buckets += guardduty_agent_buckets(region)
    return buckets


def s3_endpoint_policy(ctx: PlatformContext, agents: list[str]) -> str:
    buckets = [ctx.bucket_arn(p) for p in WORKLOAD_BUCKETS]
    statements = [
        statement("ProjectBucketsOnly", "Allow", S3_ACTIONS, buckets + [f"{b}/*" for b in buckets], principal="*",
                  condition={"StringEquals": {"aws:PrincipalAccount": ctx.naming.account_id}}),
        # ECR presigns layer downloads with its own account: an aws:PrincipalAccount condition fails every pull.
        statement("EcrImageLayers", "Allow", "s3:GetObject", objects(ecr_layer_bucket(ctx.naming.region)),
                  principal="*"),
    ]
    if agents:
        # The agents' downloads may be unauthenticated: no principal condition can hold for them.
        statements.append(statement("AgentPackages", "Allow", "s3:GetObject", [objects(b) for b in agents],
                                    principal="*"))
    return document(*statements)


def dynamodb_endpoint_policy(ctx: PlatformContext) -> str:
    n = ctx.naming
    tables = f"arn:aws:dynamodb:{n.region}:{n.account_id}:table/{n.prefix}-*"
    return document(statement("ProjectTablesOnly", "Allow", DYNAMODB_ACTIONS, [tables, f"{tables}/index/*"],
                              principal="*", condition={"StringEquals": {"aws:PrincipalAccount": n.account_id}}))


class Endpoints(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, network: Network,
                 agent_buckets: list[str], *, ssm_agents: bool = False, training: bool = False):
        """`ssm_agents`: the VPC runs instances whose SSM Agent needs Systems Manager's endpoints;
        `training`: Studio apps read the training job template from SSM."""
        super().__init__(scope, construct_id)
        naming, region = ctx.naming, ctx.naming.region
        self.security_group = aws.security_group.SecurityGroup(
            self, "security-group", name=naming.resource("vpc-endpoints"), vpc_id=network.vpc_id,
            description="Interface VPC endpoints: HTTPS from inside the VPC only",
            tags={"Name": naming.resource("vpc-endpoints")})
        security_group_id = self.security_group.id  # read once: each attribute read is a jsii round trip
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, "https-from-vpc", security_group_id=security_group_id, ip_protocol="tcp",
            from_port=443, to_port=443, cidr_ipv4=network.cidr, description="HTTPS from the VPC CIDR")
        self.interface = {}
        services = {**INTERFACE_SERVICES, **(TRAINING_INTERFACE_SERVICES if training else {})}
        for service, iam_prefix in services.items():
            self.interface[service] = aws.vpc_endpoint.VpcEndpoint(
                self, service.replace(".", "-"), vpc_id=network.vpc_id,
                service_name=f"com.amazonaws.{region}.{service}", vpc_endpoint_type="Interface",
                private_dns_enabled=True, subnet_ids=network.private_subnet_ids,
                security_group_ids=[security_group_id],
                policy=document(statement(
                    "ThisAccountOnly", "Allow", f"{iam_prefix}:*", "*", principal="*",
                    condition={"StringEquals": {"aws:PrincipalAccount": naming.account_id}})),
                tags={"Name": naming.resource(service.replace(".", "-"))})
        for service in SSM_AGENT_SERVICES if ssm_agents else ():
            if service in self.interface:  # one endpoint per service and VPC (private DNS names collide)
                continue
            self.interface[service] = aws.vpc_endpoint.VpcEndpoint(
                self, service, vpc_id=network.vpc_id, service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface", private_dns_enabled=True, subnet_ids=network.private_subnet_ids,
                security_group_ids=[security_group_id], tags={"Name": naming.resource(service)})
        route_tables = [t.id for t in network.private_route_tables]
        self.s3 = aws.vpc_endpoint.VpcEndpoint(
            self, "s3", vpc_id=network.vpc_id, service_name=f"com.amazonaws.{region}.s3",
            vpc_endpoint_type="Gateway", route_table_ids=route_tables, policy=s3_endpoint_policy(ctx, agent_buckets),
            tags={"Name": naming.resource("s3")})
        self.dynamodb = aws.vpc_endpoint.VpcEndpoint(
            self, "dynamodb", vpc_id=network.vpc_id, service_name=f"com.amazonaws.{region}.dynamodb",
            vpc_endpoint_type="Gateway", route_table_ids=route_tables, policy=dynamodb_endpoint_policy(ctx),
            tags={"Name": naming.resource("dynamodb")})

    @functools.cached_property
    def gateway_prefix_lists(self) -> list[str]:
        """Prefix lists of the S3 and DynamoDB gateway endpoints (for security-group egress rules)."""
        return [self.s3.prefix_list_id, self.dynamodb.prefix_list_id]
