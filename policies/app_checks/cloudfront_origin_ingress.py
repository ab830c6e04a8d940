"""AEGIS_CLOUDFRONT_ORIGIN_INGRESS: a load balancer behind CloudFront admits CloudFront only.

CloudFront applies the edge WAF web ACL and the geo restriction; a VPC-origin ALB that also admits the
VPC CIDR (or any other CIDR or security group) can be called around both. For every load balancer that
an `aws_cloudfront_vpc_origin` points at, every ingress rule of its security groups
(`aws_vpc_security_group_ingress_rule`, `aws_security_group_rule` of type ingress, inline `ingress`
blocks) must come from the AWS-managed prefix list `com.amazonaws.global.cloudfront.origin-facing`,
looked up by name with `data.aws_ec2_managed_prefix_list`, and at least one must (or CloudFront cannot
reach it). A CIDR, a security group source, a literal prefix-list id or an unresolvable reference fails.
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Stack, nested, ref
from policies.checks.aegis_values import as_list

ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"
CIDR_KEYS = ("cidr_ipv4", "cidr_ipv6", "cidr_blocks", "ipv6_cidr_blocks")
GROUP_KEYS = ("referenced_security_group_id", "source_security_group_id", "security_groups", "self")


@app_check("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", "A load balancer behind CloudFront admits CloudFront's origin-facing range only")
def cloudfront_origin_ingress(app: AppView):
    for env in app.envs:
        for stack, _name, origin in env.resources("aws_cloudfront_vpc_origin"):
            for endpoint in nested(origin, "vpc_origin_endpoint_config"):
                target = stack.target(endpoint.get("arn"))
                found = ref(endpoint.get("arn"))
                if target is None or found is None or found[0] not in ("aws_lb", "aws_alb"):
                    continue  # an EC2 instance origin, or an origin of another stack: no load balancer here
                yield judge(stack.name, f"{found[0]}.{target[0]}", _problems(stack, target[1]),
                            "admits CloudFront's origin-facing range only")


def _problems(stack: Stack, lb: dict) -> Iterator[str]:
    groups = as_list(lb.get("security_groups"))
    if not groups:
        yield "no security group: the load balancer's ingress cannot be judged"
        return
    from_cloudfront = 0
    for raw in groups:
        group = stack.target(raw, "aws_security_group")
        if group is None:
            yield f"security group {raw!r} is not a security group of this stack: not judged"
            continue
        for label, rule in _ingress_rules(stack, *group):
            sources = [k for k in CIDR_KEYS + GROUP_KEYS if rule.get(k) not in (None, [], False)]
            if sources:
                yield f"{label} admits {', '.join(sources)}: traffic from there bypasses CloudFront's WAF and geo rules"
            for prefix_list in as_list(rule.get("prefix_list_id")) + as_list(rule.get("prefix_list_ids")):
                lookup = stack.target(prefix_list, "data.aws_ec2_managed_prefix_list")
                if lookup is not None and lookup[1].get("name") == ORIGIN_FACING:
                    from_cloudfront += 1
                else:
                    yield f"{label} admits prefix list {prefix_list!r}, not the {ORIGIN_FACING} lookup"
    if not from_cloudfront:
        yield f"no ingress from {ORIGIN_FACING}: CloudFront cannot reach its origin"


def _ingress_rules(stack: Stack, group_name: str, group: dict) -> Iterator[tuple[str, dict]]:
    for i, block in enumerate(nested(group, "ingress")):
        yield f"aws_security_group.{group_name} ingress[{i}]", block
    for rtype, wanted in (("aws_vpc_security_group_ingress_rule", None), ("aws_security_group_rule", "ingress")):
        for name, rule in sorted(stack.resources(rtype).items()):
            points = ref(rule.get("security_group_id"))
            if points and points[:2] == ("aws_security_group", group_name) and rule.get("type", wanted) == wanted:
                yield f"{rtype}.{name}", rule
