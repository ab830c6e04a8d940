"""AEGIS_MACIE_RESULTS_SOURCES: every key or bucket policy that admits Macie admits it for classification jobs.

Macie stores sensitive-data discovery results under two source ARNs: its export configuration
(`…:export-configuration:*`) and the classification job that produced them (`…:classification-job/*`).
A policy bound to the export configuration alone applies cleanly but leaves every job unable to store
its results. Judged for each Allow statement to `macie.amazonaws.com` in a KMS key or bucket policy.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.iam import allow_statements
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_list, document

POLICY_ATTRIBUTE = {"aws_kms_key": "policy", "aws_s3_bucket_policy": "policy"}


def _macie_statements(doc: dict) -> list[dict]:
    return [s for s in allow_statements(doc)
            if "macie.amazonaws.com" in as_list((s.get("Principal") or {}).get("Service")
                                                if isinstance(s.get("Principal"), dict) else None)]


@app_check("AEGIS_MACIE_RESULTS_SOURCES", "Policies admitting Macie admit its classification jobs' results")
def macie_results_sources(app: AppView):
    for env in app.envs:
        job = f"arn:aws:macie2:{env.naming.region}:{env.naming.account_id}:classification-job/*"
        for rtype, attribute in POLICY_ATTRIBUTE.items():
            for stack, name, conf in env.resources(rtype):
                doc = document(conf.get(attribute))
                statements = _macie_statements(doc) if doc else []
                if not statements:
                    continue
                problems = []
                for s in statements:
                    sources = [v for op in ("ArnLike", "ArnEquals", "StringLike", "StringEquals")
                               for v in as_list(((s.get("Condition") or {}).get(op) or {}).get("aws:SourceArn"))]
                    if sources and job not in sources:
                        problems.append(f"{s.get('Sid', 'a statement')} admits Macie only for {sources}, not {job}: "
                                        "classification jobs cannot store their discovery results")
                yield judge(stack.name, f"{rtype}.{name}", problems, "Macie is admitted for its classification jobs")
