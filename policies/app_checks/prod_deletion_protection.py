"""AEGIS_PROD_DELETION_PROTECTION: stateful resources in prod are protected from deletion.

A mistaken `terraform destroy` or a replacement must not delete training data, model artifacts,
keys, feature tables, the model cache or audit logs in prod. Each stateful resource of a `prod`
tier environment needs its service's deletion protection or Terraform's
`lifecycle.prevent_destroy`:
  S3 bucket, ECR repository: prevent_destroy, or `force_destroy`/`force_delete` explicitly false
    (the services refuse to delete a bucket or repository that still holds objects or images, so
    the data cannot go with it); force_destroy/force_delete true always fails;
  EFS file system: prevent_destroy (EFS deletes a file system with its data);
  DynamoDB table, CloudWatch log group: deletion_protection_enabled or prevent_destroy;
  RDS/DocumentDB/Neptune: deletion_protection or prevent_destroy;
  Backup vault: prevent_destroy or a vault lock.
KMS keys are judged by AEGIS_PROD_KMS_PREVENT_DESTROY (prevent_destroy, no alternative).
Other environments are not judged.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.lookups import attached
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import is_true

# Services that refuse to delete a container that still holds data, unless forced.
REFUSE_NON_EMPTY = {"aws_s3_bucket": "force_destroy", "aws_ecr_repository": "force_delete"}
PREVENT_ONLY = ("aws_s3_bucket", "aws_efs_file_system", "aws_ecr_repository")
FLAG = {
    "aws_dynamodb_table": "deletion_protection_enabled",
    "aws_cloudwatch_log_group": "deletion_protection_enabled",
    "aws_db_instance": "deletion_protection",
    "aws_rds_cluster": "deletion_protection",
    "aws_docdb_cluster": "deletion_protection",
    "aws_neptune_cluster": "deletion_protection",
}
STATEFUL = PREVENT_ONLY + tuple(FLAG) + ("aws_backup_vault",)


@app_check("AEGIS_PROD_DELETION_PROTECTION", "Stateful resources in prod have deletion protection or prevent_destroy")
def prod_deletion_protection(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for rtype in STATEFUL:
            for stack, name, conf in env.resources(rtype):
                yield judge(stack.name, f"{rtype}.{name}", _problems(stack, rtype, name, conf),
                            "protected from deletion")


def _problems(stack, rtype, name, conf):
    prevented = is_true((one(conf, "lifecycle") or {}).get("prevent_destroy"))
    if is_true(conf.get("force_destroy")) or is_true(conf.get("force_delete")):
        yield "force_destroy/force_delete would delete the contents with the resource"
    if prevented:
        return
    if rtype in FLAG:
        if not is_true(conf.get(FLAG[rtype])):
            yield f"neither {FLAG[rtype]} nor lifecycle.prevent_destroy"
    elif rtype == "aws_backup_vault":
        if not attached(stack, "aws_backup_vault_lock_configuration", "aws_backup_vault", name, conf,
                        "backup_vault_name"):
            yield "neither lifecycle.prevent_destroy nor a vault lock"
    elif rtype in REFUSE_NON_EMPTY:
        if conf.get(REFUSE_NON_EMPTY[rtype]) is not False:
            yield f"neither lifecycle.prevent_destroy nor an explicit {REFUSE_NON_EMPTY[rtype]} = false"
    else:
        yield "no lifecycle.prevent_destroy"
