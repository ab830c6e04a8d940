"""The environment's VPC: private subnets in every AZ, optional NAT egress, flow logs, a locked default SG.

Subnets are carved from the VPC CIDR as blocks of /(prefix+4): private subnets take blocks 0..n-1,
public subnets (only with egress, for NAT gateways and internet-facing ALBs) blocks 8..8+n-1.
AZs are pinned by name (config), so a new AZ never
silently joins. No subnet ever maps public IPs to instances. Without egress there is no internet gateway at all:
AWS APIs are reached through VPC endpoints (modules/platform/endpoints.py).

The account's default VPC in the region (if it still exists; the data source finds none otherwise)
gets the same treatment without being managed: its default security group is adopted and emptied and
its traffic goes to the flow-log group. AWS Config's VPC_DEFAULT_SECURITY_GROUP_CLOSED and
VPC_FLOW_LOGS_ENABLED judge every VPC of the region, not only the environment's.
`aws_default_vpc` is not used: it would create a default VPC where none exists.
"""
from __future__ import annotations

import functools
import ipaddress
from typing import Any

from cdktf import TerraformIterator, Token
from constructs import Construct

from modules import aws
from modules.iam_doc import statement
from modules.platform.context import PlatformContext
from modules.platform.log_group import encrypted_log_group
from modules.platform.service_roles import ServiceRole
from modules.platform.settings import NetworkSettings

