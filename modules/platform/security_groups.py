"""Security groups of the workloads: no ingress unless a caller adds one, and egress only to HTTPS
inside the VPC (interface endpoints) and to the S3/DynamoDB gateway endpoints; to the internet
(through NAT) only when the environment enables egress."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.platform.endpoints import Endpoints
from modules.platform.network import Network


def workload_security_group(scope: Construct, construct_id: str, *, name: str, description: str,
                            network: Network, endpoints: Endpoints, between_members: bool = False):
    """`between_members`: members reach each other on every protocol. Distributed training needs it, and
    inter-container traffic encryption (which the job guards force) runs IPsec between the instances:
    UDP 500 and ESP, IP protocol 50 (SageMaker developer guide, "Protect communications between ML compute
    instances in a distributed training job")."""
    sg = aws.security_group.SecurityGroup(
        scope, construct_id, name=name, vpc_id=network.vpc_id, description=description, tags={"Name": name})
    egress = aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule
    sg_id = sg.id  # read once: each attribute read is a jsii round trip
    egress(scope, f"{construct_id}-https-to-vpc", security_group_id=sg_id, ip_protocol="tcp", from_port=443,
           to_port=443, cidr_ipv4=network.cidr, description="HTTPS to the interface VPC endpoints")
    for i, prefix_list in enumerate(endpoints.gateway_prefix_lists):
        egress(scope, f"{construct_id}-https-to-gateway-{i}", security_group_id=sg_id, ip_protocol="tcp",
               from_port=443, to_port=443, prefix_list_id=prefix_list,
               description="HTTPS to the S3 and DynamoDB gateway endpoints")
    if between_members:
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            scope, f"{construct_id}-from-members", security_group_id=sg_id, ip_protocol="-1",
            referenced_security_group_id=sg_id, description="Distributed jobs: traffic between members (IPsec)")
        egress(scope, f"{construct_id}-to-members", security_group_id=sg_id, ip_protocol="-1",
               referenced_security_group_id=sg_id, description="Distributed jobs: traffic between members (IPsec)")
    if network.egress:
        egress(scope, f"{construct_id}-https-to-internet", security_group_id=sg_id, ip_protocol="tcp",
               from_port=443, to_port=443, cidr_ipv4="0.0.0.0/0",
               description="HTTPS to the internet through NAT (network.egress is enabled)")
    return sg
