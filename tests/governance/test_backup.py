"""AWS Backup: a vault encrypted with the audit key and locked (compliance mode in prod, governance
mode in dev and staging), a plan for the tagged DynamoDB tables and EFS file systems with the
environment's retention, and in prod a copy to a locked vault in the DR region."""
from __future__ import annotations

import json

from modules.boundary import boundary_arn
from modules.naming import BACKUP_TAG_KEY

EXPECTED_LOCK = {"dev": "governance", "staging": "governance", "prod": "compliance"}


def _main(gov, rtype: str) -> tuple[str, dict]:
    """The plan (or selection) of the tagged data stores; prod's fleets have a plan of their own and Studio's home
    file system a selection of its own (test_fleet_backup.py)."""
    items = {n: c for n, c in gov.res(rtype).items() if "fleet" not in n and "studio" not in n}
    assert len(items) == 1, f"expected one {rtype} besides the fleets', found {sorted(items)}"
    return next(iter(items.items()))


def _vaults(gov):
    """(primary vault name, DR vault name or None)."""
    vaults = gov.res("aws_backup_vault")
    primary = [n for n, c in vaults.items() if "provider" not in c]
    dr = [n for n, c in vaults.items() if c.get("provider") == "aws.dr"]
    assert len(primary) == 1 and len(dr) <= 1 and len(vaults) == len(primary) + len(dr)
    return primary[0], (dr[0] if dr else None)


def _lock_of(gov, vault):
    locks = [c for c in gov.res("aws_backup_vault_lock_configuration").values()
             if c["backup_vault_name"] == gov.ref("aws_backup_vault", vault, "name")]
    assert len(locks) == 1, f"vault {vault} needs exactly one lock"
    return locks[0]


def test_vault_lock_mode_per_environment(gov, env):
    primary, dr = _vaults(gov)
    lock_settings = gov.settings.backup.vault_lock
    for vault in filter(None, (primary, dr)):
        lock = _lock_of(gov, vault)
        # compliance mode ⇔ changeable_for_days is set (see modules/governance/backup.py)
        mode = "compliance" if "changeable_for_days" in lock else "governance"
        assert mode == EXPECTED_LOCK[env]
        if mode == "compliance":
            assert lock["changeable_for_days"] == lock_settings.changeable_for_days >= 3
        assert lock["min_retention_days"] == lock_settings.min_retention_days
        assert lock["max_retention_days"] == lock_settings.max_retention_days


def test_vault_encrypted_with_the_audit_key(gov):
    primary, _ = _vaults(gov)
    vault = gov.res("aws_backup_vault")[primary]
    assert gov.key_lookup(vault["kms_key_arn"])["key_id"] == gov.naming.kms_alias_arn("audit")
    assert vault["force_destroy"] is False


def test_plan_retention_and_dr_copy(gov, env):
    primary, dr = _vaults(gov)
    settings = gov.settings.backup
    _, plan = _main(gov, "aws_backup_plan")
    (rule,) = plan["rule"]
    assert rule["target_vault_name"] == gov.ref("aws_backup_vault", primary, "name")
    assert rule["lifecycle"]["delete_after"] == settings.retention_days
    assert rule["schedule"] == settings.schedule
    if env == "prod":
        assert settings.retention_days >= 35
        (copy,) = rule["copy_action"]
        assert copy["destination_vault_arn"] == gov.ref("aws_backup_vault", dr, "arn")
        assert copy["lifecycle"]["delete_after"] == settings.effective_dr_retention_days
        dr_vault = gov.res("aws_backup_vault")[dr]
        lookup_name = dr_vault["kms_key_arn"][len("${data.aws_kms_key."):-len(".arn}")]
        lookup = gov.data("aws_kms_key")[lookup_name]
        assert lookup["provider"] == "aws.dr"
        assert lookup["key_id"] == gov.naming.kms_alias_arn("audit", gov.config.dr_region)
        dr_provider = [p for p in gov.doc["provider"]["aws"] if p.get("alias") == "dr"]
        assert dr_provider and dr_provider[0]["region"] == gov.config.dr_region
    else:
        assert dr is None and "copy_action" not in rule


def test_selection_by_backup_tag(gov):
    plan, _ = _main(gov, "aws_backup_plan")
    _, selection = _main(gov, "aws_backup_selection")
    region, account = gov.config.region, gov.config.account_id
    assert selection["plan_id"] == gov.ref("aws_backup_plan", plan, "id")
    assert sorted(selection["resources"]) == sorted([f"arn:aws:dynamodb:{region}:{account}:table/*",
                                                     f"arn:aws:elasticfilesystem:{region}:{account}:file-system/*",
                                                     f"arn:aws:rds:{region}:{account}:cluster:*",
                                                     "arn:aws:s3:::*"])  # bucket ARNs name no region or account
    (condition,) = selection["condition"]
    assert condition["string_equals"] == [{"key": f"aws:ResourceTag/{BACKUP_TAG_KEY}",
                                           "value": gov.naming.backup_tag()[BACKUP_TAG_KEY]}]


def test_backup_role_is_bounded_and_trusts_only_backup(gov):
    role_name, role = gov.one("aws_iam_role")
    _, selection = _main(gov, "aws_backup_selection")
    assert selection["iam_role_arn"] == gov.ref("aws_iam_role", role_name, "arn")
    assert role["name"].startswith(gov.naming.prefix + "-")
    assert role["permissions_boundary"] == boundary_arn(gov.naming)
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "backup.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == gov.config.account_id


def test_platform_tables_and_file_systems_carry_the_backup_tag(gov, synthesized, env):
    """The plan selects by tag: every DynamoDB table and EFS file system of the environment must carry it."""
    stateful = []
    for stack in synthesized.stack_names:
        if stack.startswith(f"{env}-"):
            for rtype in ("aws_dynamodb_table", "aws_efs_file_system"):
                stateful += [(stack, name, conf) for name, conf in synthesized.resources(stack, rtype).items()]
    for stack, name, conf in stateful:
        assert conf.get("tags", {}).get(BACKUP_TAG_KEY) == gov.naming.backup_tag_value, f"{stack} {name}"


def test_every_vault_denies_manual_recovery_point_deletion_to_everyone(gov, env):
    """The access policy AWS Config's BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED accepts: a Deny with
    `*` as principal and resource, covering deletion, lifecycle changes and the policy's own replacement."""
    for vault in filter(None, _vaults(gov)):
        (policy,) = [c for c in gov.res("aws_backup_vault_policy").values()
                     if c["backup_vault_name"] == gov.ref("aws_backup_vault", vault, "name")]
        assert policy.get("provider") == gov.res("aws_backup_vault")[vault].get("provider")
        (deny,) = json.loads(policy["policy"])["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Resource"] == "*"
        assert "Condition" not in deny
        assert set(deny["Action"]) == {"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle",
                                       "backup:PutBackupVaultAccessPolicy"}
