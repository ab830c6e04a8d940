"""AEGIS_BOUNDARY_REGION_EXEMPTIONS: the permission boundary lets the roles operate what the app manages
outside the environment's regions, and nothing more there.

The boundary's region guard denies every non-global service outside the environment's regions. Prod's
platform manages CloudFront's regional parts in us-east-1 (a CLOUDFRONT-scope WAF web ACL, log groups,
log delivery, the edge KMS key): a guard that exempts only global services leaves no persona able to
read the edge's WAF logs, look at its web ACL or block an address at the edge, whatever its own policy
says. The region SCP has the same rule (AEGIS_SCP_REGION_EXEMPTIONS); this is its boundary sibling.

For every environment whose roles carry a boundary (an `aws_iam_policy` of the app named by a role's
`permissions_boundary`), and every resource or data source managed in a region outside the
environment's region and DR region: a request of its IAM service (modules/iam_services.py) there must
not be denied by the boundary. And the exemption must stay that narrow: in every AWS region outside
the environment's, every non-global service the environment manages at home must be denied unless
the environment manages a resource of it in that region. A boundary that is not
a literal document, a resource type without a known service, or a region that cannot be read fails.
"""
from __future__ import annotations

from typing import Iterator

from modules.iam_services import service_of
from modules.regions import AWS_REGIONS
from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import managed_resources, region_of
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import document
from policies.iam_eval import DENY, Request, UnsupportedPolicy, evaluate

ANY_ACTION = "AegisManagedResource"  # an action no statement names on its own: `<service>:*` covers it
# Services without a regional endpoint: the region guard exempts them everywhere (modules/boundary.py).
GLOBAL = frozenset({"iam", "sts", "cloudfront", "budgets", "ce", "organizations", "support", "route53", "shield",
                    "waf", "health", "account", "trustedadvisor"})


def _boundaries(env: Env) -> dict[str, tuple[str, str, dict | None]]:
    """Boundary policy name → (stack, logical id, document or None when not literal)."""
    wanted = {str(conf["permissions_boundary"]).rsplit("/", 1)[-1]
              for _, _, conf in env.resources("aws_iam_role") if conf.get("permissions_boundary")}
    return {conf["name"]: (stack.name, name, document(conf.get("policy")))
            for stack, name, conf in env.resources("aws_iam_policy") if conf.get("name") in wanted}


def _decision(boundary: dict, service: str, region: str) -> str:
    return evaluate([boundary], Request(f"{service}:{ANY_ACTION}", "*", {"aws:RequestedRegion": region}))


@app_check("AEGIS_BOUNDARY_REGION_EXEMPTIONS",
           "The permission boundary admits exactly the services the app manages outside the environment's regions")
def boundary_region_exemptions(app: AppView):
    for env in app.envs:
        boundaries = _boundaries(env)
        if not boundaries:
            continue
        home = {env.naming.region, env.config.dr_region}
        outside: dict[str, set[str]] = {}
        at_home: set[str] = set()
        problems_of: dict[tuple[str, str | None], list[str]] = {}
        results = []
        for stack, address, rtype, conf in managed_resources(env):
            region, service = region_of(stack, conf), service_of(rtype)
            if region in home and service:
                at_home.add(service)
                continue
            key = (rtype, region)
            if key not in problems_of:
                problems_of[key] = list(_admitted(boundaries, service, rtype, region))
            if region is not None and service and not problems_of[key]:
                outside.setdefault(region, set()).add(service)
            if problems_of[key]:
                results.append(judge(stack.name, address, problems_of[key], ""))
        yield from results
        for policy_name, (stack_name, name, doc) in sorted(boundaries.items()):
            yield judge(stack_name, f"aws_iam_policy.{name}", _narrow(policy_name, doc, outside, at_home, home),
                        "admits " + ("; ".join(f"{', '.join(sorted(s))} in {r}" for r, s in sorted(outside.items()))
                                     or "nothing") + " outside the environment's regions, nothing else there")


def _admitted(boundaries, service: str | None, rtype: str, region: str | None) -> Iterator[str]:
    if service is None:
        yield f"no known IAM service manages {rtype} (modules/iam_services.py): not judged"
        return
    if region is None:
        yield "the region it is managed in cannot be read: not judged"
        return
    for policy_name, (_, _, doc) in sorted(boundaries.items()):
        if doc is None:
            yield f"the permission boundary {policy_name} is not a literal document: not judged"
            continue
        try:
            denied = _decision(doc, service, region) == DENY
        except UnsupportedPolicy as exc:
            yield f"the permission boundary {policy_name} cannot be evaluated ({exc}): not judged"
            continue
        if denied:
            yield (f"the permission boundary {policy_name} denies {service} in {region}, where this environment "
                   f"manages it: no bounded role can operate it (exempt {service}:* in {region} only)")


def _narrow(policy_name: str, doc: dict | None, outside: dict[str, set[str]], at_home: set[str],
            home: set[str]) -> Iterator[str]:
    if doc is None:
        yield f"the permission boundary {policy_name} is not a literal document: not judged"
        return
    for region in sorted(AWS_REGIONS - home):
        extra = sorted(at_home - outside.get(region, set()) - GLOBAL)
        try:
            admitted = [s for s in extra if _decision(doc, s, region) != DENY]
        except UnsupportedPolicy as exc:
            yield f"it cannot be evaluated ({exc}): not judged"
            return
        if admitted:
            yield (f"it also admits {', '.join(admitted)} in {region}, where the environment manages none of "
                   "them: exempt only the services of what it manages there")

