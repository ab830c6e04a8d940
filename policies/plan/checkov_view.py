"""What checkov reads of a plan: the plan JSON, with every attribute the configuration sets *by
reference* shown in its reference form from the stack's synthesized cdk.tf.json.

Why: the Aegis pack decides things from references, as the synth gate sees them. A key's data
class comes from `${data.aws_kms_key.kms-model.arn}`, and a policy document written with
`${aws_s3_bucket.….arn}` inside is readable in CDKTF JSON. In a plan the same attribute is either
the resolved value (a bare key ARN, whose class cannot be decided) or, for objects created in the
same apply, unknown (absent). Judging those would fail every real plan for reasons that are not
findings. So, for an attribute whose `configuration` expression has references, checkov sees the
value the synthesized stack wrote; attributes with constant values and computed values are judged
exactly as planned. The plan checks (policies/plan/plan_checks) always judge the real `before` and
`after`, including resolved ARNs.

Only used when the plan comes with its stack's cdk.tf.json (the `plan` command; `gate --plan` on
a plan inside a synthesized stack folder) and that file is Aegis's own, as synth recorded it
(policies/plan/plan_source.py): a forged file could otherwise show checkov a harmless policy in
place of the public one the plan sets. Without it checkov reads the plan as it is. The rewritten
text is used for checkov only; hashes and reports refer to the plan file itself.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from modules.synth_output import resources
from policies.plan.plan_json import Plan


def _has_references(expression: Any) -> bool:
    if isinstance(expression, dict):
        if expression.get("references"):
            return True
        return any(_has_references(v) for v in expression.values())
    if isinstance(expression, list):
        return any(_has_references(v) for v in expression)
    return False


def _synthesized_resources(doc: dict) -> dict[str, dict]:
    return {res.address: res.conf for res in resources(doc, ("resource",)) if isinstance(res.conf, dict)}


def checkov_text(plan: Plan, synthesized: dict | None) -> tuple[str, int]:
    """(the text checkov should read, how many attributes were shown in reference form)."""
    if not synthesized:
        return plan.text, 0
    sources = _synthesized_resources(synthesized)
    config = plan.config_resources()
    doc = copy.deepcopy(plan.doc)
    replaced = 0

    def walk(module: Any) -> None:
        nonlocal replaced
        if not isinstance(module, dict):
            return
        for res in module.get("resources") or []:
            if not isinstance(res, dict) or res.get("mode", "managed") != "managed":
                continue
            address = str(res.get("address", ""))
            bare = address.split("[", 1)[0]
            source, conf = sources.get(bare), config.get(bare)
            if source is None or conf is None:
                continue
            values = res.setdefault("values", {})
            if not isinstance(values, dict):
                continue
            for attribute, expression in (conf.get("expressions") or {}).items():
                if attribute in source and _has_references(expression):
                    values[attribute] = copy.deepcopy(source[attribute])
                    replaced += 1
        for child in module.get("child_modules") or []:
            walk(child)

    walk(doc["planned_values"].get("root_module"))
    if not replaced:
        return plan.text, 0
    return json.dumps(doc, indent=1, ensure_ascii=False), replaced
