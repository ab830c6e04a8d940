"""CKV_AEGIS_16, 18: Config recorder coverage and object lock retention."""
from __future__ import annotations

import pytest

from policies.checks.config_recorder_all_resources import check as recorder
from policies.checks.s3_object_lock_retention import check as lock
from tests.policies.checks.helpers import FAILED, PASSED, mutate, scan

RECORDER = {"name": "aegis-dev", "role_arn": "${aws_iam_service_linked_role.config.arn}",
            "recording_group": {"all_supported": True, "include_global_resource_types": True}}


class TestConfigRecorder:
    def test_all_supported_passes(self):
        assert scan(recorder, "aws_config_configuration_recorder", RECORDER) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("recording_group", None),
        ("recording_group.all_supported", False),
        ("recording_group", {"all_supported": False, "resource_types": ["AWS::S3::Bucket"]}),
        ("recording_group.exclusion_by_resource_types", {"resource_types": ["AWS::SageMaker::Model"]}),
        ("recording_group.recording_strategy", {"use_only": "EXCLUSION_BY_RESOURCE_TYPES"}),
    ])
    def test_partial_recording_fails(self, path, value):
        conf = mutate(RECORDER, path, delete=True) if value is None else mutate(RECORDER, path, value)
        assert scan(recorder, "aws_config_configuration_recorder", conf) == FAILED


LOCK = {"bucket": "${aws_s3_bucket.audit.id}", "object_lock_enabled": "Enabled",
        "rule": {"default_retention": {"mode": "COMPLIANCE", "days": 365}}}


class TestObjectLockRetention:
    @pytest.mark.parametrize("retention", [{"mode": "GOVERNANCE", "days": 7}, {"mode": "COMPLIANCE", "years": 1}])
    def test_default_retention_passes(self, retention):
        assert scan(lock, "aws_s3_bucket_object_lock_configuration",
                    mutate(LOCK, "rule.default_retention", retention)) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("rule", None),
        ("rule.default_retention.mode", "NONE"),
        ("rule.default_retention.days", 0),
        ("rule.default_retention.days", "${var.days}"),
        ("rule.default_retention", {"mode": "COMPLIANCE"}),
    ])
    def test_no_usable_default_retention_fails(self, path, value):
        conf = mutate(LOCK, path, delete=True) if value is None else mutate(LOCK, path, value)
        assert scan(lock, "aws_s3_bucket_object_lock_configuration", conf) == FAILED
