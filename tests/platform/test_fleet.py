"""The `ec2` serving path: launch template (IMDSv2, encrypted gp3, no public IP), the mixed-instances
Auto Scaling group, the HTTPS-only internal ALB with WAF, and their security groups."""
from __future__ import annotations

import json

import pytest

from modules.config import load_env
from modules.platform.waf import MANAGED_GROUPS
from tests.platform.conftest import as_list, blocked_ip_sets, ref, ref_parts, statements, synthesize_platform


def _fleet(view):
    (model,) = view.models("ec2")
    return model, model.ec2


def test_launch_template_isolation_and_encryption(view):
    model, s = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    metadata = lt["metadata_options"]
    assert (metadata["http_tokens"], metadata["http_put_response_hop_limit"]) == ("required", 1)
    (device,) = lt["block_device_mappings"]
    ebs = device["ebs"]
    assert (ebs["volume_type"], ebs["encrypted"], ebs["volume_size"]) == ("gp3", "true", s.root_volume_gb)
    assert ebs["kms_key_id"] == view.key_ref("model")
    assert device["device_name"].endswith(".root_device_name}")  # the AMI's own root device
    (nic,) = lt["network_interfaces"]
    assert nic["associate_public_ip_address"] == "false"
    ami_logical = lt["image_id"].split(".")[2]
    ami = view.data("aws_ami")[ami_logical]
    parameter_logical = ami["filter"][0]["values"][0].split(".")[2]
    assert view.data("aws_ssm_parameter")[parameter_logical]["name"] == s.ami_ssm_parameter
    assert s.ami_ssm_parameter.startswith("/aws/service/")


def test_instance_profile_is_limited_to_the_model(view):
    model, _ = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    profile = view.get(lt["iam_instance_profile"]["arn"])
    role_logical = ref_parts(profile["role"])[1]
    assert view.res("aws_iam_role")[role_logical]["name"] == view.naming.role(f"{model.name}-exec")
    for stmt in statements(view.role_policy(role_logical)):
        resources = as_list(stmt["Resource"])
        if stmt["Sid"] == "EcrAuthorizationToken":
            assert resources == ["*"]
            continue
        assert "*" not in resources
        if stmt["Sid"] == "PullOwnImage":  # the repository <env>-data created, by its conventional ARN
            assert resources == [view.naming.model_repository_arn(model.name)]
        if stmt["Sid"] == "ReadOwnModelArtifacts":
            assert resources == [f"{view.naming.bucket_arn('model-artifacts')}/models/{model.name}/*"]


def test_instances_are_ssm_managed_so_guardduty_and_inspector_reach_them(view, synthesized):
    """GuardDuty's automated agent management and Inspector's EC2 scanning work only on SSM-managed
    instances: the role (within its boundary) lets SSM Agent register and take commands, and the agent
    reaches Systems Manager through interface endpoints (every environment, NAT or not)."""
    from policies.app_checks.aws_managed_policies import KNOWN as AWS_MANAGED
    from policies.iam_eval import Request, is_allowed

    model, _ = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    role_logical = ref_parts(view.get(lt["iam_instance_profile"]["arn"])["role"])[1]
    role = view.res("aws_iam_role")[role_logical]
    attached = [a["policy_arn"] for a in view.res("aws_iam_role_policy_attachment").values()
                if a["role"] == ref("aws_iam_role", role_logical, "name")]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    documents = [view.role_policy(role_logical), AWS_MANAGED[attached[0]]]
    (boundary,) = [json.loads(p["policy"]) for p in synthesized.resources(f"{view.env}-bootstrap", "aws_iam_policy").values()
                   if role["permissions_boundary"].endswith(f"/{p['name']}")]
    n = view.naming
    context = {"aws:RequestedRegion": n.region}
    instance = f"arn:aws:ec2:{n.region}:{n.account_id}:instance/i-0123456789abcdef0"
    for action in ("ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:PutInventory",
                   "ssm:GetParameter", "ssmmessages:CreateControlChannel", "ssmmessages:OpenDataChannel",
                   "ec2messages:GetMessages", "ec2messages:SendReply"):
        resource = instance if action.startswith("ssm:") else "*"
        assert is_allowed(documents, Request(action, resource, context), boundary=boundary), action
    # ... and nothing beyond the agent's needs: not sending commands to other instances.
    assert not is_allowed(documents, Request("ssm:SendCommand", instance, context), boundary=boundary)
    endpoints = {e["service_name"].rsplit(".", 1)[-1] for e in view.res("aws_vpc_endpoint").values()
                 if e["vpc_endpoint_type"] == "Interface" and e["private_dns_enabled"] is True}
    assert {"ssm", "ssmmessages", "ec2messages"} <= endpoints


