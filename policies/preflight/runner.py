"""Run preflight: who the credentials are, then every probe of `checks/` in order.

The identity checks come first and can stop the run: credentials of another account would have every
other check read (and an apply change) the wrong account, and without the deployer role the checks would
not see what Terraform sees. Any other failed call becomes an `error` check of its probe; the run goes on.
"""
from __future__ import annotations

from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from modules.config import EnvConfig
from policies.preflight.aws import THROTTLED, Aws, PreflightError, assumed, caller_of, describe, error_code
from policies.preflight.checks import (
    account_settings,
    backup_opt_in,
    identity,
    named_resources,
    organizations,
    quotas,
    rds_os_metrics,
    scp_denials,
    service_linked_roles,
    serving_inputs,
    singletons,
    state_backend,
)
from policies.preflight.context import Context
from policies.preflight.model import Check, Outcome

MODULES = (identity, organizations, scp_denials, singletons, rds_os_metrics, account_settings, backup_opt_in,
           named_resources, service_linked_roles, quotas, state_backend, serving_inputs)


def run(config: EnvConfig, stacks: dict[str, dict], aws: Aws, *, assume: bool = True,
        progress: Callable[[str], None] = lambda title: None) -> Outcome:
    """Raises PreflightError when nothing can be read (no credentials, STS refuses or throttles them)."""
    progress("Reading the caller identity")
    caller = caller_of(aws)
    outcome = Outcome(config.name, config.account_id, config.region, principal=caller.arn)
    account = identity.account_check(caller, config.name, config.account_id)
    outcome.checks.append(account)
    if account.status == "fail":
        outcome.stopped = account.found
        return outcome
    if assume:
        progress("Assuming the deployer role")
        try:
            aws = assumed(aws, config.deployer_role_arn)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in THROTTLED:
                raise PreflightError(f"STS: {describe(exc)}") from None
            role = identity.role_check(config.deployer_role_arn, True, describe(exc))
            outcome.checks.append(role)
            outcome.stopped = role.found
            return outcome
        outcome.principal = f"{config.deployer_role_arn} (assumed by {caller.arn})"
    outcome.checks.append(identity.role_check(config.deployer_role_arn, assume))
    ctx = Context(config, aws, stacks)
    for module in MODULES:
        for check_id, title, probe in module.PROBES:
            progress(title)
            try:
                outcome.checks.extend(probe(ctx))
            except Exception as exc:  # a probe's own bug or an unexpected answer: not judged, never a traceback
                outcome.checks.append(Check(check_id, title, "error", describe(exc)))
    return outcome
