"""AEGIS_FLEET_AGENT_REACH: GuardDuty Runtime Monitoring and Inspector reach the instances they are to watch.

GuardDuty's automated agent management installs its security agent on EC2 instances through Systems
Manager, and Inspector's EC2 scanning collects inventory through SSM Agent: an instance that is not
SSM-managed is watched by neither, silently (GuardDuty user guide, "Prerequisites for Amazon EC2
instance support"; Inspector user guide, EC2 scanning). An instance is SSM-managed when its role lets
SSM Agent register and take commands, and the agent reaches the ssm, ssmmessages and ec2messages
endpoints: through interface endpoints with private DNS, or a NAT gateway. Without automated agent
management, GuardDuty's agent also needs a `guardduty-data` endpoint created by the app.

Judged for each `aws_launch_template` of an environment that enables GuardDuty Runtime Monitoring or
Inspector EC2 scanning:
- its instance profile's role (with its permission boundary) must allow SSM Agent's core actions,
  evaluated with policies/iam_eval.py;
- its stack must have a NAT gateway or the three Systems Manager interface endpoints with private DNS
  (and a guardduty-data one when GuardDuty does not manage its agent);
- one of its security groups must allow HTTPS egress (to the endpoints in the VPC, or through NAT).
The S3 side (the agents' packages through the gateway endpoint) is AEGIS_S3_ENDPOINT_WORKLOADS'.
A role, profile or security group that cannot be resolved, or a policy that cannot be read, fails.
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import NotJudged, role_with_boundary
from policies.app_checks.view import AppView, Env, Stack, nested, one, ref
from policies.checks.aegis_values import as_list
from policies.iam_eval import Request, UnsupportedPolicy, is_allowed

SSM_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")
# SSM Agent registering the instance, reading its associations and documents, reporting inventory, and
# opening its command and session channels (AmazonSSMManagedInstanceCore).
AGENT_ACTIONS = (
    "ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:UpdateInstanceAssociationStatus",
    "ssm:GetDocument", "ssm:PutInventory", "ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel",
    "ec2messages:GetMessages", "ec2messages:AcknowledgeMessage", "ec2messages:SendReply",
)


def _watchers(env: Env) -> tuple[list[str], bool]:
    """(what watches the instances, whether GuardDuty installs its agent itself)."""
    watchers, automated = [], False
    for _, _, feature in env.resources("aws_guardduty_detector_feature"):
        if feature.get("name") == "RUNTIME_MONITORING" and feature.get("status") == "ENABLED":
            if "GuardDuty Runtime Monitoring" not in watchers:  # once, whatever the detectors (DR region too)
                watchers.append("GuardDuty Runtime Monitoring")
            automated = automated or any(c.get("name") == "EC2_AGENT_MANAGEMENT" and c.get("status") == "ENABLED"
                                         for c in nested(feature, "additional_configuration"))
    if any("EC2" in as_list(e.get("resource_types")) for _, _, e in env.resources("aws_inspector2_enabler")):
        watchers.append("Inspector EC2 scanning")
    return watchers, automated


@app_check("AEGIS_FLEET_AGENT_REACH", "GuardDuty Runtime Monitoring and Inspector reach the EC2 instances")
def fleet_agent_reach(app: AppView):
    for env in app.envs:
        watchers, automated = _watchers(env)
        if not watchers:
            continue
        for stack, name, template in env.resources("aws_launch_template"):
            yield judge(stack.name, f"aws_launch_template.{name}",
                        _problems(env, stack, template, watchers, automated),
                        f"its instances are SSM-managed and reach Systems Manager: {' and '.join(watchers)} watch them")


def _problems(env: Env, stack: Stack, template: dict, watchers: list[str], automated: bool) -> Iterator[str]:
    who = " and ".join(watchers)
    yield from _role_problems(env, stack, template, who)
    yield from _network_problems(stack, template, who, needs_guardduty_endpoint="GuardDuty" in who and not automated)


def _role_problems(env: Env, stack: Stack, template: dict, who: str) -> Iterator[str]:
    profile = stack.target((one(template, "iam_instance_profile") or {}).get("arn")
                           or (one(template, "iam_instance_profile") or {}).get("name"), "aws_iam_instance_profile")
    if profile is None:
        yield f"it has no instance profile of the app: its instances cannot be SSM-managed, so {who} cannot reach them"
        return
    role = stack.target(profile[1].get("role"), "aws_iam_role")
    if role is None:
        yield f"the role of instance profile {profile[0]} is not a role of the app: not judged"
        return
    try:
        arn, documents, boundary = role_with_boundary(env, stack, *role)
    except NotJudged as exc:
        yield f"its instance role cannot be judged: {exc}"
        return
    n = env.naming
    instance = f"arn:aws:ec2:{n.region}:{n.account_id}:instance/i-0123456789abcdef0"
    context = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": arn, "aws:PrincipalAccount": n.account_id}
    try:
        missing = [a for a in AGENT_ACTIONS if not is_allowed(
            documents, Request(a, instance if a.startswith("ssm:") else "*", context), boundary=boundary)]
    except UnsupportedPolicy as exc:
        yield f"its instance role's policies cannot be judged: {exc}"
        return
    if missing:
        yield (f"its instance role {role[1].get('name')} may not {', '.join(missing)}: SSM Agent cannot manage the "
               f"instances, so {who} never reach them (grant AmazonSSMManagedInstanceCore's actions)")


def _network_problems(stack: Stack, template: dict, who: str, needs_guardduty_endpoint: bool) -> Iterator[str]:
    nat = bool(stack.resources("aws_nat_gateway"))
    endpoints = {str(c.get("service_name", "")).rsplit(".", 1)[-1] for c in stack.resources("aws_vpc_endpoint").values()
                 if c.get("vpc_endpoint_type") == "Interface" and c.get("private_dns_enabled") in (True, "true")}
    if not nat and (absent := [s for s in SSM_ENDPOINTS if s not in endpoints]):
        yield (f"its VPC has no NAT gateway and no {', '.join(absent)} interface endpoint with private DNS: SSM Agent "
               f"cannot reach Systems Manager, so {who} never reach the instances")
    if needs_guardduty_endpoint and "guardduty-data" not in endpoints:
        yield ("GuardDuty does not manage its agent (no EC2_AGENT_MANAGEMENT) and the VPC has no guardduty-data "
               "endpoint: the agent cannot deliver runtime events")
    groups = [ref(g) for i in nested(template, "network_interfaces") for g in as_list(i.get("security_groups"))]
    groups += [ref(g) for g in as_list(template.get("vpc_security_group_ids"))]
    names = {g[1] for g in groups if g and g[0] == "aws_security_group"}
    if not names:
        yield "its security groups are not security groups of the app: its HTTPS egress cannot be judged"
        return
    if not any(_https_egress(stack, name) for name in names):
        yield f"none of its security groups allows HTTPS egress: SSM Agent cannot reach Systems Manager, nor {who}"


def _https_egress(stack: Stack, group: str) -> bool:
    """Whether the security group lets TCP 443 out to an address range (the VPC's endpoints, or NAT)."""
    rules = [r for r in stack.resources("aws_vpc_security_group_egress_rule").values()
             if (ref(r.get("security_group_id")) or ("", "", ""))[:2] == ("aws_security_group", group)]
    rules += nested(stack.resources("aws_security_group").get(group) or {}, "egress")

    def covers(rule: dict) -> bool:
        protocol = str(rule.get("ip_protocol", rule.get("protocol", "")))
        if protocol == "-1":
            return True
        ports = rule.get("from_port"), rule.get("to_port")
        return protocol in ("tcp", "6") and all(isinstance(p, int) for p in ports) and ports[0] <= 443 <= ports[1]

    return any(covers(r) and (r.get("cidr_ipv4") or r.get("cidr_blocks") or r.get("referenced_security_group_id"))
               for r in rules)
