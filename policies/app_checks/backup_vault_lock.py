"""AEGIS_BACKUP_VAULT_LOCK: backup vaults are locked, in compliance mode in prod.

Backups of the feature tables and the model cache are the recovery path after ransomware or a
destructive mistake; whoever can delete recovery points can make the damage permanent. Every
`aws_backup_vault` needs an `aws_backup_vault_lock_configuration` with a minimum retention; in
prod (tier `prod`) it must be compliance mode (`changeable_for_days` set: after that grace period
nobody, root included, can remove the lock). An environment with DynamoDB tables or EFS file
systems and no vault fails.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.lookups import attached
from policies.app_checks.view import AppView
from policies.checks.aegis_values import as_int


@app_check("AEGIS_BACKUP_VAULT_LOCK", "Backup vaults have a vault lock (compliance mode in prod)")
def backup_vault_lock(app: AppView):
    for env in app.envs:
        vaults = list(env.resources("aws_backup_vault"))
        stateful = list(env.resources("aws_dynamodb_table")) + list(env.resources("aws_efs_file_system"))
        if not vaults and stateful:
            yield fail(env.home_stack("governance"), "", f"{env.name} has DynamoDB/EFS data but no backup vault")
        for stack, name, conf in vaults:
            locks = attached(stack, "aws_backup_vault_lock_configuration", "aws_backup_vault", name, conf,
                             "backup_vault_name")
            yield judge(stack.name, f"aws_backup_vault.{name}", _problems(env, locks),
                        "vault lock in " + ("compliance" if env.prod else "governance or compliance") + " mode")


def _problems(env, locks):
    if not locks:
        yield "no vault lock: recovery points can be deleted"
        return
    lock = locks[0][1]
    if (as_int(lock.get("min_retention_days")) or 0) < 1:
        yield "the vault lock sets no minimum retention"
    if env.prod and as_int(lock.get("changeable_for_days")) is None:
        yield "prod needs compliance mode (changeable_for_days set)"
