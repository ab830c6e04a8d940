"""The VPC of every environment: private subnets per AZ, no internet path unless egress is enabled,
flow logs, a rule-less default security group and VPC endpoints that stay inside the project."""
from __future__ import annotations

import ipaddress
import json

from modules.platform.aws_owned_buckets import ecr_layer_bucket, objects
from modules.platform.endpoints import (
    INTERFACE_SERVICES,
    SSM_AGENT_SERVICES,
    TRAINING_INTERFACE_SERVICES,
    WORKLOAD_BUCKETS,
    agent_buckets,
    runs_instances,
)
from tests.platform.conftest import as_list, ref, statements


def test_vpc_cidr_and_dns(view):
    (vpc,) = view.res("aws_vpc").values()
    assert vpc["cidr_block"] == view.config.platform.network.vpc_cidr
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True  # private DNS of endpoints


def test_private_subnets_in_distinct_azs(view):
    network = view.config.platform.network
    subnets = view.private_subnets().values()
    expected = {"dev": 2, "staging": 3, "prod": 3}[view.env]
    assert network.az_count == expected
    assert len(subnets) == expected
    zones = [s["availability_zone"] for s in subnets]
    assert len(set(zones)) == expected
    assert all(z[:-1] == view.config.region for z in zones)  # pinned names in the env's region
    vpc = ipaddress.IPv4Network(network.vpc_cidr)
    blocks = [ipaddress.IPv4Network(s["cidr_block"]) for s in view.res("aws_subnet").values()]
    assert all(b.subnet_of(vpc) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_no_subnet_maps_public_ips(view):
    for subnet in view.res("aws_subnet").values():
        assert subnet["map_public_ip_on_launch"] is False


def test_internet_gateway_only_with_egress(view):
    network = view.config.platform.network
    igws = view.res("aws_internet_gateway")
    nats = view.res("aws_nat_gateway")
    public = view.public_subnets()
    if not network.egress:
        assert view.env == "staging"  # the default fully private environment
        assert igws == {} and nats == {} and public == {} and view.res("aws_eip") == {}
        assert view.res("aws_route") == {}
        return
    assert len(igws) == 1
    expected_nats = network.az_count if network.nat_gateway_per_az else 1
    assert len(nats) == expected_nats == {"dev": 1, "prod": 3}[view.env]
    public_refs = {ref("aws_subnet", k, "id") for k in public}
    assert all(n["subnet_id"] in public_refs for n in nats.values())  # NAT only in public subnets
    assert len(view.res("aws_eip")) == expected_nats  # the only public addresses are the NATs'


def test_private_routes_go_through_nat_never_the_igw(view):
    igw_refs = {ref("aws_internet_gateway", k, "id") for k in view.res("aws_internet_gateway")}
    private_assoc = {a["route_table_id"] for a in view.res("aws_route_table_association").values()
                     if a["subnet_id"] in view.private_subnet_refs()}
    assert len(private_assoc) == view.config.platform.network.az_count  # one table per AZ
    for route in view.res("aws_route").values():
        if route["route_table_id"] in private_assoc:
            assert "gateway_id" not in route and route["nat_gateway_id"].startswith("${aws_nat_gateway.")
        else:
            assert route["gateway_id"] in igw_refs
    for table in view.res("aws_route_table").values():
        assert "route" not in table  # routes only as separate, inspectable resources
    if view.config.platform.network.nat_gateway_per_az:
        nat_targets = {r["nat_gateway_id"] for r in view.res("aws_route").values() if "nat_gateway_id" in r}
        assert len(nat_targets) == view.config.platform.network.az_count  # no cross-AZ NAT dependency


def test_flow_logs_capture_all_traffic_into_an_encrypted_group(view):
    (flow,) = [f for f in view.res("aws_flow_log").values() if "for_each" not in f]
    assert flow["traffic_type"] == "ALL"
    assert flow["vpc_id"] == view.vpc_ref()
    assert flow["log_destination_type"] == "cloud-watch-logs"
    group = view.get(flow["log_destination"])
    assert group["kms_key_id"] == view.key_ref("audit")
    assert group["retention_in_days"] == view.config.access.logs.retention_days
    role = view.get(flow["iam_role_arn"])
    trust = json.loads(role["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    logical = flow["iam_role_arn"].split(".")[1]
    (allow,) = statements(view.role_policy(logical))
    assert all(r.startswith(f"arn:aws:logs:{view.config.region}:{view.config.account_id}:log-group:/aegis/")
               for r in as_list(allow["Resource"]))


def test_default_security_group_has_no_rules(view):
    (default,) = [g for g in view.res("aws_default_security_group").values() if "for_each" not in g]
    assert default["vpc_id"] == view.vpc_ref()
    assert default.get("ingress", []) == [] and default.get("egress", []) == []


def test_the_accounts_default_vpc_is_closed_and_logged_without_being_managed(view):
    """AWS Config judges every VPC of the region; the default VPC is found, never created."""
    (lookup_id, lookup), = view.stack.get("data", {}).get("aws_vpcs", {}).items()
    assert lookup["filter"] == [{"name": "isDefault", "values": ["true"]}]
    assert "aws_default_vpc" not in view.stack["resource"]
    each_default = "${toset(data.aws_vpcs." + lookup_id + ".ids)}"
    (group,) = [g for g in view.res("aws_default_security_group").values() if g.get("for_each") == each_default]
    assert group["vpc_id"] == "${each.value}" and group["ingress"] == [] and group["egress"] == []
    (flow,) = [f for f in view.res("aws_flow_log").values() if f.get("for_each") == each_default]
    (own,) = [f for f in view.res("aws_flow_log").values() if "for_each" not in f]
    assert flow["vpc_id"] == "${each.value}" and flow["traffic_type"] == "ALL"
    assert (flow["log_destination"], flow["iam_role_arn"]) == (own["log_destination"], own["iam_role_arn"])


def test_interface_endpoints_private_dns_in_private_subnets(view):
    region = view.config.region
    interface = {v["service_name"]: v for v in view.res("aws_vpc_endpoint").values()
                 if v["vpc_endpoint_type"] == "Interface"}
    # Every environment runs a GPU fleet: its SSM Agent needs Systems Manager's three endpoints, NAT or not;
    # Studio apps read the training job template from SSM (one endpoint per service).
    assert runs_instances(view.config)
    training = view.config.platform.training.enabled
    services = {*INTERFACE_SERVICES, *SSM_AGENT_SERVICES, *(TRAINING_INTERFACE_SERVICES if training else ())}
    assert set(interface) == {f"com.amazonaws.{region}.{s}" for s in services}
    assert {"sagemaker.api", "sagemaker.runtime", "sts", "kms", "logs", "monitoring", "ecr.api", "ecr.dkr"} \
        == set(INTERFACE_SERVICES)
    (sg_logical, _) = view.one("aws_security_group", name=view.naming.resource("vpc-endpoints"))
    for name, endpoint in interface.items():
        assert endpoint["private_dns_enabled"] is True
        assert sorted(endpoint["subnet_ids"]) == view.private_subnet_refs()
        assert endpoint["security_group_ids"] == [ref("aws_security_group", sg_logical, "id")]
        service = name.rsplit(".", 1)[-1]
        if service in SSM_AGENT_SERVICES and not (training and service in TRAINING_INTERFACE_SERVICES):
            assert "policy" not in endpoint  # AWS's default policy; the instance role is the control
            continue
        for stmt in statements(json.loads(endpoint["policy"])):
            assert stmt["Condition"] == {"StringEquals": {"aws:PrincipalAccount": view.config.account_id}}


def test_endpoint_security_group_admits_https_from_the_vpc_only(view):
    (sg_logical, _) = view.one("aws_security_group", name=view.naming.resource("vpc-endpoints"))
    ingress = view.rules_of(sg_logical, "ingress")
    assert [(r["ip_protocol"], r["from_port"], r["to_port"], r.get("cidr_ipv4")) for r in ingress] == \
        [("tcp", 443, 443, view.config.platform.network.vpc_cidr)]
    assert view.rules_of(sg_logical, "egress") == []


def _gateway(view, service: str) -> dict:
    (endpoint,) = [v for v in view.res("aws_vpc_endpoint").values()
                   if v["service_name"] == f"com.amazonaws.{view.config.region}.{service}"]
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    private_tables = sorted({a["route_table_id"] for a in view.res("aws_route_table_association").values()
                             if a["subnet_id"] in view.private_subnet_refs()})
    assert sorted(endpoint["route_table_ids"]) == private_tables
    return endpoint


def test_s3_endpoint_policy_names_only_project_buckets(view):
    endpoint = _gateway(view, "s3")
    project = {view.naming.bucket_arn(p) for p in WORKLOAD_BUCKETS}
    aws_owned = {objects(b) for b in [ecr_layer_bucket(view.config.region)]} | {
        objects(b) for b in agent_buckets(view.config)}
    seen = set()
    for stmt in statements(json.loads(endpoint["policy"])):
        assert stmt["Effect"] == "Allow" and "NotResource" not in stmt
        assert not any(a in ("*", "s3:*") for a in as_list(stmt["Action"]))
        resources = as_list(stmt["Resource"])
        if all(r in aws_owned for r in resources):
            # Exactly the AWS-owned buckets the workloads and agents download from, read only, for
            # anyone in the VPC: ECR presigns layer URLs with its own account (modules/platform/aws_owned_buckets.py).
            assert as_list(stmt["Action"]) == ["s3:GetObject"] and "Condition" not in stmt
            seen |= set(resources)
            continue
        assert stmt["Condition"] == {"StringEquals": {"aws:PrincipalAccount": view.config.account_id}}
        for resource in resources:
            bucket = resource.split("/")[0]
            assert bucket in project, resource
            seen.add(bucket)
    assert project | aws_owned == seen


def test_s3_endpoint_admits_the_buckets_vpc_workloads_need(view):
    """Training jobs run in the VPC (the boundary requires it) and read datasets; a VPC with instances
    reaches the agents' AWS-owned buckets through this endpoint, NAT or not; image layers come from
    an ECR-presigned URL, which no aws:PrincipalAccount condition admits."""
    policy = json.loads(_gateway(view, "s3")["policy"])
    region, account = view.config.region, view.config.account_id

    def admits(arn: str, action: str, principal_account: str) -> bool:
        return any(stmt["Effect"] == "Allow" and action in as_list(stmt["Action"]) and arn in as_list(stmt["Resource"])
                   and stmt.get("Condition", {}).get("StringEquals", {}).get("aws:PrincipalAccount", principal_account)
                   == principal_account for stmt in statements(policy))

    datasets = view.naming.bucket_arn("datasets")
    assert admits(f"{datasets}/*", "s3:GetObject", account) and admits(datasets, "s3:ListBucket", account)
    assert admits(f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*", "s3:GetObject", "ECR's own account")
    agents = [f"arn:aws:s3:::{b}/*" for b in (f"amazon-ssm-{region}", f"{region}-birdwatcher-prod",
                                               f"aws-ssm-document-attachments-{region}",
                                               f"694911143906-{region}-guardduty-agent-deb-artifacts")]
    # Every environment runs GPU fleets: NAT or not, their agents download through this endpoint.
    for agent in agents:
        assert admits(agent, "s3:GetObject", "unauthenticated"), agent


def test_dynamodb_endpoint_policy_names_only_project_tables(view):
    endpoint = _gateway(view, "dynamodb")
    prefix = f"arn:aws:dynamodb:{view.config.region}:{view.config.account_id}:table/{view.naming.prefix}-"
    for stmt in statements(json.loads(endpoint["policy"])):
        assert all(r.startswith(prefix) for r in as_list(stmt["Resource"]))
        assert "dynamodb:*" not in as_list(stmt["Action"])


def test_no_ingress_from_the_internet(view):
    for rule in view.res("aws_vpc_security_group_ingress_rule").values():
        assert rule.get("cidr_ipv4") != "0.0.0.0/0" and "cidr_ipv6" not in rule


def test_internet_egress_only_with_egress_enabled_and_only_https(view):
    egress_enabled = view.config.platform.network.egress
    wide = [r for r in view.res("aws_vpc_security_group_egress_rule").values() if r.get("cidr_ipv4") == "0.0.0.0/0"]
    if not egress_enabled:
        assert wide == []
    for rule in wide:
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    for rule in view.res("aws_vpc_security_group_egress_rule").values():
        # All protocols only between the members of one group (distributed training), never to addresses.
        if rule["ip_protocol"] == "-1":
            assert rule.get("referenced_security_group_id") == rule["security_group_id"], rule
            assert "cidr_ipv4" not in rule and "prefix_list_id" not in rule


def test_only_the_training_group_lets_its_members_reach_each_other(view):
    """Distributed training with inter-container traffic encryption (forced by the job guards) runs IPsec
    between the instances (UDP 500, ESP): the training group admits its own members on every protocol, both
    ways; every other workload group stays without ingress."""
    groups = {conf["name"]: logical for logical, conf in view.res("aws_security_group").items()}
    ingress = view.res("aws_vpc_security_group_ingress_rule").values()
    egress = view.res("aws_vpc_security_group_egress_rule").values()
    for kind in ("training", "sagemaker"):
        logical = groups.get(view.naming.resource(f"{kind}-workloads"))
        if logical is None:
            continue
        group = ref("aws_security_group", logical, "id")
        to_self = [r for r in ingress if r["security_group_id"] == group and r.get("referenced_security_group_id") == group]
        from_self = [r for r in egress if r["security_group_id"] == group and r.get("referenced_security_group_id") == group]
        if kind == "training":
            assert view.config.platform.training.enabled
            assert [r["ip_protocol"] for r in to_self] == ["-1"] and [r["ip_protocol"] for r in from_self] == ["-1"]
        else:
            assert not to_self and not from_self
            assert not [r for r in ingress if r["security_group_id"] == group]
