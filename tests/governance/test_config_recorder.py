"""AWS Config records every supported resource type (global ones in the home region only), is
switched on, and delivers encrypted to the audit bucket where the bucket and key policies admit it."""
from __future__ import annotations

import json

from modules.governance.config_recorder import DELIVERY_PREFIX, service_linked_role_arn


def test_recorder_covers_all_supported_resources(gov):
    _, recorder = gov.one("aws_config_configuration_recorder")
    group = recorder["recording_group"]
    assert group["all_supported"] is True
    assert not group.get("resource_types") and not group.get("exclusion_by_resource_types")
    # Every default environment is its own home region, so it records IAM and other global types.
    assert gov.settings.recorder.home_region(gov.config.region) == gov.config.region
    assert group["include_global_resource_types"] is True


def test_global_resources_only_in_the_home_region(variant):
    _, recorder = variant.one("aws_config_configuration_recorder")
    assert variant.config.region != variant.settings.recorder.global_resources_region
    assert recorder["recording_group"]["all_supported"] is True
    assert recorder["recording_group"]["include_global_resource_types"] is False


def test_recording_frequency_follows_config(gov):
    _, recorder = gov.one("aws_config_configuration_recorder")
    assert recorder["recording_mode"]["recording_frequency"] == gov.settings.recorder.recording_frequency
    if gov.config.tier == "prod":
        assert recorder["recording_mode"]["recording_frequency"] == "CONTINUOUS"


def test_recorder_uses_the_config_service_linked_role(gov):
    _, recorder = gov.one("aws_config_configuration_recorder")
    name, role = gov.one("aws_iam_service_linked_role")
    assert role["aws_service_name"] == "config.amazonaws.com"
    assert recorder["role_arn"] == gov.ref("aws_iam_service_linked_role", name, "arn")
    assert service_linked_role_arn("123456789012").endswith(
        ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig")


def test_delivery_to_audit_bucket_with_audit_key(gov):
    _, channel = gov.one("aws_config_delivery_channel")
    assert channel["s3_bucket_name"] == gov.naming.bucket("audit")
    assert channel["s3_key_prefix"] == DELIVERY_PREFIX
    assert gov.key_lookup(channel["s3_kms_key_arn"])["key_id"] == gov.naming.kms_alias_arn("audit")
    assert channel["snapshot_delivery_properties"]["delivery_frequency"] == gov.settings.recorder.snapshot_frequency


def test_recorder_is_enabled_after_its_channel(gov):
    recorder_name, _ = gov.one("aws_config_configuration_recorder")
    channel_name, _ = gov.one("aws_config_delivery_channel")
    _, status = gov.one("aws_config_configuration_recorder_status")
    assert status["is_enabled"] is True
    assert status["name"] == gov.ref("aws_config_configuration_recorder", recorder_name, "name")
    assert f"aws_config_delivery_channel.{channel_name}" in status["depends_on"]


def test_audit_bucket_and_key_admit_config_delivery(gov, data_stack):
    """The data stack's audit bucket policy and audit key policy let Config write where the channel points."""
    account = gov.config.account_id
    audit = gov.naming.bucket("audit")
    policies = [json.loads(p["policy"]) for p in data_stack["resource"]["aws_s3_bucket_policy"].values()
                if audit in p["policy"]]
    writes = [s for p in policies for s in p["Statement"]
              if s.get("Principal") == {"Service": "config.amazonaws.com"} and s["Action"] == "s3:PutObject"]
    assert writes and writes[0]["Resource"] == f"arn:aws:s3:::{audit}/{DELIVERY_PREFIX}/AWSLogs/{account}/Config/*"
    audit_keys = [json.loads(k["policy"]) for k in data_stack["resource"]["aws_kms_key"].values()
                  if "CloudTrailEncryptLogs" in k["policy"]]
    statements = [s for policy in audit_keys for s in policy["Statement"] if s["Sid"] == "ConfigDelivery"]
    assert statements and all(s["Principal"] == {"Service": "config.amazonaws.com"}
                              and "kms:GenerateDataKey" in s["Action"]
                              and s["Condition"]["StringEquals"]["aws:SourceAccount"] == account for s in statements)
