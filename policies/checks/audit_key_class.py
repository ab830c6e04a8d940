"""CKV_AEGIS_14: audit records are encrypted with the audit key.

CloudTrail logs, CloudWatch log groups, the AWS Config delivery channel and the backup vault hold
the evidence of who touched which model and which data. They use the audit class's CMK, whose
users are the audit services and auditors, never the ML personas that the evidence is about.
Required: the key attribute is present and resolves to the audit class. An unresolvable key
reference fails (not judged). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, key_problem, value

KEY_ATTRIBUTE = {
    "aws_cloudtrail": "kms_key_id",
    "aws_cloudwatch_log_group": "kms_key_id",
    "aws_config_delivery_channel": "s3_kms_key_arn",
    "aws_backup_vault": "kms_key_arn",
}


class AuditKeyClass(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_14", "Audit records (CloudTrail, log groups, Config delivery, backup vault) use the audit key",
            list(KEY_ATTRIBUTE), [CheckCategories.ENCRYPTION, CheckCategories.LOGGING])

    def evaluate(self, conf):
        attribute = KEY_ATTRIBUTE[self.entity_type]
        self.evaluated_keys = [attribute]
        problem = key_problem(value(conf, attribute), "audit", f"{self.entity_type}.{attribute}")
        return self.fail(problem) if problem else CheckResult.PASSED


check = AuditKeyClass()
