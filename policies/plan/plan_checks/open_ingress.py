"""AEGIS_PLAN_OPEN_INGRESS: no new ingress from anywhere (0.0.0.0/0 or ::/0).

Compares the open ingress rules (protocol, port range, CIDR) before and after, for security groups
(inline `ingress` blocks), `aws_security_group_rule` of type ingress and
`aws_vpc_security_group_ingress_rule`. Creating a rule resource adds ingress to a group that may
already exist, so a create counts (it starts from nothing); an open rule that was already there
is not new and was judged when it was added. A CIDR known only after apply is not judged open.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import OPEN_CIDRS, PlanCheck, plan_check, verdict


def _rule(protocol, from_port, to_port, cidr) -> tuple:
    return (str(protocol), from_port, to_port, cidr)


def open_rules(rtype: str, values_: dict | None) -> set[tuple]:
    if not isinstance(values_, dict):
        return set()
    out = set()
    if rtype in ("aws_security_group", "aws_default_security_group"):
        for rule in values_.get("ingress") or []:
            if not isinstance(rule, dict):
                continue
            for cidr in list(rule.get("cidr_blocks") or []) + list(rule.get("ipv6_cidr_blocks") or []):
                if cidr in OPEN_CIDRS:
                    out.add(_rule(rule.get("protocol"), rule.get("from_port"), rule.get("to_port"), cidr))
    elif rtype == "aws_security_group_rule":
        if values_.get("type") == "ingress":
            for cidr in list(values_.get("cidr_blocks") or []) + list(values_.get("ipv6_cidr_blocks") or []):
                if cidr in OPEN_CIDRS:
                    out.add(_rule(values_.get("protocol"), values_.get("from_port"), values_.get("to_port"), cidr))
    elif rtype == "aws_vpc_security_group_ingress_rule":
        for key in ("cidr_ipv4", "cidr_ipv6"):
            if values_.get(key) in OPEN_CIDRS:
                out.add(_rule(values_.get("ip_protocol"), values_.get("from_port"), values_.get("to_port"), values_[key]))
    return out


def _describe(rule: tuple) -> str:
    protocol, low, high, cidr = rule
    ports = "all ports" if protocol in ("-1", "all") else (f"port {low}" if low == high else f"ports {low}-{high}")
    return f"{cidr} on {'all protocols' if protocol in ('-1', 'all') else protocol} {ports}"


@plan_check
class OpenIngress(PlanCheck):
    id = "AEGIS_PLAN_OPEN_INGRESS"
    types = ("aws_security_group", "aws_default_security_group", "aws_security_group_rule",
             "aws_vpc_security_group_ingress_rule")

    def judge(self, rc, ctx):
        if rc.kind not in ("create", "update", "replace"):
            return
        new = open_rules(rc.type, rc.after) - open_rules(rc.type, rc.before if rc.existed else None)
        group = (rc.after or {}).get("name") or (rc.after or {}).get("security_group_id") or rc.address
        yield verdict(rc, [f"new ingress from anywhere into {group}: " + "; ".join(_describe(r) for r in sorted(new, key=str))
                           if new else ""], f"no new ingress from anywhere into {group}")
