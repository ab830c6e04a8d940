"""AEGIS_PLAN_IAM_WIDENED: no policy may be widened to a `*` action or a `*` principal.

Every policy document a resource carries (identity policies, role trust and inline policies,
resource policies of buckets, keys, topics, queues, secrets, vaults, file systems, endpoints, log
resource policies) is compared statement by statement. An Allow statement present after but not
before (Sid ignored) is a widening when:
- its Action is `*` or `*:*`, or it uses NotAction (allow everything except a list);
- its Principal is `*` (or `{"AWS": "*"}`) or it uses NotPrincipal, unless a condition pins the
  caller (aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceAccount, aws:SourceArn,
  aws:SourceVpce, kms:CallerAccount …). VPC endpoint policies are exempt from the principal rule:
  their principal is always "whoever uses this private endpoint".
Attaching the AWS-managed AdministratorAccess policy and a Lambda permission for principal `*`
without a source are widenings too. Creating a resource starts from no statements, so a new
policy is judged the same way. A document known only after apply passes on create (the synth gate
judged its literal statements) and fails on update (it cannot be shown not to widen).
"""
from __future__ import annotations

import json
from typing import Any

from policies.checks.aegis_checklib import conditions, is_public_principal, policy_document, statements
from policies.plan.plan_checks._base import PlanCheck, ok, plan_check, unknown, values, verdict

DOCUMENTS = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_iam_role": ("assume_role_policy", "inline_policy.*.policy"),
    "aws_s3_bucket_policy": ("policy",),
    "aws_s3_bucket": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sns_topic": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_sqs_queue": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_secretsmanager_secret": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
    "aws_backup_vault_policy": ("policy",),
    "aws_efs_file_system_policy": ("policy",),
    "aws_vpc_endpoint": ("policy",),
    "aws_vpc_endpoint_policy": ("policy",),
    "aws_cloudwatch_log_resource_policy": ("policy_document",),
}
ENDPOINT_POLICIES = ("aws_vpc_endpoint", "aws_vpc_endpoint_policy")
ATTACHMENTS = ("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
               "aws_iam_group_policy_attachment", "aws_iam_policy_attachment")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
WILDCARD_ACTIONS = ("*", "*:*")
# Condition keys that pin who may call, when used with a positive String/Arn operator.
SCOPING_KEYS = {"aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
                "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourcevpce", "aws:sourcevpc",
                "aws:sourceorgid", "aws:sourceorgpaths", "kms:calleraccount"}


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items()) if k != "Sid"}
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _scoped(stmt: dict) -> bool:
    for operator, key, vals in conditions(stmt):
        op = operator.split(":")[-1]
        if (op.startswith(("String", "Arn")) and "Not" not in op and not op.endswith("IfExists")
                and key.lower() in SCOPING_KEYS and vals):
            return True
    return False


def widenings(stmt: dict, rtype: str) -> list[str]:
    if stmt.get("Effect") != "Allow":
        return []
    found = []
    acts = stmt.get("Action")
    acts = acts if isinstance(acts, list) else [acts]
    if any(a in WILDCARD_ACTIONS for a in acts if isinstance(a, str)):
        found.append("Action \"*\"")
    if "NotAction" in stmt:
        found.append("NotAction (everything except a list)")
    if rtype not in ENDPOINT_POLICIES:
        if "NotPrincipal" in stmt:
            found.append("NotPrincipal (everyone except a list)")
        elif is_public_principal(stmt) and not _scoped(stmt):
            found.append("Principal \"*\" without a condition that pins the caller")
    return found


def _documents(rtype: str, values_: dict | None) -> tuple[list[dict], list[str]]:
    """(documents, problems) of one side of a change."""
    docs, problems = [], []
    if not isinstance(values_, dict):
        return docs, problems
    for path in DOCUMENTS[rtype]:
        for raw in values(values_, path):
            if raw in (None, ""):
                continue
            doc = policy_document(raw)
            if doc is None:
                problems.append(f"{path.replace('.*', '')} is not a JSON policy document")
            else:
                docs.append(doc)
    return docs, problems


@plan_check
class IamWidened(PlanCheck):
    id = "AEGIS_PLAN_IAM_WIDENED"
    types = tuple(DOCUMENTS) + ATTACHMENTS + ("aws_lambda_permission",)

    def judge(self, rc, ctx):
        if rc.kind not in ("create", "update", "replace"):
            return
        after = rc.after or {}
        if rc.type in ATTACHMENTS:
            was = (rc.before or {}).get("policy_arn") if rc.existed else None
            if after.get("policy_arn") == ADMIN_POLICY and was != ADMIN_POLICY:
                yield verdict(rc, ["attaches AdministratorAccess (Action \"*\" on \"*\")"], "")
            elif after.get("policy_arn"):
                yield ok(rc, f"attaches {after.get('policy_arn')}")
            return
        if rc.type == "aws_lambda_permission":
            was = (rc.before or {}).get("principal") if rc.existed else None
            if after.get("principal") == "*" and was != "*" and not (after.get("source_arn") or after.get("source_account")
                                                                       or after.get("principal_org_id")):
                yield verdict(rc, [f"lets any principal invoke {after.get('function_name')} (no source_arn, "
                                   "source_account or principal_org_id)"], "")
            else:
                yield ok(rc, "invoke permission is not open to everyone")
            return
        unknown_paths = [p for p in DOCUMENTS[rc.type] if unknown(rc, p)]
        if unknown_paths:
            if rc.kind == "create":
                yield ok(rc, f"{', '.join(unknown_paths)} known only after apply; its literal statements were "
                             "judged by the synth gate")
            else:
                yield verdict(rc, [f"the new {', '.join(unknown_paths)} is known only after apply: it cannot be "
                                   "shown not to widen access"], "")
            return
        before_docs, _ = _documents(rc.type, rc.before if rc.existed else None)
        after_docs, problems = _documents(rc.type, after)
        existing = {json.dumps(_canonical(s), sort_keys=True) for d in before_docs for s in statements(d)}
        for doc in after_docs:
            for stmt in statements(doc):
                if json.dumps(_canonical(stmt), sort_keys=True) in existing:
                    continue
                wide = widenings(stmt, rc.type)
                if wide:
                    sid = f" {stmt['Sid']}" if isinstance(stmt.get("Sid"), str) else ""
                    problems.append(f"new statement{sid} allows {' and '.join(wide)}")
        yield verdict(rc, problems, "no policy statement widened to a * action or principal")
