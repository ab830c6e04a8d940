"""CloudFront in front of the prod fleet (VPC origin, TLS, WAF, logging) and the shared storage
(DynamoDB and EFS) of every environment."""
from __future__ import annotations

import json

from modules.platform.edge_key import EDGE_REGION
from modules.platform.waf import EDGE_GROUPS
from tests.platform.conftest import as_list, blocked_ip_sets, ref, ref_parts, statements


def test_cloudfront_only_where_configured(view):
    configured = [m for m in view.models("ec2") if m.ec2.cloudfront]
    assert len(view.res("aws_cloudfront_distribution")) == len(configured)
    assert (view.env == "prod") == bool(configured)  # enabled in one default env so it is synthesized


def test_cloudfront_viewer_tls_waf_and_private_origin(prod):
    (model,) = [m for m in prod.models("ec2") if m.ec2.cloudfront]
    cf = model.ec2.cloudfront
    _, dist = prod.one_of_model("aws_cloudfront_distribution", model.name)
    cert = dist["viewer_certificate"]
    assert cert["minimum_protocol_version"] == "TLSv1.2_2021" and cert["ssl_support_method"] == "sni-only"
    assert cert["acm_certificate_arn"] == cf.certificate_arn and ":us-east-1:" in cf.certificate_arn
    assert dist["default_cache_behavior"]["viewer_protocol_policy"] == "https-only"
    assert dist["aliases"] == cf.aliases
    acl = prod.get(dist["web_acl_id"])
    assert acl["scope"] == "CLOUDFRONT" and acl["region"] == EDGE_REGION
    names = {r["statement"]["managed_rule_group_statement"]["name"] for r in acl["rule"]
             if "managed_rule_group_statement" in r["statement"]}
    assert set(EDGE_GROUPS) <= names
    (origin,) = dist["origin"]
    vpc_origin = prod.get(origin["vpc_origin_config"]["vpc_origin_id"])
    (endpoint,) = vpc_origin["vpc_origin_endpoint_config"]
    assert endpoint["origin_protocol_policy"] == "https-only"
    assert endpoint["origin_ssl_protocols"] == [{"items": ["TLSv1.2"], "quantity": 1}]
    lb_logical, lb = prod.one_of_model("aws_lb", model.name)
    assert endpoint["arn"] == ref("aws_lb", lb_logical, "arn") and lb["internal"] is True
    assert dist["restrictions"]["geo_restriction"] == {"restriction_type": "whitelist",
                                                        "locations": cf.allowed_countries}
    headers = prod.get(dist["default_cache_behavior"]["response_headers_policy_id"])
    hsts = headers["security_headers_config"]["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31536000 and hsts["override"] is True


def test_cloudfront_and_edge_waf_log_into_the_edge_audit_key(prod):
    (model,) = [m for m in prod.models("ec2") if m.ec2.cloudfront]
    (key_logical, key), = prod.res("aws_kms_key").items()
    assert key["region"] == EDGE_REGION and key["enable_key_rotation"] is True
    assert key["lifecycle"] == {"prevent_destroy": True}  # like every prod key (was: none on the edge key)
    policy = statements(json.loads(key["policy"]))
    service = [s for s in policy if "Service" in s.get("Principal", {})]
    assert [s["Principal"]["Service"] for s in service] == [f"logs.{EDGE_REGION}.amazonaws.com"]
    key_ref = ref("aws_kms_key", key_logical, "arn")
    _, dist = prod.one_of_model("aws_cloudfront_distribution", model.name)
    dist_logical, _ = prod.one_of_model("aws_cloudfront_distribution", model.name)
    _, source = prod.one_of_model("aws_cloudwatch_log_delivery_source", model.name)
    assert source["resource_arn"] == ref("aws_cloudfront_distribution", dist_logical, "arn")
    assert source["log_type"] == "ACCESS_LOGS" and source["region"] == EDGE_REGION
    _, destination = prod.one_of_model("aws_cloudwatch_log_delivery_destination", model.name)
    (config,) = destination["delivery_destination_configuration"]
    group = prod.get(config["destination_resource_arn"])
    assert group["kms_key_id"] == key_ref and group["region"] == EDGE_REGION
    acl_logical = ref_parts(dist["web_acl_id"])[1]
    assert blocked_ip_sets(prod, prod.res("aws_wafv2_web_acl")[acl_logical]) == {"IPV4": "CLOUDFRONT", "IPV6": "CLOUDFRONT"}
    (logging,) = [c for c in prod.res("aws_wafv2_web_acl_logging_configuration").values()
                  if c["resource_arn"] == ref("aws_wafv2_web_acl", acl_logical, "arn")]
    waf_group = prod.get(logging["log_destination_configs"][0])
    assert waf_group["kms_key_id"] == key_ref and waf_group["name"].startswith("aws-waf-logs-")
    assert logging["region"] == EDGE_REGION


def test_storage_no_workload_uses_is_opt_in(view):
    """No workload reads the table (was: created in every environment); the EFS cache exists only where a
    GPU fleet mounts it (`ec2.model_cache`), not by default."""
    assert view.config.platform.storage.predictions_table is False and view.res("aws_dynamodb_table") == {}
    assert view.config.platform.storage.model_cache is False
    mounted = any(m.ec2_settings.model_cache for m in view.models("ec2"))
    assert len(view.res("aws_efs_file_system")) == (1 if mounted else 0)
    assert ("predictions-table" in view.stack.get("output", {})) is False


def test_dynamodb_table_when_opted_in(opted_in_storage):
    view = opted_in_storage
    (table,) = view.res("aws_dynamodb_table").values()
    assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": view.key_ref("inference")}
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is view.config.platform.deletion_protection
    assert table["tags"]["Backup"] == view.naming.backup_tag_value  # selected by the governance backup plan
    assert "predictions-table" in view.stack["output"]


def test_model_cache_when_opted_in_without_a_fleet(opted_in_storage):
    assert not opted_in_storage.models("ec2")
    assert len(opted_in_storage.res("aws_efs_file_system")) == 1
    assert len(opted_in_storage.res("aws_efs_mount_target")) == len(opted_in_storage.private_subnets())


def test_efs_model_cache(opted_in_storage):
    view = opted_in_storage
    (fs_logical, fs) = next(iter(view.res("aws_efs_file_system").items()))
    assert len(view.res("aws_efs_file_system")) == 1
    fs_id = ref("aws_efs_file_system", fs_logical, "id")
    assert fs["encrypted"] is True and fs["kms_key_id"] == view.key_ref("inference")
    assert fs["tags"]["Backup"] == view.naming.backup_tag_value
    assert (fs.get("lifecycle") == {"prevent_destroy": True}) is view.config.platform.deletion_protection
    (backup,) = view.res("aws_efs_backup_policy").values()
    assert backup == {**backup, "file_system_id": fs_id, "backup_policy": {"status": "ENABLED"}}
    targets = view.res("aws_efs_mount_target").values()
    assert sorted(t["subnet_id"] for t in targets) == view.private_subnet_refs()
    (sg_logical, _) = view.one("aws_security_group", name=view.naming.resource("model-cache"))
    assert all(t["security_groups"] == [ref("aws_security_group", sg_logical, "id")] for t in targets)
    for rule in view.rules_of(sg_logical, "ingress"):  # NFS from the fleets only
        assert (rule["from_port"], rule["to_port"]) == (2049, 2049)
        fleet = view.get(rule["referenced_security_group_id"])
        assert fleet["name"].endswith("-fleet")
    (point,) = view.res("aws_efs_access_point").values()
    assert point["posix_user"]["uid"] == 1000 and point["root_directory"]["path"] == "/model-cache"


def test_efs_policy_denies_non_tls_and_mounts_outside_the_access_point(opted_in_storage):
    (policy,) = opted_in_storage.res("aws_efs_file_system_policy").values()
    doc = statements(json.loads(policy["policy"]))
    assert policy["bypass_policy_lockout_safety_check"] is False
    tls = [s for s in doc if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}]
    assert tls and tls[0]["Principal"] == {"AWS": "*"} and tls[0]["Action"] == "elasticfilesystem:*"
    outside = [s for s in doc if s["Effect"] == "Deny" and "StringNotEquals" in s.get("Condition", {})]
    assert "elasticfilesystem:ClientRootAccess" in as_list(outside[0]["Action"])
    for allow in [s for s in doc if s["Effect"] == "Allow"]:
        assert allow["Condition"]["Bool"] == {"aws:SecureTransport": "true"}
        assert "elasticfilesystem:ClientRootAccess" not in as_list(allow["Action"])
