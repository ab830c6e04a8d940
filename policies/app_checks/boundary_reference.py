"""AEGIS_BOUNDARY_SAME_STACK_REFERENCE: a role never names a boundary policy of its own stack by a literal ARN.

Terraform orders resources only by references and `depends_on`. A role (or user) whose
`permissions_boundary` is the literal ARN of an `aws_iam_policy` created in the same stack may be created
before that policy, and IAM refuses a boundary that does not exist yet: the first apply fails or races.
The boundary must be referenced (`${aws_iam_policy.<name>.arn}`) or the policy listed in `depends_on`.
A literal ARN of a policy created by an earlier stack is fine (the apply order creates it first).
"""
from __future__ import annotations

from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Env, Stack
from policies.checks.aegis_values import as_list

PRINCIPALS = ("aws_iam_role", "aws_iam_user")


@app_check("AEGIS_BOUNDARY_SAME_STACK_REFERENCE",
           "A permission boundary created in the same stack is referenced, not named by a literal ARN")
def boundary_same_stack_reference(app: AppView):
    for env in app.envs:
        for stack in env.stacks.values():
            local = _policy_arns(env, stack)
            for rtype in PRINCIPALS:
                for name, conf in sorted(stack.resources(rtype).items()):
                    boundary = conf.get("permissions_boundary")
                    if boundary is None:
                        continue
                    yield judge(stack.name, f"{rtype}.{name}", _problems(boundary, conf, local),
                                "its boundary exists before it")


def _policy_arns(env: Env, stack: Stack) -> dict[str, str]:
    """Literal ARN → logical name of every IAM policy the stack creates."""
    out = {}
    for name, conf in stack.resources("aws_iam_policy").items():
        policy_name, path = conf.get("name"), conf.get("path", "/")
        if isinstance(policy_name, str) and isinstance(path, str) and "${" not in policy_name + path:
            out[f"arn:aws:iam::{env.config.account_id}:policy{path}{policy_name}"] = name
    return out


def _problems(boundary: object, conf: dict, local: dict[str, str]) -> Iterator[str]:
    if not isinstance(boundary, str) or boundary not in local:
        return
    policy = f"aws_iam_policy.{local[boundary]}"
    if policy not in {str(d) for d in as_list(conf.get("depends_on"))}:
        yield (f"permissions_boundary is the literal ARN of {policy}, created in the same stack, with no reference "
               f"or depends_on: Terraform may create this first and IAM refuses a boundary that does not exist yet; "
               f"use ${{{policy}.arn}}")
