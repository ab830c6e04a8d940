"""AEGIS_SCP_REGION_EXEMPTIONS: the environment's SCPs let Aegis manage what it manages, in every region.

A region allow-list SCP denies every non-exempt action outside its regions, and an SCP binds the deployer
role too. Prod's platform stack manages CloudFront's regional parts in us-east-1 (a CLOUDFRONT-scope
WAF web ACL, log groups, log delivery, the edge KMS key): exempting classic `waf:*` but not `wafv2`,
`kms` and `logs` there denied Aegis its own apply.

For every resource and data source of an environment that manages SCPs (aws_organizations_policy of type
SERVICE_CONTROL_POLICY with a literal document), in the region it is managed in (its `region` argument or
its provider's): a request of its IAM service (modules/iam_services.py) by the deployer role in that region
must not be denied by any of those SCPs. A resource type with no known service, a region that cannot be
read, or an SCP the evaluator cannot model fails: the check never passes what it could not judge.
"""
from __future__ import annotations

from typing import Iterator

from modules.iam_services import service_of
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import managed_resources, region_of
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import document
from policies.iam_eval import DENY, Request, UnsupportedPolicy, evaluate

# Stands for "any action of the service that no statement names on its own" (a NotAction `kms:*` covers it).
ANY_ACTION = "AegisManagedResource"


@app_check("AEGIS_SCP_REGION_EXEMPTIONS", "The SCPs exempt every service the app manages in each region it manages it")
def scp_region_exemptions(app: AppView):
    for env in app.envs:
        scps = [(stack.name, name, document(conf.get("content")))
                for stack, name, conf in env.resources("aws_organizations_policy")
                if conf.get("type", "SERVICE_CONTROL_POLICY") == "SERVICE_CONTROL_POLICY"]
        if not scps:
            continue
        unreadable = [f"{stack}/{name}" for stack, name, doc in scps if doc is None]
        if unreadable:
            yield fail(scps[0][0], "", f"SCP content is not a literal document, not judged: {', '.join(unreadable)}")
            continue
        documents = [doc for _, _, doc in scps if doc is not None]
        # One verdict per (type, region): hundreds of resources share a handful of them. A failure is reported
        # on each resource it stops; what passes is reported once, on each SCP, not once per resource.
        verdicts: dict[tuple[str, str | None], list[str]] = {}
        admitted = 0
        for stack, address, rtype, conf in managed_resources(env):
            region = region_of(stack, conf)
            problems = verdicts.setdefault((rtype, region), list(_problems(env, documents, rtype, region)))
            if problems:
                yield judge(stack.name, address, problems, "")
            else:
                admitted += 1
        regions = sorted({r for (_, r), problems in verdicts.items() if r and not problems})
        for stack_name, name, _ in scps:
            yield judge(stack_name, f"aws_organizations_policy.{name}", (),
                        f"admits the {admitted} resources the environment manages, in {', '.join(regions) or 'no region'}")


def _problems(env: Env, documents: list[dict], rtype: str, region: str | None) -> Iterator[str]:
    service = service_of(rtype)
    if service is None:
        yield f"no known IAM service manages {rtype} (modules/iam_services.py): not judged"
        return
    if region is None:
        yield "the region it is managed in cannot be read: not judged"
        return
    request = Request(f"{service}:{ANY_ACTION}", "*", {"aws:RequestedRegion": region,
                                                        "aws:PrincipalArn": env.config.deployer_role_arn})
    try:
        denied = any(evaluate([doc], request) == DENY for doc in documents)
    except UnsupportedPolicy as exc:
        yield f"an SCP cannot be evaluated ({exc}): not judged"
        return
    if denied:
        yield (f"the SCPs deny {service} in {region}, where this environment manages it: the deployer role could "
               f"not apply it (exempt {service}:* in {region})")
