"""AEGIS_PROD_LOG_RETENTION: prod log groups keep logs for at least 365 days.

Investigating a model-abuse or data-access incident often starts months after the fact, and
HIPAA/PCI evidence must be kept for a year or more. In a `prod` tier environment every CloudWatch
log group needs `retention_in_days ≥ 365` (unset or 0 means never expire, which also passes).
Other environments may keep logs shorter and are not judged. A non-literal retention fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_int

MIN_DAYS = 365


@app_check("AEGIS_PROD_LOG_RETENTION", "Prod log groups retain logs for at least 365 days")
def prod_log_retention(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for stack, name, conf in env.resources("aws_cloudwatch_log_group"):
            raw = conf.get("retention_in_days", 0)
            days = as_int(raw)
            problems = []
            if days is None:
                problems.append(f"retention_in_days {raw!r} is not a literal number")
            elif 0 < days < MIN_DAYS:
                problems.append(f"retention_in_days is {days}; prod needs at least {MIN_DAYS}")
            yield judge(stack.name, f"aws_cloudwatch_log_group.{name}", problems,
                        f"logs kept {'forever' if days == 0 else f'{days} days'}")
