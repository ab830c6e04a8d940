"""AEGIS_TRAINING_STORE_CONTROLS: an Aurora PostgreSQL cluster of the app is encrypted with the
training key, authenticates with IAM, accepts TLS only, is protected from deletion where the
environment asks for it, and is backed up.

checkov judges these one attribute at a time, and not at all where the answer lives in another
resource: whether its key is the training class's (features and experiment metadata are training
data), whether its cluster parameter group really sets `rds.force_ssl = 1`, and whether the
environment's AWS Backup plan (another stack) selects it. Per `aws_rds_cluster` with an
`aurora-postgresql` engine:
- `storage_encrypted` and `kms_key_id` of the training key (also for the master secret);
- `iam_database_authentication_enabled`, and the master password managed by RDS in Secrets Manager
  (`manage_master_user_password`; no literal `master_password`);
- a `db_cluster_parameter_group_name` naming a parameter group of the same stack that sets
  `rds.force_ssl` to 1;
- `deletion_protection` when `platform.deletion_protection` is on (always in prod), automated backups
  (`backup_retention_period` at least 1, 7 in prod), and the Backup tag the environment's AWS Backup
  plan selects clusters by.
A reference that cannot be resolved fails (not judged).
"""
from __future__ import annotations

from typing import Iterator

from modules.naming import BACKUP_TAG_KEY
from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import effective_tags, key_class_of
from policies.app_checks.view import AppView, Env, Stack, nested
from policies.checks.aegis_values import is_true

PROD_MIN_BACKUP_DAYS = 7


@app_check("AEGIS_TRAINING_STORE_CONTROLS",
           "Aurora PostgreSQL is encrypted with the training key, IAM-authenticated, TLS-only, protected and backed up")
def training_store_controls(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_rds_cluster"):
            if conf.get("engine") != "aurora-postgresql":
                continue
            yield judge(stack.name, f"aws_rds_cluster.{name}", _problems(env, stack, conf),
                        "training key, IAM authentication, TLS only, deletion protection and backups")


def _problems(env: Env, stack: Stack, conf: dict) -> Iterator[str]:
    if not is_true(conf.get("storage_encrypted")):
        yield "storage_encrypted is not true"
    for attribute in ("kms_key_id", "master_user_secret_kms_key_id"):
        found = key_class_of(env, stack, conf.get(attribute))
        if found != "training":
            yield f"{attribute} is {'not the key of a known class' if found is None else f'the {found} key'}: " \
                  "features and experiment metadata are training data (the training key)"
    if not is_true(conf.get("iam_database_authentication_enabled")):
        yield "iam_database_authentication_enabled is not true: people and jobs would hold database passwords"
    if conf.get("master_password") is not None or not is_true(conf.get("manage_master_user_password")):
        yield "the master password is not managed by RDS in Secrets Manager (manage_master_user_password)"
    yield from _tls_problems(stack, conf)
    if env.config.platform.deletion_protection and not is_true(conf.get("deletion_protection")):
        yield "deletion_protection is off although platform.deletion_protection is on"
    days = conf.get("backup_retention_period")
    minimum = PROD_MIN_BACKUP_DAYS if env.prod else 1
    if not isinstance(days, int) or days < minimum:
        yield f"backup_retention_period is {days!r}: keep at least {minimum} days of automated backups"
    if effective_tags(stack, conf).get(BACKUP_TAG_KEY) != env.naming.backup_tag_value:
        yield (f"no {BACKUP_TAG_KEY}={env.naming.backup_tag_value} tag: the environment's AWS Backup plan does not "
               "select it")


def _tls_problems(stack: Stack, conf: dict) -> Iterator[str]:
    target = stack.target(conf.get("db_cluster_parameter_group_name"), "aws_rds_cluster_parameter_group")
    if target is None:
        yield ("db_cluster_parameter_group_name is not a parameter group of this stack: the default group "
               "accepts connections without TLS")
        return
    parameters = {p.get("name"): str(p.get("value")) for p in nested(target[1], "parameter")}
    if parameters.get("rds.force_ssl") != "1":
        yield f"parameter group {target[0]} does not set rds.force_ssl to 1: clients may connect without TLS"
