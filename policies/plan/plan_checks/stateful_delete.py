"""AEGIS_PLAN_STATEFUL_DELETE: deleting or replacing a resource that holds data is blocked unless an
approval names its exact address with a reason (policies/approvals.yaml).

A replace destroys the object too (`["delete","create"]`, and `["create","delete"]` with
create_before_destroy), so it counts as a delete. `["create","forget"]` and `["forget"]` leave the
object in the account and are not deletes.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import PlanCheck, fail, ident, ok, plan_check

# Resource type → what it holds (for the message).
STATEFUL = {
    "aws_s3_bucket": "S3 bucket (its objects and versions)",
    "aws_kms_key": "KMS key (everything encrypted with it becomes unreadable)",
    "aws_kms_replica_key": "KMS replica key (data encrypted with it in that region)",
    "aws_kms_external_key": "KMS key with imported material (everything encrypted with it)",
    "aws_dynamodb_table": "DynamoDB table (its items)",
    "aws_efs_file_system": "EFS file system (its files)",
    "aws_cloudwatch_log_group": "log group (its log events)",
    "aws_cloudtrail": "CloudTrail trail (the audit record stops)",
    "aws_backup_vault": "backup vault (its recovery points)",
    "aws_config_configuration_recorder": "AWS Config recorder (configuration history stops)",
    "aws_secretsmanager_secret": "Secrets Manager secret (its value)",
    "aws_ecr_repository": "ECR repository (its images)",
}


@plan_check
class StatefulDelete(PlanCheck):
    id = "AEGIS_PLAN_STATEFUL_DELETE"
    types = tuple(STATEFUL)

    def judge(self, rc, ctx):
        what = STATEFUL[rc.type]
        name = ident(rc.before) or rc.address
        if rc.deletes:
            how = ("replaced (destroyed, then created anew" if rc.actions[0] == "delete"
                   else "replaced (created anew, then the old one destroyed")
            how = f"{how}{'; ' + rc.action_reason if rc.action_reason else ''})" if rc.is_replace else "destroyed"
            deposed = f" (deposed object {rc.deposed})" if rc.deposed else ""
            yield fail(rc, f"{what} '{name}'{deposed} will be {how}; approve it by its exact address in "
                           "policies/approvals.yaml with a reason, or change the plan", deletion=True)
        else:
            yield ok(rc, f"{what} '{name}' is kept ({rc.kind})")
