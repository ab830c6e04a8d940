"""CKV_AEGIS_4, 5, 21: GPU fleet launch templates and Auto Scaling groups."""
from __future__ import annotations

import pytest

from policies.checks.asg_spot_resilience import check as spot
from policies.checks.launch_template_ebs_cmk import check as ebs_cmk
from policies.checks.launch_template_instance_isolation import check as isolation
from tests.policies.checks.helpers import FAILED, INFERENCE_KEY, MODEL_KEY, PASSED, mutate, scan

LT = "aws_launch_template"
TEMPLATE = {
    "name": "aegis-dev-llm",
    "image_id": "resolve:ssm:/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-amazon-linux-2023/latest/ami-id",
    "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": {
        "encrypted": "true", "kms_key_id": MODEL_KEY, "volume_size": 200, "volume_type": "gp3"}}],
    "metadata_options": {"http_endpoint": "enabled", "http_tokens": "required", "http_put_response_hop_limit": 1},
    "network_interfaces": [{"associate_public_ip_address": "false", "security_groups": ["${aws_security_group.f.id}"]}],
}


class TestLaunchTemplateEbsCmk:
    def test_model_key_on_every_volume_passes(self):
        assert scan(ebs_cmk, LT, TEMPLATE) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("block_device_mappings", None),                                      # left to AMI defaults
        ("block_device_mappings.0.ebs.encrypted", False),
        ("block_device_mappings.0.ebs.kms_key_id", None),                     # AWS-managed aws/ebs key
        ("block_device_mappings.0.ebs.kms_key_id", "alias/aws/ebs"),
        ("block_device_mappings.0.ebs.kms_key_id", INFERENCE_KEY),            # wrong data class
        ("block_device_mappings.0.ebs.kms_key_id", "${var.ebs_key}"),         # unresolved: not judged
    ])
    def test_unencrypted_or_wrong_key_fails(self, path, value):
        conf = mutate(TEMPLATE, path, delete=True) if value is None else mutate(TEMPLATE, path, value)
        assert scan(ebs_cmk, LT, conf) == FAILED

    def test_a_second_unencrypted_volume_fails(self):
        conf = mutate(TEMPLATE, "block_device_mappings", TEMPLATE["block_device_mappings"] + [
            {"device_name": "/dev/sdf", "ebs": {"volume_size": 500}}])
        assert scan(ebs_cmk, LT, conf) == FAILED


class TestLaunchTemplateIsolation:
    def test_imdsv2_hop_limit_one_private_passes(self):
        assert scan(isolation, LT, TEMPLATE) == PASSED

    def test_disabled_metadata_endpoint_passes(self):
        assert scan(isolation, LT, mutate(TEMPLATE, "metadata_options", {"http_endpoint": "disabled"})) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("metadata_options", None),
        ("metadata_options.http_tokens", "optional"),                        # IMDSv1
        ("metadata_options.http_put_response_hop_limit", 2),                 # containers reach the creds
        ("metadata_options.http_put_response_hop_limit", None),
        ("network_interfaces.0.associate_public_ip_address", True),
    ])
    def test_imdsv1_hop_limit_or_public_ip_fails(self, path, value):
        conf = mutate(TEMPLATE, path, delete=True) if value is None else mutate(TEMPLATE, path, value)
        assert scan(isolation, LT, conf) == FAILED

    @pytest.mark.parametrize("public", ["${var.public_ip}", "${aws_subnet.public.map_public_ip_on_launch}",
                                        "maybe"])
    def test_attack_public_ip_setting_by_reference_passes_unjudged_is_refused(self, public):
        conf = mutate(TEMPLATE, "network_interfaces.0.associate_public_ip_address", public)
        assert scan(isolation, LT, conf) == FAILED

    @pytest.mark.parametrize("public", [False, "false", "FALSE", None])
    def test_a_public_ip_setting_known_to_be_off_or_unset_passes(self, public):
        path = "network_interfaces.0.associate_public_ip_address"
        conf = mutate(TEMPLATE, path, delete=True) if public is None else mutate(TEMPLATE, path, public)
        assert scan(isolation, LT, conf) == PASSED


ASG = "aws_autoscaling_group"
GROUP = {
    "name": "aegis-dev-llm", "min_size": 1, "max_size": 4,
    "target_group_arns": ["${aws_lb_target_group.llm.arn}"], "health_check_type": "ELB",
    "capacity_rebalance": True,
    "mixed_instances_policy": {
        "instances_distribution": {"on_demand_base_capacity": 0, "on_demand_percentage_above_base_capacity": 0,
                                   "spot_allocation_strategy": "price-capacity-optimized"},
        "launch_template": {"launch_template_specification": {"launch_template_id": "${aws_launch_template.llm.id}"},
                            "override": [{"instance_type": "g5.xlarge"}, {"instance_type": "g6.xlarge"}]},
    },
}


class TestAsgSpotResilience:
    def test_capacity_aware_spot_with_rebalance_passes(self):
        assert scan(spot, ASG, GROUP) == PASSED

    def test_on_demand_only_group_passes_without_spot_settings(self):
        conf = mutate(mutate(GROUP, "mixed_instances_policy.instances_distribution",
                             {"on_demand_percentage_above_base_capacity": 100}), "capacity_rebalance", False)
        assert scan(spot, ASG, conf) == PASSED

    @pytest.mark.parametrize("path, value", [
        ("mixed_instances_policy.instances_distribution.spot_allocation_strategy", "lowest-price"),
        ("mixed_instances_policy.instances_distribution.spot_allocation_strategy", None),   # default lowest-price
        ("capacity_rebalance", False),
        ("health_check_type", "EC2"),                                                       # behind an ALB
    ])
    def test_interruption_blind_spot_or_ec2_health_checks_fail(self, path, value):
        conf = mutate(GROUP, path, delete=True) if value is None else mutate(GROUP, path, value)
        assert scan(spot, ASG, conf) == FAILED
