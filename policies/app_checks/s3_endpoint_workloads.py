"""AEGIS_S3_ENDPOINT_WORKLOADS: the S3 gateway endpoint admits the buckets the VPC's workloads need.

From a private subnet the S3 gateway endpoint is the way to S3, and its policy is a boundary: a
bucket it does not admit is unreachable whatever the workload's role allows (CKV_AEGIS_20 keeps it
from admitting too much; this check keeps it from admitting too little). Each S3 gateway endpoint
of an environment must allow:
- this account's principals: s3:GetObject and s3:ListBucket on the datasets bucket (training jobs,
  which the permission boundary keeps in the VPC, read it), s3:GetObject on the model-artifacts
  bucket and s3:PutObject on the inference bucket;
- anyone: s3:GetObject on the region's ECR layer bucket. ECR presigns layer URLs with its own
  account, so an `aws:PrincipalAccount` condition fails every image pull;
- when its stack runs instances (launch templates): s3:GetObject, again for anyone, on the SSM
  agent's buckets and, with GuardDuty runtime monitoring on, on its security agent's buckets
  (modules/platform/aws_owned_buckets.py; their downloads may be unauthenticated). A NAT gateway
  changes nothing: the endpoint's prefix-list route is more specific than the NAT's 0.0.0.0/0, so
  in-region S3 requests take the endpoint, and its policy, either way.
Each request is evaluated with policies/iam_eval.py: for this account's principals as a role of
the account (`aws:PrincipalAccount` set), for anyone both as another account's principal and
unauthenticated. An explicit Deny fails it; a policy that is not a literal JSON document, or that
uses what the evaluator does not model, fails (not judged).
"""
from __future__ import annotations

from typing import Iterator

from modules.platform.aws_owned_buckets import ecr_layer_bucket, guardduty_agent_buckets, ssm_agent_buckets
from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Env, Stack
from policies.checks.aegis_values import policy_document
from policies.iam_eval import ALLOW, DENY, Request, UnsupportedPolicy, evaluate

ANYONE = "anyone"
# Who "anyone" stands for: ECR's own account, which presigns layer URLs, and an unauthenticated download.
OTHER_ACCOUNT = "000000000000"


@app_check("AEGIS_S3_ENDPOINT_WORKLOADS", "The S3 gateway endpoint admits the buckets the VPC's workloads need")
def s3_endpoint_workloads(app: AppView):
    for env in app.envs:
        for stack in env.stacks.values():
            for name, conf in sorted(stack.resources("aws_vpc_endpoint").items()):
                if not str(conf.get("service_name", "")).endswith(".s3") or conf.get("vpc_endpoint_type") != "Gateway":
                    continue
                yield judge(stack.name, f"aws_vpc_endpoint.{name}", _problems(env, stack, conf.get("policy")),
                            "admits the datasets, artifacts, inference data, image layers and agent packages its VPC needs")


def required(env: Env, stack: Stack) -> list[tuple[str, str, str]]:
    """(action, resource ARN, caller: this account's ID or ANYONE) the endpoint must admit."""
    naming = env.naming
    account, region = naming.account_id, naming.region
    datasets = naming.bucket_arn("datasets")
    needs = [("s3:GetObject", f"{datasets}/*", account), ("s3:ListBucket", datasets, account),
             ("s3:GetObject", f"{naming.bucket_arn('model-artifacts')}/*", account),
             ("s3:PutObject", f"{naming.bucket_arn('inference')}/*", account),
             ("s3:GetObject", f"arn:aws:s3:::{ecr_layer_bucket(region)}/*", ANYONE)]
    if stack.resources("aws_launch_template"):
        agents = ssm_agent_buckets(region)
        if env.config.access.guardduty.runtime_monitoring:
            try:
                agents += guardduty_agent_buckets(region)
            except ValueError:
                agents.append(f"<the GuardDuty agent bucket of {region}>")
        needs += [("s3:GetObject", f"arn:aws:s3:::{bucket}/*", ANYONE) for bucket in agents]
    return needs


def _callers(caller: str) -> list[tuple[dict, dict]]:
    """(request context, principal) of each caller the endpoint must admit."""
    if caller == ANYONE:
        return [({"aws:PrincipalAccount": OTHER_ACCOUNT}, {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}),
                ({}, {"AWS": "*"})]
    return [({"aws:PrincipalAccount": caller}, {"AWS": f"arn:aws:iam::{caller}:role/workload"})]


def _problems(env: Env, stack: Stack, raw) -> Iterator[str]:
    doc = policy_document(raw)
    if doc is None:
        yield "the endpoint has no literal policy document to judge (no policy admits everything: CKV_AEGIS_20)"
        return
    for action, arn, caller in required(env, stack):
        who = "anyone in the VPC" if caller == ANYONE else "this account's principals"
        try:
            decisions = {evaluate([doc], Request(action, arn, context, principal))
                         for context, principal in _callers(caller)}
        except UnsupportedPolicy as exc:
            yield f"the endpoint policy cannot be judged: {exc}"
            return
        if DENY in decisions:
            yield f"a Deny statement refuses {action} on {arn}"
        elif decisions != {ALLOW}:
            yield f"no statement admits {action} on {arn} for {who}"
