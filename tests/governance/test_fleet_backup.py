"""Prod backs up its GPU fleets (governance.backup.gpu_fleets): what they launch carries the Backup tag, a plan of
their own selects instances and volumes and keeps them in the home region only, and the backup role may use the
volumes' key through EC2. Every environment with a Studio domain backs up its home file system."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.naming import BACKUP_TAG_KEY, Naming
from policies.app_checks.backup_coverage import selects


def _key_denies(synthesized, stack: str, prefix: str) -> dict[str, dict]:
    (key,) = [c for n, c in synthesized.resources(stack, "aws_kms_key").items() if n.startswith(prefix)]
    return {st["Sid"]: st["Condition"] for st in json.loads(key["policy"])["Statement"] if st["Effect"] == "Deny"}


def _services_of(denies: dict[str, dict], role: str) -> set[str]:
    """The services a key policy lets `role` use the key through: the class's, or the role's own."""
    for condition in denies.values():
        principals = (condition.get("ArnLike") or {}).get("aws:PrincipalArn")
        if role == principals or (isinstance(principals, list) and role in principals):
            services = condition["StringNotEquals"]["kms:ViaService"]
            return set(services if isinstance(services, list) else [services])
    raise AssertionError(f"{role} uses the key through no named services")


def test_what_prods_fleets_launch_is_tagged_and_selected_and_stagings_is_not(synthesized):
    for env, backed_up in (("prod", True), ("staging", False)):
        naming = Naming.of(load_env(env))
        backup_tag = {BACKUP_TAG_KEY: naming.backup_tag_value}
        (template,) = synthesized.resources(f"{env}-platform", "aws_launch_template").values()
        for spec in template["tag_specifications"]:
            assert (spec["tags"].get(BACKUP_TAG_KEY) == naming.backup_tag_value) is backed_up, spec
        (group,) = synthesized.resources(f"{env}-platform", "aws_autoscaling_group").values()
        assert ({"key": BACKUP_TAG_KEY, "value": naming.backup_tag_value, "propagate_at_launch": True}
                in group["tag"]) is backed_up
        selections = list(synthesized.resources(f"{env}-governance", "aws_backup_selection").values())
        for kind in ("instance", "volume"):
            arn = f"arn:aws:ec2:{naming.region}:{naming.account_id}:{kind}/i-0123456789abcdef0"
            verdicts = [selects(selection, arn, backup_tag) for selection in selections]
            assert None not in verdicts  # every selection is read, none is skipped
            assert any(verdicts) is backed_up, (env, kind)


def test_the_fleets_plan_is_daily_kept_like_the_others_and_never_copied_to_the_dr_region(synthesized):
    plans = {c["name"]: c for c in synthesized.resources("prod-governance", "aws_backup_plan").values()}
    (fleet_rule,) = plans["aegis-prod-fleet-backup-plan"]["rule"]
    (data_rule,) = plans["aegis-prod-backup-plan"]["rule"]
    assert "copy_action" not in fleet_rule and data_rule["copy_action"]
    for key in ("schedule", "lifecycle", "target_vault_name", "start_window", "completion_window"):
        assert fleet_rule[key] == data_rule[key], key
    selections = {c["name"]: c for c in synthesized.resources("prod-governance", "aws_backup_selection").values()}
    fleets, data = selections["aegis-prod-fleets"], selections["aegis-prod-tagged"]
    assert fleets["resources"] == [f"arn:aws:ec2:eu-west-1:777788889999:{kind}/*" for kind in ("instance", "volume")]
    assert not any(":ec2:" in a for a in data["resources"])
    assert fleets["condition"] == data["condition"] and fleets["iam_role_arn"] == data["iam_role_arn"]


def test_the_backup_role_may_snapshot_fleet_volumes_and_copy_aurora_snapshots_to_the_dr_region(synthesized):
    naming = Naming.of(load_env("prod"))
    role = naming.role_arn("backup")
    # The volumes' key (the model key): AWS Backup's snapshots and AMIs stay under it, through EC2.
    model = _key_denies(synthesized, "prod-data", "kms-model_")
    assert role in model["DenyUseByOtherPrincipals"]["ArnNotLike"]["aws:PrincipalArn"]
    assert f"ec2.{naming.region}.amazonaws.com" in _services_of(model, role)
    # The DR vault's key: AWS Backup re-encrypts the Aurora snapshots' copies under it, through RDS.
    dr = _key_denies(synthesized, "prod-data", "kms-audit-dr_")
    assert role in dr["DenyUseByOtherPrincipals"]["ArnNotLike"]["aws:PrincipalArn"]
    services = _services_of(dr, role)
    assert {f"rds.{naming.dr_region}.amazonaws.com", f"backup.{naming.dr_region}.amazonaws.com"} <= services
    assert f"ec2.{naming.dr_region}.amazonaws.com" not in services  # fleet recovery points are not copied
    auditor = naming.role_arn("security-auditor")  # nobody else gains RDS on the audit key
    assert f"rds.{naming.dr_region}.amazonaws.com" not in _services_of(dr, auditor)


def test_every_studio_domains_home_file_system_is_selected_by_sagemakers_tag(synthesized):
    for env in ("dev", "staging", "prod"):
        naming = Naming.of(load_env(env))
        domains = synthesized.resources(f"{env}-platform", "aws_sagemaker_domain")
        selections = list(synthesized.resources(f"{env}-governance", "aws_backup_selection").values())
        home = f"arn:aws:elasticfilesystem:{naming.region}:{naming.account_id}:file-system/fs-0123456789abcdef0"
        tags = {"ManagedByAmazonSageMakerResource": f"arn:aws:sagemaker:{naming.region}:{naming.account_id}:domain/d-1"}
        verdicts = [selects(selection, home, tags) for selection in selections]
        assert None not in verdicts
        assert any(verdicts) is bool(domains), env
        other_account = {"ManagedByAmazonSageMakerResource": "arn:aws:sagemaker:eu-west-1:999999999999:domain/d-1"}
        assert not any(selects(selection, home, other_account) for selection in selections)
