"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION for EBS_IN_BACKUP_PLAN, EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN and
EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN: an instance or volume that a launch template (or an aws_instance,
an aws_ebs_volume) creates and no backup selection of its region picks stays NON_COMPLIANT. Judged on the
tags it gets at launch: the template's tag specifications, the group's propagated tags for instances."""
from __future__ import annotations

import pytest

from modules.config import load_env
from modules.governance.settings import FLEET_BACKUP_RULES
from tests.policies.app_checks.helpers import app, fails_on, failures, run, verdict

CHECK = "AEGIS_CONFIG_RULE_KNOWN_VIOLATION"
ACCOUNT = "111122223333"  # dev's account
PROVIDER = {"aws": [{"region": "eu-west-1", "default_tags": [{"tags": {"Backup": "aegis-dev"}}]}]}
TAG = {"Backup": "aegis-dev"}
FLEET_PATTERNS = [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/*"]


def selection(resources=tuple(FLEET_PATTERNS), **extra) -> dict:
    return {"name": "tagged", "plan_id": "p", "iam_role_arn": "r", "resources": list(resources),
            "condition": [{"string_equals": [{"key": "aws:ResourceTag/Backup", "value": "aegis-dev"}]}], **extra}


def template(instance=TAG, volume=TAG) -> dict:
    specs = [{"resource_type": kind, "tags": tags} for kind, tags in (("instance", instance), ("volume", volume))
             if tags is not None]
    return {"name": "fleet", "tag_specifications": specs}


def group(*tags: tuple[str, str, bool]) -> dict:
    return {"name": "fleet", "min_size": 1, "max_size": 2, "mixed_instances_policy": {"launch_template": {
        "launch_template_specification": {"launch_template_id": "${aws_launch_template.fleet.id}",
                                          "version": "${tostring(aws_launch_template.fleet.latest_version)}"}}},
            "tag": [{"key": k, "value": v, "propagate_at_launch": p} for k, v, p in tags]}


def fleet_app(rules=FLEET_BACKUP_RULES, *, launch=None, groups=None, selections=None, platform_extra=None,
              rule_extra=None) -> dict:
    """A dev app that deploys `rules` (standalone) and launches a fleet; the governance stack's selections."""
    platform = {"aws_launch_template": {"fleet": launch if launch is not None else template()},
                "aws_autoscaling_group": groups if groups is not None else {"fleet": group()}}
    platform.update(platform_extra or {})
    config_rules = {f"r{i}": {"source": {"owner": "AWS", "source_identifier": rule}, **(rule_extra or {})}
                    for i, rule in enumerate(rules)}
    governance = {"provider": PROVIDER, "resource": {
        "aws_config_config_rule": config_rules,
        "aws_backup_selection": selections if selections is not None else {"tagged": selection()}}}
    return app("dev", governance=governance, platform={"provider": PROVIDER, "resource": platform})


def rule_failures(results, rule_index: int) -> str:
    return fails_on(results, f"aws_config_config_rule.r{rule_index}")


def test_a_fleet_whose_instances_and_volumes_carry_the_selected_tag_passes_every_rule():
    results = run(CHECK, fleet_app())
    for i in range(len(FLEET_BACKUP_RULES)):
        assert verdict(results, f"aws_config_config_rule.r{i}"), failures(results)


def test_volumes_without_the_tag_fail_the_ebs_rules_only():
    results = run(CHECK, fleet_app(launch=template(volume={"Name": "fleet"})))
    for i, rule in enumerate(FLEET_BACKUP_RULES):
        if rule.startswith("EBS_"):
            assert "aws_autoscaling_group.fleet (volumes it launches)" in rule_failures(results, i)
        else:
            assert verdict(results, f"aws_config_config_rule.r{i}")


def test_provider_default_tags_do_not_reach_what_a_group_launches():
    # PROVIDER's default tags carry Backup; a template without tag specifications launches untagged resources.
    results = run(CHECK, fleet_app(launch={"name": "fleet"}))
    judged = [r for r in results if r.address.startswith("aws_config_config_rule.")]
    assert len(judged) == len(FLEET_BACKUP_RULES) and not any(r.passed for r in judged)


def test_tags_the_group_propagates_reach_instances_and_override_the_template():
    only_group = fleet_app(launch=template(instance={"Name": "fleet"}),
                           groups={"fleet": group(("Backup", "aegis-dev", True))})
    assert verdict(run(CHECK, only_group), "aws_config_config_rule.r2")  # EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN
    not_propagated = fleet_app(launch=template(instance={"Name": "fleet"}),
                               groups={"fleet": group(("Backup", "aegis-dev", False))})
    assert "aws_autoscaling_group.fleet (instances it launches)" in rule_failures(run(CHECK, not_propagated), 2)
    overridden = fleet_app(groups={"fleet": group(("Backup", "none", True))})
    assert "aws_autoscaling_group.fleet" in rule_failures(run(CHECK, overridden), 2)


