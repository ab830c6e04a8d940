"""CKV_AEGIS_13, 14, 15: stores use the key of their data class."""
from __future__ import annotations

import pytest

from policies.checks.aegis_checklib import KEY_CLASSES, key_class
from policies.checks.audit_key_class import check as audit_key
from policies.checks.ecr_model_key import check as ecr_key
from policies.checks.inference_store_key import check as inference_key
from tests.policies.checks.helpers import (
    AUDIT_KEY,
    FAILED,
    INFERENCE_KEY,
    MODEL_KEY,
    PASSED,
    TRAINING_KEY,
    UNKNOWN,
    scan,
)


def test_key_classes_match_the_naming_module():
    from modules.naming import KEY_CLASSES as NAMING_CLASSES

    assert KEY_CLASSES == NAMING_CLASSES


@pytest.mark.parametrize("raw, expected", [
    ("${data.aws_kms_key.kms-model.arn}", "model"),
    ("${data.aws_kms_key.kms-audit-dr.arn}", "audit"),
    ("${aws_kms_key.kms-training-dr_key_C0A49465.arn}", "training"),
    ("${aws_kms_key.kms-audit-edge_key_ADEBD9A5.arn}", "audit"),        # us-east-1 key of the audit class
    ("arn:aws:kms:us-east-1:777788889999:alias/aegis-prod-audit-edge", "audit"),
    ("arn:aws:kms:eu-west-1:111122223333:alias/aegis-prod-inference", "inference"),
    ("${data.aws_kms_key.kms-state.arn}", None),
    ("${aws_kms_key.other.arn}", None),
    ("arn:aws:kms:eu-west-1:111122223333:key/abcd", None),
    (None, None),
])
def test_key_class_resolution(raw, expected):
    assert key_class(raw) == expected


STORES = {
    "aws_dynamodb_table": {"name": "t", "server_side_encryption": {"enabled": True, "kms_key_arn": INFERENCE_KEY}},
    "aws_efs_file_system": {"encrypted": True, "kms_key_id": INFERENCE_KEY},
    "aws_sqs_queue": {"name": "q", "kms_master_key_id": INFERENCE_KEY},
    "aws_lambda_function": {"function_name": "f", "kms_key_arn": INFERENCE_KEY,
                            "environment": {"variables": {"MODEL": "fraud"}}},
}
WRONG = {
    "aws_dynamodb_table": [{"name": "t"}, {"name": "t", "server_side_encryption": {"enabled": True}},
                           {"name": "t", "server_side_encryption": {"enabled": True, "kms_key_arn": TRAINING_KEY}}],
    "aws_efs_file_system": [{"encrypted": False}, {"encrypted": True},
                            {"encrypted": True, "kms_key_id": MODEL_KEY}],
    "aws_sqs_queue": [{"name": "q"}, {"name": "q", "sqs_managed_sse_enabled": True},
                      {"name": "q", "kms_master_key_id": "alias/aws/sqs"}],
    "aws_lambda_function": [{"function_name": "f", "environment": {"variables": {"A": "b"}}},
                            {"function_name": "f", "kms_key_arn": AUDIT_KEY, "environment": {"variables": {"A": "b"}}}],
}


class TestInferenceStoreKey:
    @pytest.mark.parametrize("rtype", sorted(STORES))
    def test_inference_key_passes(self, rtype):
        assert scan(inference_key, rtype, STORES[rtype]) == PASSED

    @pytest.mark.parametrize("rtype, conf", [(t, c) for t, confs in sorted(WRONG.items()) for c in confs])
    def test_missing_or_other_key_fails(self, rtype, conf):
        assert scan(inference_key, rtype, conf) == FAILED

    def test_lambda_without_environment_has_nothing_to_encrypt(self):
        assert scan(inference_key, "aws_lambda_function", {"function_name": "f"}) == UNKNOWN

    def test_the_alert_queues_hold_audit_data_and_need_the_audit_key(self):
        from modules.access.approval_events import dlq_name
        from modules.config import load_env
        from modules.naming import Naming

        naming = Naming.of(load_env("dev"))
        for name in (naming.alert_archive(), dlq_name(naming)):
            assert scan(inference_key, "aws_sqs_queue", {"name": name, "kms_master_key_id": AUDIT_KEY}) == PASSED
            assert scan(inference_key, "aws_sqs_queue", {"name": name, "kms_master_key_id": INFERENCE_KEY}) == FAILED
            assert scan(inference_key, "aws_sqs_queue", {"name": name}) == FAILED
        # Any other queue still needs the inference key.
        assert scan(inference_key, "aws_sqs_queue", {"name": "aegis-dev-fraud-dlq", "kms_master_key_id": AUDIT_KEY}) == FAILED


AUDIT = {
    "aws_cloudtrail": ("kms_key_id", {"name": "t", "s3_bucket_name": "b"}),
    "aws_cloudwatch_log_group": ("kms_key_id", {"name": "/aws/lambda/x", "retention_in_days": 365}),
    "aws_config_delivery_channel": ("s3_kms_key_arn", {"s3_bucket_name": "b"}),
    "aws_backup_vault": ("kms_key_arn", {"name": "v"}),
}


class TestAuditKey:
    @pytest.mark.parametrize("rtype", sorted(AUDIT))
    def test_audit_key_passes(self, rtype):
        attribute, conf = AUDIT[rtype]
        assert scan(audit_key, rtype, dict(conf, **{attribute: AUDIT_KEY})) == PASSED

    @pytest.mark.parametrize("rtype", sorted(AUDIT))
    @pytest.mark.parametrize("key", [None, INFERENCE_KEY, "${var.key}"])
    def test_missing_other_or_unresolved_key_fails(self, rtype, key):
        attribute, conf = AUDIT[rtype]
        assert scan(audit_key, rtype, conf if key is None else dict(conf, **{attribute: key})) == FAILED


class TestEcrModelKey:
    def test_kms_with_model_key_passes(self):
        conf = {"name": "r", "encryption_configuration": {"encryption_type": "KMS", "kms_key": MODEL_KEY}}
        assert scan(ecr_key, "aws_ecr_repository", conf) == PASSED

    @pytest.mark.parametrize("encryption", [
        None, {"encryption_type": "AES256"}, {"encryption_type": "KMS"},
        {"encryption_type": "KMS", "kms_key": INFERENCE_KEY}])
    def test_default_aes_or_other_key_fails(self, encryption):
        conf = {"name": "r"} if encryption is None else {"name": "r", "encryption_configuration": encryption}
        assert scan(ecr_key, "aws_ecr_repository", conf) == FAILED