def test_user_data_runs_own_image_by_digest(view):
    model, s = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    script = lt["user_data"]
    assert script.startswith("${base64encode(")
    assert f"{view.naming.registry}/{view.naming.model_repository(model.name)}@" in script
    assert f":{model.version}" not in script.split("docker run")[1]
    assert f"--publish {s.container_port}:{s.container_port}" in script
    # The shared model cache is opt-in (it needs amazon-efs-utils, which the default AMI lacks).
    assert not s.model_cache and "mount -t efs" not in script


def test_gpu_container_gets_no_aws_location_the_host_stages_the_model(view):
    """At hop limit 1 a bridge-networked container cannot reach the instance role's credentials, so
    the host downloads and checks the artifact and the container only gets it mounted read-only."""
    model, _ = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    assert lt["metadata_options"]["http_put_response_hop_limit"] == 1
    lines = lt["user_data"].split("\\n")
    (run,) = [i for i, line in enumerate(lines) if line.startswith("docker run ")]
    assert "--network host" not in lines[run] and "s3://" not in lines[run]
    assert "--volume /opt/ml/model:/opt/ml/model:ro" in lines[run]
    key = f"s3://{view.naming.bucket('model-artifacts')}/models/{model.name}/{model.version}/model.tar.gz"
    (download,) = [i for i, line in enumerate(lines) if line.startswith("aws s3 cp ") and key in line]
    (verify,) = [i for i, line in enumerate(lines) if "openssl dgst -sha256" in line]
    (unpack,) = [i for i, line in enumerate(lines) if line.startswith("tar -xzf ")]
    assert download < verify < unpack < run


def test_gpu_boot_failures_are_reported_not_silent(view):
    model, _ = _fleet(view)
    _, lt = view.one_of_model("aws_launch_template", model.name)
    lines = lt["user_data"].split("\\n")
    errexit = lines.index("set -Eeuo pipefail")
    (trap,) = [i for i, line in enumerate(lines) if line.startswith("trap ") and line.endswith(" ERR")]
    first_action = next(i for i, line in enumerate(lines) if line.startswith(("mkdir", "aws ", "mount", "docker")))
    assert errexit < trap < first_action
    fail = "\\n".join(lines[lines.index("fail() {"):lines.index("}", lines.index("fail() {"))])
    assert "/dev/console" in lt["user_data"] and "logger -t aegis-boot" in lt["user_data"]
    assert "aws logs put-log-events" in fail and "LOG_GROUP=" + view.naming.log_group(f"models/{model.name}") in lines
    assert any("command -v" in line for line in lines[:first_action])  # tools checked by name first


def test_mixed_instances_group(view):
    model, s = _fleet(view)
    _, group = view.one_of_model("aws_autoscaling_group", model.name)
    assert group["name"] == view.naming.model_resource(model.name)
    assert (group["min_size"], group["max_size"]) == (s.min_size, s.max_size)
    assert sorted(group["vpc_zone_identifier"]) == view.private_subnet_refs()
    policy = group["mixed_instances_policy"]
    dist = policy["instances_distribution"]
    assert dist["spot_allocation_strategy"] == "price-capacity-optimized"
    assert dist["on_demand_base_capacity"] == s.on_demand_base_capacity
    assert dist["on_demand_percentage_above_base_capacity"] == s.on_demand_percentage_above_base
    assert [o["instance_type"] for o in policy["launch_template"]["override"]] == s.instance_types
    assert policy["launch_template"]["launch_template_specification"]["version"].endswith(".latest_version)}")
    assert group["capacity_rebalance"] is True
    assert group["health_check_type"] == "ELB"
    assert group["health_check_grace_period"] == s.health_check_grace_seconds
    (tg,) = group["target_group_arns"]
    assert tg.startswith("${aws_lb_target_group.")


