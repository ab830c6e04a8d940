"""AEGIS_BACKUP_COPY_KEY_ADMITS: a plan that copies to another region's vault needs that vault's key to let the
plan's role re-encrypt each selected type's recovery points through the service that owns them there."""
from __future__ import annotations

import json

import pytest

from modules.config import load_env
from modules.naming import Naming
from tests.policies.app_checks.helpers import app, doc, fails_on, failures, run, verdict

CHECK = "AEGIS_BACKUP_COPY_KEY_ADMITS"
ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/aegis-dev-backup"
PROVIDER = {"aws": [{"region": "eu-west-1"}, {"alias": "dr", "region": "eu-central-1"}]}


def key_policy(*services: str) -> str:
    """Aegis's shape: the account delegates to IAM; the backup role is denied outside `services` (DR region)."""
    return doc({"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*", "Resource": "*"},
               {"Sid": "DenyUser0OutsideItsOwnServices", "Effect": "Deny", "Principal": "*",
                "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
                "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": ROLE}, "StringNotEquals": {
                    "kms:ViaService": [f"{s}.eu-central-1.amazonaws.com" for s in services]}}})


def plan_app(policy: str, resources: list[str], *, copies: bool = True, role=None) -> dict:
    rule = {"rule_name": "daily", "target_vault_name": "v", "schedule": "cron(0 3 * * ? *)"}
    if copies:
        rule["copy_action"] = [{"destination_vault_arn": "${aws_backup_vault.dr.arn}"}]
    governance = {"provider": PROVIDER, "resource": {
        "aws_kms_key": {"dr": {"provider": "aws.dr", "policy": policy}},
        "aws_backup_vault": {"dr": {"name": "v", "provider": "aws.dr", "kms_key_arn": "${aws_kms_key.dr.arn}"}},
        "aws_iam_role": {"backup": {"name": "aegis-dev-backup"}},
        "aws_backup_plan": {"plan": {"name": "p", "rule": [rule]}},
        "aws_backup_selection": {"tagged": {"name": "tagged", "plan_id": "${aws_backup_plan.plan.id}",
                                            "iam_role_arn": role or "${aws_iam_role.backup.arn}",
                                            "resources": resources}}}}
    return app("dev", governance=governance)


RDS = f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:*"
EC2 = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/*"
TABLES = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"


@pytest.mark.parametrize("services, resources", [
    (("backup", "rds"), [RDS, TABLES]),
    (("backup", "ec2"), [EC2]),
    (("backup",), [TABLES, "arn:aws:s3:::*"]),
])
def test_a_key_that_admits_the_role_through_each_selected_types_service_passes(services, resources):
    results = run(CHECK, plan_app(key_policy(*services), resources))
    assert verdict(results, "aws_backup_plan.plan"), failures(results)


@pytest.mark.parametrize("services, resources, missing", [
    (("backup",), [RDS, TABLES], "rds.eu-central-1"),  # Aurora's copies go through RDS
    (("backup", "rds"), [EC2], "ec2.eu-central-1"),
    (("rds",), [TABLES], "backup.eu-central-1"),
])
def test_a_key_that_refuses_a_selected_types_copy_fails_naming_the_service(services, resources, missing):
    message = fails_on(run(CHECK, plan_app(key_policy(*services), resources)), "aws_backup_plan.plan")
    assert missing in message and "kms:ReEncryptTo" in message and ROLE in message


def test_a_plan_without_copies_is_not_judged():
    assert run(CHECK, plan_app(key_policy("backup"), [RDS], copies=False)) == []


@pytest.mark.parametrize("change, fragment", [
    (lambda a: a["dev-governance"]["resource"]["aws_backup_vault"]["dr"].update(kms_key_arn="${var.k}"),
     "cannot be resolved"),
    (lambda a: a["dev-governance"]["resource"]["aws_backup_selection"]["tagged"].update(iam_role_arn="${var.r}"),
     "role cannot be resolved"),
    (lambda a: a["dev-governance"]["resource"]["aws_backup_selection"]["tagged"].update(
        resources=["arn:aws:fsx:eu-west-1:111122223333:file-system/*"]), "copy path is not judged"),
    (lambda a: a["dev-governance"]["resource"]["aws_kms_key"]["dr"].update(policy="${data.x.json}"), "not literal"),
])
def test_what_cannot_be_resolved_is_never_passed(change, fragment):
    stacks = plan_app(key_policy("backup", "rds"), [RDS])
    change(stacks)
    assert fragment in fails_on(run(CHECK, stacks), "aws_backup_plan.plan")


def test_prods_dr_copies_pass_and_fail_without_rds_on_the_dr_audit_key(synthesized):
    stacks = {n: json.loads(json.dumps(synthesized.stack(n))) for n in synthesized.stack_names if n.startswith("prod-")}
    results = run(CHECK, stacks, "prod")
    assert results and all(r.passed for r in results), failures(results)
    dr_region = Naming.of(load_env("prod")).dr_region
    keys = stacks["prod-data"]["resource"]["aws_kms_key"]
    (name,) = [n for n in keys if n.startswith("kms-audit-dr_")]
    policy = json.loads(keys[name]["policy"])
    for statement in policy["Statement"]:
        via = ((statement.get("Condition") or {}).get("StringNotEquals") or {}).get("kms:ViaService")
        if isinstance(via, list):
            statement["Condition"]["StringNotEquals"]["kms:ViaService"] = [
                v for v in via if v != f"rds.{dr_region}.amazonaws.com"]
    keys[name]["policy"] = json.dumps(policy)
    (plan,) = [n for n, c in stacks["prod-governance"]["resource"]["aws_backup_plan"].items()
               if c["rule"][0].get("copy_action")]
    assert f"rds.{dr_region}.amazonaws.com" in fails_on(run(CHECK, stacks, "prod"), f"aws_backup_plan.{plan}")


def test_a_selection_by_tag_alone_is_never_passed():
    stacks = plan_app(key_policy("backup"), [])
    stacks["dev-governance"]["resource"]["aws_backup_selection"]["tagged"]["selection_tag"] = [
        {"type": "STRINGEQUALS", "key": "Backup", "value": "aegis-dev"}]
    assert "picks by tag alone" in fails_on(run(CHECK, stacks), "aws_backup_plan.plan")


def test_a_selection_whose_plan_cannot_be_resolved_is_never_passed():
    stacks = plan_app(key_policy("backup"), [RDS])
    stacks["dev-governance"]["resource"]["aws_backup_selection"]["tagged"]["plan_id"] = "${var.plan}"
    message = fails_on(run(CHECK, stacks), "aws_backup_plan.plan")
    assert "its plan cannot be resolved" in message and "no aws_backup_selection" in message


def test_a_key_that_admits_nobody_of_the_account_fails_even_without_a_deny():
    no_delegation = doc({"Sid": "AdminsOnly", "Effect": "Allow", "Principal": {
        "AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}, "Action": "kms:*", "Resource": "*"})
    assert "allows neither the role nor its account" in fails_on(run(CHECK, plan_app(no_delegation, [RDS])),
                                                                  "aws_backup_plan.plan")


def test_a_deny_on_a_condition_key_the_check_does_not_model_is_never_read_as_absent():
    policy = json.loads(key_policy("backup", "rds"))
    policy["Statement"].append({"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                                "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}})
    assert "cannot evaluate" in fails_on(run(CHECK, plan_app(json.dumps(policy), [RDS])), "aws_backup_plan.plan")