PUBLIC_BLOCK_OFFSET = 8


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(private, public) subnet CIDRs for `az_count` AZs."""
    network = ipaddress.IPv4Network(vpc_cidr)
    blocks = list(network.subnets(new_prefix=network.prefixlen + 4))
    private = [str(blocks[i]) for i in range(az_count)]
    public = [str(blocks[PUBLIC_BLOCK_OFFSET + i]) for i in range(az_count)]
    return private, public


class Network(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, settings: NetworkSettings):
        super().__init__(scope, construct_id)
        naming = ctx.naming
        self.cidr = settings.vpc_cidr
        self.az_count = settings.az_count
        self.egress = settings.egress

        self.zones = settings.zone_names(ctx.naming.region)
        self.vpc = aws.vpc.Vpc(
            self, "vpc", cidr_block=settings.vpc_cidr, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": naming.resource("vpc")})
        # Read once: every subnet, route table, endpoint and security group names the VPC, and each
        # attribute read is a jsii round trip.
        self.vpc_id: str = self.vpc.id
        # The default security group: adopted and stripped of every rule, so nothing can use it.
        self.default_security_group = aws.default_security_group.DefaultSecurityGroup(
            self, "default-security-group", vpc_id=self.vpc_id, ingress=[], egress=[],
            tags={"Name": naming.resource("default-do-not-use")})

        private_cidrs, public_cidrs = subnet_cidrs(settings.vpc_cidr, settings.az_count)
        self.private_subnets = [
            aws.subnet.Subnet(
                self, f"private-{i}", vpc_id=self.vpc_id, cidr_block=cidr,
                availability_zone=self.zones[i], map_public_ip_on_launch=False,
                tags={"Name": naming.resource(f"private-{i}"), "Tier": "private"})
            for i, cidr in enumerate(private_cidrs)]
        self.public_subnets: list[Any] = []  # provider bindings are untyped
        self.nat_gateways: list[Any] = []
        if settings.egress:
            self._public_egress(naming, public_cidrs, settings.nat_gateway_per_az)
        self.private_route_tables = []
        for i, subnet in enumerate(self.private_subnets):
            table = aws.route_table.RouteTable(
                self, f"private-routes-{i}", vpc_id=self.vpc_id,
                tags={"Name": naming.resource(f"private-{i}"), "Tier": "private"})
            if self.nat_gateways:
                nat = self.nat_gateways[i] if settings.nat_gateway_per_az else self.nat_gateways[0]
                aws.route.Route(self, f"private-routes-{i}-egress", route_table_id=table.id,
                                destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            aws.route_table_association.RouteTableAssociation(
                self, f"private-routes-{i}-association", subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)
        self._flow_logs(ctx, settings.flow_log_aggregation_seconds)

    # Read once: every model's VPC settings name the subnets, and each attribute read is a jsii round trip.
    @functools.cached_property
    def private_subnet_ids(self) -> list[str]:
        return [s.id for s in self.private_subnets]

    @functools.cached_property
    def public_subnet_ids(self) -> list[str]:
        return [s.id for s in self.public_subnets]

    def _public_egress(self, naming, public_cidrs: list[str], nat_per_az: bool) -> None:
        igw = aws.internet_gateway.InternetGateway(
            self, "internet-gateway", vpc_id=self.vpc_id, tags={"Name": naming.resource("igw")})
        table = aws.route_table.RouteTable(
            self, "public-routes", vpc_id=self.vpc_id, tags={"Name": naming.resource("public"), "Tier": "public"})
        aws.route.Route(self, "public-routes-internet", route_table_id=table.id,
                        destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        for i, cidr in enumerate(public_cidrs):
            subnet = aws.subnet.Subnet(
                self, f"public-{i}", vpc_id=self.vpc_id, cidr_block=cidr,
                availability_zone=self.zones[i], map_public_ip_on_launch=False,
                tags={"Name": naming.resource(f"public-{i}"), "Tier": "public"})
            aws.route_table_association.RouteTableAssociation(
                self, f"public-{i}-association", subnet_id=subnet.id, route_table_id=table.id)
            self.public_subnets.append(subnet)
        for i in range(len(public_cidrs) if nat_per_az else 1):
            eip = aws.eip.Eip(self, f"nat-{i}-ip", domain="vpc", tags={"Name": naming.resource(f"nat-{i}")},
                              depends_on=[igw])
            self.nat_gateways.append(aws.nat_gateway.NatGateway(
                self, f"nat-{i}", allocation_id=eip.allocation_id, subnet_id=self.public_subnets[i].id,
                connectivity_type="public", tags={"Name": naming.resource(f"nat-{i}")}, depends_on=[igw]))

    def _flow_logs(self, ctx: PlatformContext, aggregation_seconds: int) -> None:
        naming = ctx.naming
        name = ctx.log_group_name("vpc", "flow-logs")
        group = encrypted_log_group(self, "flow-log-group", name=name, kms_key_arn=ctx.keys.audit,
                                    retention_days=ctx.log_retention_days, protected=ctx.deletion_protection)
        arn = ctx.log_group_arn(name)
        role = ServiceRole(
            self, "flow-log-role", naming=naming, purpose="vpc-flow-logs", service="vpc-flow-logs.amazonaws.com",
            description="VPC flow logs delivery into their own encrypted log group",
            statements=[
                statement("DeliverFlowLogs", "Allow",
                          ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                          [arn, f"{arn}:log-stream:*"]),
            ])
        self.flow_log = aws.flow_log.FlowLog(
            self, "flow-log", vpc_id=self.vpc_id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
            log_destination=group.arn, iam_role_arn=role.arn,
            max_aggregation_interval=aggregation_seconds,
            tags={"Name": naming.resource("vpc-flow-logs")})
        self._lock_down_default_vpc(ctx, group.arn, role.arn, aggregation_seconds)

    def _lock_down_default_vpc(self, ctx: PlatformContext, log_group_arn: str, role_arn: str,
                               aggregation_seconds: int) -> None:
        naming = ctx.naming
        found = aws.data_aws_vpcs.DataAwsVpcs(
            self, "default-vpc", filter=[aws.data_aws_vpcs.DataAwsVpcsFilter(name="isDefault", values=["true"])])
        each = TerraformIterator.from_list(found.ids)
        self.default_vpc_security_group = aws.default_security_group.DefaultSecurityGroup(
            self, "default-vpc-security-group", for_each=each, vpc_id=Token.as_string(each.value), ingress=[], egress=[],
            tags={"Name": naming.resource("default-vpc-do-not-use")})
        each = TerraformIterator.from_list(found.ids)
        self.default_vpc_flow_log = aws.flow_log.FlowLog(
            self, "default-vpc-flow-log", for_each=each, vpc_id=Token.as_string(each.value), traffic_type="ALL",
            log_destination_type="cloud-watch-logs", log_destination=log_group_arn, iam_role_arn=role_arn,
            max_aggregation_interval=aggregation_seconds, tags={"Name": naming.resource("default-vpc-flow-logs")})