@pytest.mark.parametrize("selections", [
    {},  # no plan at all
    {"tagged": selection(resources=[f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"])},  # other kinds only
    {"tagged": selection(not_resources=FLEET_PATTERNS + ["arn:aws:s3:::*"], resources=["*"])},  # excluded
    {"tagged": {**selection(), "condition": [{"string_equals": [
        {"key": "aws:ResourceTag/Backup", "value": "aegis-prod"}]}]}},  # another tag value
])
def test_fleets_that_no_selection_picks_fail_every_rule(selections):
    results = run(CHECK, fleet_app(selections=selections))
    for i in range(len(FLEET_BACKUP_RULES)):
        assert "no AWS Backup selection of its region picks" in rule_failures(results, i)


def test_a_selection_in_another_region_does_not_cover_the_fleet():
    other = {"tagged": {**selection(), "region": "eu-central-1"}}
    assert "no AWS Backup selection" in rule_failures(run(CHECK, fleet_app(selections=other)), 0)


def test_tags_that_are_not_literal_are_never_passed():
    results = run(CHECK, fleet_app(launch=template(volume={"Backup": "${var.tag}"})))
    assert "its tags are not literal: not judged" in rule_failures(results, 0)


def test_a_selection_with_conditions_this_check_cannot_read_is_never_passed():
    odd = {"tagged": {**selection(), "condition": [{"string_not_equals": [{"key": "aws:ResourceTag/Backup",
                                                                           "value": "x"}]}]}}
    assert "not judged" in rule_failures(run(CHECK, fleet_app(selections=odd)), 1)


def test_instances_and_volumes_of_plain_resources_are_judged():
    extra = {"aws_instance": {"box": {"ami": "ami-1", "instance_type": "t3.micro"}},  # default tags: Backup
             "aws_ebs_volume": {"data": {"availability_zone": "eu-west-1a", "size": 8, "tags": {"Backup": "no"}}}}
    results = run(CHECK, fleet_app(platform_extra=extra))
    assert verdict(results, "aws_config_config_rule.r2")  # the instance gets the provider's default tags
    assert "aws_instance.box (its volumes)" in rule_failures(results, 0)  # volume_tags are its volumes' only tags
    assert "aws_ebs_volume.data" in rule_failures(results, 0)


@pytest.mark.parametrize("volume_tags, passes", [({"Name": "fleet"}, True),  # not what the rule checks
                                                 ({"Tier": "data"}, False)])  # checked, and in no plan
def test_the_rules_resource_tags_parameter_narrows_what_is_judged(volume_tags, passes):
    narrowed = fleet_app(launch=template(volume=volume_tags), rules=("EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",),
                         rule_extra={"input_parameters": '{"resourceTags": "{\\"Tier\\": \\"data\\"}"}'})
    assert verdict(run(CHECK, narrowed), "aws_config_config_rule.r0") is passes


def test_prod_backs_up_its_fleets_and_validation_refuses_a_pci_environment_that_does_not():
    prod = load_env("prod")
    assert prod.governance.backup.backs_up_fleets(prod.tier)
    assert not load_env("staging").governance.backup.backs_up_fleets("staging")
    backup = prod.governance.backup.model_copy(update={"gpu_fleets": False})
    governance = prod.governance.model_copy(update={"backup": backup})
    problems = dict(governance.problems(prod.model_copy(update={"governance": governance})))
    assert "gpu_fleets: true" in problems["backup.gpu_fleets"]
    assert problems["backup.gpu_fleets"].startswith("the hipaa, pci-dss conformance pack")


def test_a_group_naming_its_template_literally_is_judged_with_the_tags_it_propagates():
    literal = group(("Backup", "none", True))
    literal["mixed_instances_policy"]["launch_template"]["launch_template_specification"] = {
        "launch_template_name": "fleet", "version": "$Latest"}
    assert "aws_autoscaling_group.fleet (instances it launches)" in rule_failures(
        run(CHECK, fleet_app(groups={"fleet": literal})), 2)


@pytest.mark.parametrize("spec, fragment", [
    ({"launch_template_id": "${var.template_id}"}, "launch template cannot be resolved"),
    ({"launch_template_id": "${data.aws_launch_template.fleet.id}"}, "launch template cannot be resolved"),
])
def test_a_group_whose_template_cannot_be_resolved_is_never_passed(spec, fragment):
    unresolved = group(("Backup", "aegis-dev", True))
    unresolved["mixed_instances_policy"]["launch_template"]["launch_template_specification"] = spec
    assert fragment in rule_failures(run(CHECK, fleet_app(groups={"fleet": unresolved})), 0)


def test_a_group_launching_from_a_launch_configuration_is_never_passed():
    legacy = {"name": "old", "launch_configuration": "${aws_launch_configuration.old.name}", "tag": []}
    assert "launch configuration" in rule_failures(run(CHECK, fleet_app(groups={"fleet": group(), "old": legacy})), 2)


@pytest.mark.parametrize("change, fragment", [
    (lambda a: a["dev-platform"]["resource"]["aws_launch_template"]["fleet"]["tag_specifications"][0].update(
        tags={"${var.k}": "aegis-dev"}), "its tags are not literal"),  # a tag key that is an expression
    (lambda a: a["dev-governance"]["resource"]["aws_backup_selection"]["tagged"].update(
        not_resources=["${var.excluded}"]), "does not read"),
    (lambda a: a["dev-platform"]["resource"].update(aws_instance={"box": {
        "ami": "a", "root_block_device": {"tags": "${var.tags}"}}}), "its tags are not literal"),
    (lambda a: a["dev-platform"]["provider"]["aws"][0].update(region="${var.region}"), "region is not literal"),
])
def test_what_cannot_be_read_is_reported_not_judged_and_never_crashes(change, fragment):
    stacks = fleet_app()
    change(stacks)
    results = run(CHECK, stacks)
    assert any(fragment in r.message for r in results if not r.passed), failures(results)


def test_a_rule_naming_one_resource_by_reference_is_never_passed():
    results = run(CHECK, fleet_app(rules=("EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",),
                                   rule_extra={"input_parameters": '{"resourceId": "${aws_ebs_volume.data.id}"}'}))
    assert "not literal: not judged" in rule_failures(results, 0)
    literal = run(CHECK, fleet_app(launch=template(volume={}), rules=("EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN",),
                                   rule_extra={"input_parameters": '{"resourceId": "vol-0123456789abcdef0"}'}))
    assert verdict(literal, "aws_config_config_rule.r0")  # a volume of someone else's: nothing of the app


STUDIO_SELECTION = {"name": "studio-home", "plan_id": "p", "iam_role_arn": "r",
                    "resources": [f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/*"],
                    "condition": [{"string_like": [{"key": "aws:ResourceTag/ManagedByAmazonSageMakerResource",
                                                    "value": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:domain/*"}]}]}


@pytest.mark.parametrize("selections, passes", [
    ({"tagged": selection(resources=[f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/*"])}, False),
    ({"tagged": selection(resources=[f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/*"]),
      "studio": STUDIO_SELECTION}, True),
    ({"studio": {**STUDIO_SELECTION, "condition": [{"string_equals": [
        {"key": "aws:ResourceTag/ManagedByAmazonSageMakerResource",
         "value": f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:domain/d-abc"}]}]}}, False),  # an id known only at apply
])
def test_a_studio_domains_home_file_system_needs_a_selection_by_sagemakers_tag(selections, passes):
    platform = {"aws_sagemaker_domain": {"studio": {"domain_name": "d"}}}
    results = run(CHECK, fleet_app(rules=("EFS_IN_BACKUP_PLAN",), selections=selections, platform_extra=platform,
                                   launch={"name": "fleet"}, groups={}))
    assert verdict(results, "aws_config_config_rule.r0") is passes, failures(results)
    if not passes:
        assert "aws_sagemaker_domain.studio (its home file system)" in rule_failures(results, 0)


def test_tables_and_file_systems_of_the_app_are_judged_with_their_tags():
    platform = {"aws_dynamodb_table": {"t": {"name": "aegis-dev-t", "tags": {"Backup": "other"}}},
                "aws_efs_file_system": {"fs": {"creation_token": "x"}}}  # the provider's default tags: Backup
    selections = {"tagged": selection(resources=[f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*",
                                                 f"arn:aws:elasticfilesystem:eu-west-1:{ACCOUNT}:file-system/*"])}
    results = run(CHECK, fleet_app(rules=("DYNAMODB_IN_BACKUP_PLAN", "EFS_IN_BACKUP_PLAN"), selections=selections,
                                   platform_extra=platform, launch={"name": "fleet"}, groups={}))
    assert "aws_dynamodb_table.t" in rule_failures(results, 0)
    assert verdict(results, "aws_config_config_rule.r1")


@pytest.mark.parametrize("named, passes", [("aegis-dev-datasets", False), ("someone-elses-bucket", True)])
def test_a_rule_naming_one_bucket_judges_that_bucket_only(named, passes):
    platform = {"aws_s3_bucket": {"b": {"bucket": "aegis-dev-datasets", "tags": {"Backup": "none"}}}}
    results = run(CHECK, fleet_app(rules=("S3_RESOURCES_PROTECTED_BY_BACKUP_PLAN",), platform_extra=platform,
                                   rule_extra={"input_parameters": f'{{"resourceId": "{named}"}}'},
                                   selections={"tagged": selection(resources=["arn:aws:s3:::*"])}))
    assert verdict(results, "aws_config_config_rule.r0") is passes, failures(results)
    if not passes:
        assert "aws_s3_bucket.b (no AWS Backup selection of its region picks arn:aws:s3:::aegis-dev-datasets)" in \
            rule_failures(results, 0)
