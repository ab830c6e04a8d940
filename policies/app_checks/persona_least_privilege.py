"""AEGIS_PERSONA_LEAST_PRIVILEGE: persona policies grant no wildcard actions.

Persona roles (assumed by people or applications: their trust admits an account, a user, a role
or a federation, not only AWS services) must list the actions they need: no `*`, no whole-service
`<service>:*` and no Allow with NotAction, in any inline or attached policy. Separation of duties
between ML engineer, data scientist, invoker and auditor is only as real as these lists. AWS
managed policies cannot be judged from the Terraform; only a short list of read-only security
policies is accepted. A policy that is not literal JSON fails (not judged).
"""
from __future__ import annotations

import re

from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import allow_statements, is_persona, role_policies
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, document

# Read-only AWS managed policies a security auditor may carry (no data-plane reads of model data).
READ_ONLY_MANAGED = {
    "SecurityAudit", "ViewOnlyAccess", "AWSSecurityHubReadOnlyAccess", "AmazonGuardDutyReadOnlyAccess",
    "AWSCloudTrail_ReadOnlyAccess", "AmazonInspector2ReadOnlyAccess", "IAMAccessAnalyzerReadOnlyAccess",
}
SERVICE_WILDCARD = re.compile(r"^([a-z0-9-]+:)?\*$", re.IGNORECASE)


@app_check("AEGIS_PERSONA_LEAST_PRIVILEGE", "Persona roles have no '*' or '<service>:*' actions")
def persona_least_privilege(app: AppView):
    for env in app.envs:
        for stack, name, role in env.resources("aws_iam_role"):
            if is_persona(role):
                yield judge(stack.name, f"aws_iam_role.{name}", _problems(stack, name, role),
                            "every action the persona may take is named")


def _problems(stack, name, role):
    for label, raw, managed in role_policies(stack, name, role):
        if managed is not None:
            policy_name = managed.rsplit("/", 1)[-1]
            if not (managed.startswith("arn:aws:iam::aws:policy/") and policy_name in READ_ONLY_MANAGED):
                yield f"{label} cannot be judged (not a read-only security policy)"
            continue
        doc = document(raw)
        if doc is None:
            yield f"{label} is not a literal JSON document"
            continue
        for stmt in allow_statements(doc):
            if "NotAction" in stmt:
                yield f"{label} statement {stmt.get('Sid', '?')} allows NotAction"
            wild = [a for a in as_list(stmt.get("Action")) if isinstance(a, str) and SERVICE_WILDCARD.match(a)]
            if wild:
                yield f"{label} statement {stmt.get('Sid', '?')} allows {', '.join(wild)}"