def test_instance_refresh_checkpoints_and_rolls_back_on_the_model_alarms(view):
    model, s = _fleet(view)
    _, group = view.one_of_model("aws_autoscaling_group", model.name)
    refresh = group["instance_refresh"]
    prefs = refresh["preferences"]
    assert refresh["strategy"] == "Rolling"
    assert (prefs["auto_rollback"], prefs["skip_matching"]) == (True, True)
    assert prefs["checkpoint_percentages"] == s.refresh.checkpoint_percentages
    assert prefs["checkpoint_percentages"][-1] == 100  # the refresh replaces the whole group
    assert prefs["checkpoint_delay"] == str(s.refresh.checkpoint_delay_seconds)
    assert (prefs["min_healthy_percentage"], prefs["max_healthy_percentage"]) == (
        s.refresh.min_healthy_percentage, s.refresh.max_healthy_percentage)
    alarms = prefs["alarm_specification"]["alarms"]
    assert alarms == [view.naming.alarm("model", model.name, k) for k in ("5xx", "response-time-p99", "unhealthy-hosts")]
    # AWS rolls back only to a concrete template version, never $Latest or $Default.
    version = group["mixed_instances_policy"]["launch_template"]["launch_template_specification"]["version"]
    assert "$Latest" not in version and "$Default" not in version
    # The alarms a refresh watches exist in the access stack, and watch this model's target group.
    access = view.synthesized.stack(f"{view.env}-access").get("resource", {})
    assert set(alarms) <= {a["alarm_name"] for a in access.get("aws_cloudwatch_metric_alarm", {}).values()}


def test_prod_keeps_on_demand_base_dev_may_be_all_spot(view):
    _, s = _fleet(view)
    _, group = view.one_of_model("aws_autoscaling_group", _fleet(view)[0].name)
    dist = group["mixed_instances_policy"]["instances_distribution"]
    if view.env == "prod":
        assert dist["on_demand_base_capacity"] >= 1 and group["min_size"] >= 2
    if view.env == "dev":
        assert (dist["on_demand_base_capacity"], dist["on_demand_percentage_above_base_capacity"]) == (0, 0)


def test_target_tracking_on_requests_per_target(view):
    model, s = _fleet(view)
    _, policy = view.one_of_model("aws_autoscaling_policy", model.name)
    group_logical, _ = view.one_of_model("aws_autoscaling_group", model.name)
    assert policy["autoscaling_group_name"] == ref("aws_autoscaling_group", group_logical, "name")
    tracking = policy["target_tracking_configuration"]
    spec = tracking["predefined_metric_specification"]
    assert spec["predefined_metric_type"] == "ALBRequestCountPerTarget"
    assert spec["resource_label"].startswith("${aws_lb.") and ".arn_suffix}/${aws_lb_target_group." in spec["resource_label"]
    assert tracking["target_value"] == s.target_requests_per_instance


def test_alb_internal_https_only_tls13(view):
    model, s = _fleet(view)
    lb_logical, lb = view.one_of_model("aws_lb", model.name)
    assert lb["name"] == view.naming.load_balancer(model.name) and len(lb["name"]) <= 32
    assert lb["internal"] is True and s.alb.internal
    assert sorted(lb["subnets"]) == view.private_subnet_refs()
    assert lb["drop_invalid_header_fields"] is True
    assert lb["enable_deletion_protection"] is (view.env != "dev")
    assert lb["access_logs"] == {"bucket": view.naming.bucket("access-logs"), "prefix": "alb", "enabled": True}
    listeners = [li for li in view.res("aws_lb_listener").values()
                 if li["load_balancer_arn"] == ref("aws_lb", lb_logical, "arn")]
    assert listeners, "no listener"
    for listener in listeners:  # no HTTP listener at all, not even a redirect
        assert (listener["protocol"], listener["port"]) == ("HTTPS", 443)
        assert listener["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-")
        assert listener["certificate_arn"] == s.alb.certificate_arn
    _, tg = view.one_of_model("aws_lb_target_group", model.name)
    assert tg["protocol"] == "HTTPS" and tg["health_check"]["protocol"] == "HTTPS"
    assert len(tg["name"]) <= 32


