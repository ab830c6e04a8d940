"""CKV_AEGIS_13: stores of inference data are encrypted with the inference-data key.

Online features and predictions (DynamoDB), the shared model cache (EFS), failed-event queues
(SQS) and inference function environment variables (Lambda) all hold inference data, so they use
the inference class's CMK: keys are separated by data class, and a key shared with training or
audit data would let one class's users decrypt another's. checkov's CKV_AWS_119/184/27/173 accept
any key (or AWS-owned keys). A Lambda function without environment variables has nothing to
encrypt (UNKNOWN). An unresolvable key reference fails (not judged). Not environment-dependent.

Two queues hold no inference data but alerts, audit data that must use the audit key like the alert
topic they serve: the alert archive (`<project>-<env>-alert-archive`, modules/naming.py) keeps the
topic's messages, and the approval events' dead-letter queue (`<project>-<env>-model-approvals-dlq`,
modules/access/approval_events.py) keeps the events EventBridge could not deliver to it.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, is_true, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, is_true, key_problem, value


# Names of the queues that hold alerts (Naming.alert_archive(), approval_events.dlq_name()).
ALERT_QUEUE_SUFFIXES = ("-alert-archive", "-model-approvals-dlq")


class InferenceStoreKey(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_13", "Inference data stores (DynamoDB, EFS, SQS, Lambda environment) use the inference-data key",
            ["aws_dynamodb_table", "aws_efs_file_system", "aws_sqs_queue", "aws_lambda_function"],
                         [CheckCategories.ENCRYPTION, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        kind = self.entity_type
        if kind == "aws_dynamodb_table":
            self.evaluated_keys = ["server_side_encryption"]
            sse = block(conf, "server_side_encryption")
            if sse is None or not is_true(value(sse, "enabled")):
                return self.fail("server_side_encryption with a CMK is not enabled (AWS-owned key)")
            raw = value(sse, "kms_key_arn")
        elif kind == "aws_efs_file_system":
            self.evaluated_keys = ["encrypted", "kms_key_id"]
            if not is_true(value(conf, "encrypted")):
                return self.fail("the file system is not encrypted")
            raw = value(conf, "kms_key_id")
        elif kind == "aws_sqs_queue":
            self.evaluated_keys = ["kms_master_key_id", "name"]
            raw = value(conf, "kms_master_key_id")
            name = value(conf, "name")
            if isinstance(name, str) and name.endswith(ALERT_QUEUE_SUFFIXES):
                problem = key_problem(raw, "audit", kind)
                return self.fail(problem) if problem else CheckResult.PASSED
        else:  # aws_lambda_function
            self.evaluated_keys = ["kms_key_arn", "environment"]
            if block(conf, "environment") is None:
                return self.not_applicable()
            raw = value(conf, "kms_key_arn")
        problem = key_problem(raw, "inference", kind)
        return self.fail(problem) if problem else CheckResult.PASSED

check = InferenceStoreKey()