def test_alb_and_fleet_security_groups_admit_only_each_other(view):
    model, s = _fleet(view)
    groups = {v["name"]: k for k, v in view.of_model("aws_security_group", model.name).items()}
    alb_sg = groups[view.naming.resource(f"{model.name}-alb")]
    fleet_sg = groups[view.naming.resource(f"{model.name}-fleet")]
    ingress = view.rules_of(alb_sg, "ingress")
    if s.cloudfront is not None:  # CloudFront only: the VPC would reach it around the edge WAF and geo rules
        (rule,) = ingress
        lookup = rule["prefix_list_id"].removeprefix("${data.aws_ec2_managed_prefix_list.").removesuffix(".id}")
        assert view.data("aws_ec2_managed_prefix_list")[lookup]["name"] == "com.amazonaws.global.cloudfront.origin-facing"
        assert (rule["from_port"], rule["to_port"]) == (443, 443) and "cidr_ipv4" not in rule
    else:
        assert [(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in ingress] == \
            [(443, 443, view.config.platform.network.vpc_cidr)]
    (out,) = view.rules_of(alb_sg, "egress")
    assert (out["from_port"], out["referenced_security_group_id"]) == \
        (s.container_port, ref("aws_security_group", fleet_sg, "id"))
    (into_fleet,) = view.rules_of(fleet_sg, "ingress")
    assert (into_fleet["from_port"], into_fleet["to_port"], into_fleet["referenced_security_group_id"]) == \
        (s.container_port, s.container_port, ref("aws_security_group", alb_sg, "id"))


def test_waf_protects_the_alb_and_logs_redacted(view):
    model, s = _fleet(view)
    lb_logical, _ = view.one_of_model("aws_lb", model.name)
    (association,) = [a for a in view.res("aws_wafv2_web_acl_association").values()
                      if a["resource_arn"] == ref("aws_lb", lb_logical, "arn")]
    acl_logical = ref_parts(association["web_acl_arn"])[1]
    acl = view.res("aws_wafv2_web_acl")[acl_logical]
    assert acl["scope"] == "REGIONAL" and acl["default_action"] == {"allow": {}}
    groups = {r["statement"]["managed_rule_group_statement"]["name"]: r for r in acl["rule"]
              if "managed_rule_group_statement" in r["statement"]}
    assert set(MANAGED_GROUPS) <= set(groups)
    for rule in groups.values():
        assert rule["override_action"] == {"none": {}}  # enforced, not counting
    (rate,) = [r for r in acl["rule"] if "rate_based_statement" in r["statement"]]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rate_based_statement"]["limit"] == s.waf.rate_limit_per_5_minutes
    assert blocked_ip_sets(view, acl) == {"IPV4": "REGIONAL", "IPV6": "REGIONAL"}
    (logging,) = [c for c in view.res("aws_wafv2_web_acl_logging_configuration").values()
                  if c["resource_arn"] == ref("aws_wafv2_web_acl", acl_logical, "arn")]
    (destination,) = logging["log_destination_configs"]
    group = view.get(destination)
    assert group["name"].startswith("aws-waf-logs-") and group["kms_key_id"] == view.key_ref("audit")
    assert logging["redacted_fields"] == [{"single_header": {"name": "authorization"}}]



@pytest.fixture(scope="module")
def two_fleets(tmp_path_factory):
    """prod's platform stack with a second GPU fleet (a copy of the first under another name)."""
    config = load_env("prod")
    models = list(config.platform.models)
    (fleet,) = [m for m in models if m.serving == "ec2"]
    models.append(fleet.model_copy(update={"name": f"{fleet.name}-b"}))
    config = config.model_copy(update={"platform": config.platform.model_copy(update={"models": models})})
    return synthesize_platform(config, tmp_path_factory.mktemp("two-fleets") / "out")


def test_stack_wide_lookups_are_made_once_per_stack_not_per_model(two_fleets):
    """Every fleet and every published model asks the same questions (CloudFront's origin-facing prefix
    list, the AMI behind one public SSM parameter, the region's ECR repositories): one data source each per
    stack, so a stack with many models neither synthesizes nor scans a copy per model."""
    templates = [lt for lt in two_fleets.res("aws_launch_template").values()]
    assert len(templates) == 2
    assert len({lt["image_id"] for lt in templates}) == 1  # both fleets launch the one looked-up AMI
    assert len(two_fleets.data("aws_ami")) == len(two_fleets.data("aws_ssm_parameter")) == 1
    assert len(two_fleets.data("aws_ec2_managed_prefix_list")) == 1
    assert len(two_fleets.data("aws_ecr_repositories")) == 1
    rules = [r for r in two_fleets.res("aws_vpc_security_group_ingress_rule").values() if r.get("prefix_list_id")]
    assert len(rules) == 2 and len({r["prefix_list_id"] for r in rules}) == 1
