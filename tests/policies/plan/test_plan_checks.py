"""Every custom plan check, both ways: the regression it must block, and the change it must let through.

The plans are built in Terraform's JSON output format (conftest.plan_doc) and go through the same
loader as real plans, so each case is also a valid plan."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.plan.plan_checks import REGISTRY, Context, all_checks, plan_check, run_checks
from policies.plan.plan_json import parse
from tests.policies.plan.conftest import KEY_ARN, OTHER_KEY_ARN, change, create, delete, noop, plan_doc, replace, update

DEV_ALIAS_PREFIX = "alias/aegis-dev-"
KEY2_ARN = "arn:aws:kms:eu-west-1:111122223333:key/2222abcd-12ab-34cd-56ef-1234567890ab"
PROJECT_KEYS = (
    noop("aws_kms_key", "kms-audit_key", {"arn": KEY_ARN, "key_id": KEY_ARN.rsplit("/", 1)[1], "is_enabled": True,
                                          "enable_key_rotation": True}),
    noop("aws_kms_key", "kms-model_key", {"arn": KEY2_ARN, "key_id": KEY2_ARN.rsplit("/", 1)[1], "is_enabled": True,
                                          "enable_key_rotation": True}),
)


def judge(*changes, data=(), alias_prefix=DEV_ALIAS_PREFIX):
    plan = parse(json.dumps(plan_doc(*changes, data=data)).encode(), "plan.json")
    return run_checks(Context.of(plan, alias_prefix))


def failed(check_id: str, *changes, **kw) -> list:
    return [r for cid, r in judge(*changes, **kw) if cid == check_id and not r.passed]


def passed(check_id: str, *changes, **kw) -> list:
    return [r for cid, r in judge(*changes, **kw) if cid == check_id and r.passed]


def test_every_check_module_is_registered_and_ids_are_unique():
    folder = Path(__file__).resolve().parents[3] / "policies" / "plan" / "plan_checks"
    files = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    checks = all_checks()
    assert sorted(type(c).__module__.rsplit(".", 1)[1] for c in checks) == sorted(files)  # one check per file
    ids = [c.id for c in checks]
    assert len(ids) == len(set(ids)) and all(i.startswith("AEGIS_PLAN_") for i in ids)


def test_registration_refuses_bad_and_duplicate_ids():
    class Misnamed:
        id = "AEGIS_NOT_A_PLAN_CHECK"

    with pytest.raises(ValueError, match="must look like AEGIS_PLAN_<NAME>"):
        plan_check(Misnamed)

    class Impostor:
        id = "AEGIS_PLAN_STATEFUL_DELETE"

    all_checks()
    with pytest.raises(ValueError, match="registered twice"):
        plan_check(Impostor)
    assert "AEGIS_NOT_A_PLAN_CHECK" not in REGISTRY and type(REGISTRY[Impostor.id]).__name__ == "StatefulDelete"


def test_checks_run_in_the_given_order_then_by_id():
    key_delete = delete("aws_kms_key", "k", {"arn": KEY_ARN, "key_id": KEY_ARN.rsplit("/", 1)[1], "is_enabled": True})
    plan = parse(json.dumps(plan_doc(key_delete)).encode(), "plan.json")
    ids = [cid for cid, r in run_checks(Context.of(plan, DEV_ALIAS_PREFIX), ["AEGIS_PLAN_STATEFUL_DELETE"])
           if not r.passed]
    assert ids == ["AEGIS_PLAN_STATEFUL_DELETE", "AEGIS_PLAN_KMS_KEY_DISABLED"]
    ids = [cid for cid, r in run_checks(Context.of(plan, DEV_ALIAS_PREFIX)) if not r.passed]
    assert ids == ["AEGIS_PLAN_KMS_KEY_DISABLED", "AEGIS_PLAN_STATEFUL_DELETE"]


# ---------------------------------------------------------------- data loss

STATEFUL = ["aws_s3_bucket", "aws_kms_key", "aws_dynamodb_table", "aws_efs_file_system", "aws_cloudwatch_log_group",
            "aws_cloudtrail", "aws_backup_vault", "aws_config_configuration_recorder", "aws_secretsmanager_secret",
            "aws_ecr_repository"]
SD = "AEGIS_PLAN_STATEFUL_DELETE"


@pytest.mark.parametrize("rtype", STATEFUL)
def test_deleting_a_stateful_resource_is_blocked(rtype):
    [result] = failed(SD, delete(rtype, "r", {"name": "thing", "id": "thing"}))
    assert result.deletion and "destroyed" in result.message and "approvals.yaml" in result.message


@pytest.mark.parametrize("rtype", STATEFUL)
@pytest.mark.parametrize("order", [("delete", "create"), ("create", "delete")])
def test_replacing_a_stateful_resource_counts_as_a_delete(rtype, order):
    [result] = failed(SD, replace(rtype, "r", {"name": "a"}, {"name": "b"}, order=order))
    assert result.deletion and "replaced" in result.message


@pytest.mark.parametrize("rtype", STATEFUL)
def test_updating_or_keeping_a_stateful_resource_passes(rtype):
    assert not failed(SD, update(rtype, "r", {"name": "a", "tags": {}}, {"name": "a", "tags": {"x": "y"}}),
                      noop(rtype, "s", {"name": "s"}))
    assert len(passed(SD, update(rtype, "r", {"name": "a"}, {"name": "a"}), noop(rtype, "s", {"name": "s"}))) == 2


def test_forget_and_create_then_forget_leave_the_object_and_pass():
    assert not failed(SD, change("aws_s3_bucket", "kept", ["forget"], {"bucket": "kept"}, None),
                      replace("aws_s3_bucket", "b", {"bucket": "b"}, {"bucket": "b"}, order=("create", "forget")))


def test_deleting_a_non_stateful_resource_is_not_a_data_loss():
    assert not judge_ids(delete("aws_s3_bucket_policy", "p", {"bucket": "b", "policy": "{}"}), SD)


def judge_ids(change_, check_id):
    return [r for cid, r in judge(change_) if cid == check_id]


# ---------------------------------------------------------------- encryption

ENC = "AEGIS_PLAN_ENCRYPTION_REMOVED"
SSE = "aws_s3_bucket_server_side_encryption_configuration"


def sse(algorithm: str, key: str | None = None) -> dict:
    default = {"sse_algorithm": algorithm, "kms_master_key_id": key or ""}
    return {"bucket": "aegis-dev-datasets", "expected_bucket_owner": "",
            "rule": [{"apply_server_side_encryption_by_default": [default], "bucket_key_enabled": True}]}


def test_kms_to_sse_s3_is_blocked():
    [result] = failed(ENC, *PROJECT_KEYS, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("AES256")))
    assert "downgraded from aws:kms to AES256" in result.message and "KMS key removed" in result.message


def test_switching_to_another_project_key_passes():
    assert not failed(ENC, *PROJECT_KEYS, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("aws:kms", KEY2_ARN)))
    assert passed(ENC, *PROJECT_KEYS, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("aws:kms", KEY2_ARN)))


@pytest.mark.parametrize("key", [OTHER_KEY_ARN, "alias/aws/s3", "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3",
                                 "alias/someone-elses-key"])
def test_switching_to_a_non_project_key_is_blocked(key):
    [result] = failed(ENC, *PROJECT_KEYS, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("aws:kms", key)))
    assert "not a key of this project" in result.message


def test_a_project_alias_by_naming_convention_or_lookup_passes():
    lookup = {"type": "aws_kms_key", "name": "kms-training",
              "values": {"key_id": "alias/aegis-dev-training", "arn": OTHER_KEY_ARN, "id": OTHER_KEY_ARN.rsplit("/")[-1]},
              "config": {"key_id": "alias/aegis-dev-training"}}
    assert not failed(ENC, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("aws:kms", OTHER_KEY_ARN)), data=(lookup,))
    assert not failed(ENC, update(SSE, "enc", sse("aws:kms", KEY_ARN),
                                  sse("aws:kms", "arn:aws:kms:eu-west-1:111122223333:alias/aegis-dev-training")))
    # the same alias in another environment is not this project's key
    assert failed(ENC, update(SSE, "enc", sse("aws:kms", KEY_ARN), sse("aws:kms", "alias/aegis-prod-training")))


def test_a_new_key_known_only_after_apply_needs_a_reference_to_a_plan_key():
    unknown = {"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": True}]}]}
    after = sse("aws:kms")
    del after["rule"][0]["apply_server_side_encryption_by_default"][0]["kms_master_key_id"]
    good = update(SSE, "enc", sse("aws:kms", KEY_ARN), after, after_unknown=unknown,
                  references={"kms_master_key_id": ["aws_kms_key.kms-new_key.arn", "aws_kms_key.kms-new_key"]})
    bad = update(SSE, "enc", sse("aws:kms", KEY_ARN), after, after_unknown=unknown,
                 references={"kms_master_key_id": ["var.key_arn"]})
    assert not failed(ENC, good)
    [result] = failed(ENC, bad)
    assert "known only after apply" in result.message


def test_deleting_the_sse_configuration_of_a_kept_bucket_is_blocked_unless_the_bucket_goes_too():
    config = delete(SSE, "enc", sse("aws:kms", KEY_ARN))
    assert "falls back to AWS-managed encryption" in failed(ENC, config)[0].message
    bucket = delete("aws_s3_bucket", "b", {"bucket": "aegis-dev-datasets", "id": "aegis-dev-datasets"})
    assert not failed(ENC, config, bucket)


@pytest.mark.parametrize("rtype, before, after", [
    ("aws_dynamodb_table", {"name": "t", "server_side_encryption": [{"enabled": True, "kms_key_arn": KEY_ARN}]},
     {"name": "t", "server_side_encryption": [{"enabled": False, "kms_key_arn": ""}]}),
    ("aws_cloudwatch_log_group", {"name": "/aegis/x", "kms_key_id": KEY_ARN}, {"name": "/aegis/x", "kms_key_id": ""}),
    ("aws_sns_topic", {"name": "alerts", "kms_master_key_id": KEY_ARN}, {"name": "alerts", "kms_master_key_id": None}),
    ("aws_ebs_encryption_by_default", {"enabled": True}, {"enabled": False}),
    ("aws_ecr_repository", {"name": "m", "encryption_configuration": [{"encryption_type": "KMS", "kms_key": KEY_ARN}]},
     {"name": "m", "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}]}),
    ("aws_sagemaker_endpoint_configuration", {"name": "c", "kms_key_arn": KEY_ARN},
     {"name": "c", "kms_key_arn": OTHER_KEY_ARN}),
])
def test_encryption_removed_on_other_resource_types(rtype, before, after):
    assert failed(ENC, *PROJECT_KEYS, update(rtype, "r", before, after))
    assert not failed(ENC, *PROJECT_KEYS, update(rtype, "r", before, before))


def test_creating_resources_is_left_to_the_synth_gate():
    assert not judge_ids(create(SSE, "enc", sse("AES256")), ENC)


# ---------------------------------------------------------------- versioning

VER = "AEGIS_PLAN_VERSIONING_SUSPENDED"


def versioning(status: str, mfa: str = "Disabled") -> dict:
    return {"bucket": "aegis-dev-audit", "versioning_configuration": [{"status": status, "mfa_delete": mfa}]}


def test_suspending_versioning_is_blocked():
    [result] = failed(VER, update("aws_s3_bucket_versioning", "v", versioning("Enabled"), versioning("Suspended")))
    assert "from Enabled to Suspended" in result.message


def test_keeping_versioning_passes():
    assert passed(VER, update("aws_s3_bucket_versioning", "v", versioning("Enabled"), versioning("Enabled")))
    assert not failed(VER, update("aws_s3_bucket_versioning", "v", versioning("Suspended"), versioning("Enabled")))


def test_turning_mfa_delete_off_is_blocked():
    assert "MFA delete" in failed(VER, update("aws_s3_bucket_versioning", "v", versioning("Enabled", "Enabled"),
                                              versioning("Enabled", "Disabled")))[0].message


def test_destroying_the_versioning_resource_suspends_it_unless_the_bucket_goes():
    gone = delete("aws_s3_bucket_versioning", "v", versioning("Enabled"))
    assert failed(VER, gone)
    assert not failed(VER, gone, delete("aws_s3_bucket", "b", {"bucket": "aegis-dev-audit", "id": "aegis-dev-audit"}))


def test_legacy_inline_versioning_turned_off_is_blocked():
    before = {"bucket": "b", "versioning": [{"enabled": True, "mfa_delete": False}]}
    after = {"bucket": "b", "versioning": [{"enabled": False, "mfa_delete": False}]}
    assert failed(VER, update("aws_s3_bucket", "b", before, after))
    assert not failed(VER, update("aws_s3_bucket", "b", before, before))


# ---------------------------------------------------------------- object lock

LOCK = "AEGIS_PLAN_OBJECT_LOCK_SHORTENED"
OLC = "aws_s3_bucket_object_lock_configuration"


def lock(mode: str | None = "COMPLIANCE", days: int | None = None, years: int | None = None) -> dict:
    rule = [] if mode is None else [{"default_retention": [{"mode": mode, "days": days, "years": years}]}]
    return {"bucket": "aegis-prod-audit", "object_lock_enabled": "Enabled", "rule": rule}


@pytest.mark.parametrize("before, after, message", [
    (lock(days=365), lock(days=30), "shortened from 365 days COMPLIANCE to 30 days COMPLIANCE"),
    (lock(years=1), lock(days=300), "shortened"),
    (lock(days=365), lock("GOVERNANCE", days=365), "weakened from COMPLIANCE to GOVERNANCE"),
    (lock(days=365), lock(None), "shortened from 365 days COMPLIANCE to no default retention"),
])
def test_shorter_or_weaker_retention_is_blocked(before, after, message):
    [result] = failed(LOCK, update(OLC, "lock", before, after))
    assert message in result.message


@pytest.mark.parametrize("before, after", [
    (lock(days=30), lock(days=365)),
    (lock(days=365), lock(years=1)),
    (lock("GOVERNANCE", days=7), lock("COMPLIANCE", days=7)),
])
def test_longer_or_stronger_retention_passes(before, after):
    assert not failed(LOCK, update(OLC, "lock", before, after))
    assert passed(LOCK, update(OLC, "lock", before, after))


def test_destroying_the_lock_configuration_of_a_kept_bucket_is_blocked():
    assert "drops the default retention" in failed(LOCK, delete(OLC, "lock", lock(days=365)))[0].message


# ---------------------------------------------------------------- log file validation

LV = "AEGIS_PLAN_LOG_VALIDATION_OFF"


def trail(validation: bool, logging: bool = True) -> dict:
    return {"name": "aegis-prod-trail", "enable_log_file_validation": validation, "enable_logging": logging,
            "kms_key_id": KEY_ARN, "is_multi_region_trail": True}


def test_turning_log_file_validation_off_is_blocked():
    assert "log file validation" in failed(LV, *PROJECT_KEYS, update("aws_cloudtrail", "t", trail(True), trail(False)))[0].message


def test_keeping_log_file_validation_passes():
    assert passed(LV, *PROJECT_KEYS, update("aws_cloudtrail", "t", trail(True), {**trail(True), "tags": {"a": "b"}}))
    assert not failed(LV, *PROJECT_KEYS, update("aws_cloudtrail", "t", trail(False), trail(True)))


# ---------------------------------------------------------------- detectors

DET = "AEGIS_PLAN_DETECTOR_DISABLED"


@pytest.mark.parametrize("rtype, before, after", [
    ("aws_guardduty_detector", {"enable": True, "id": "d1"}, {"enable": False, "id": "d1"}),
    ("aws_guardduty_detector_feature", {"name": "S3_DATA_EVENTS", "status": "ENABLED", "detector_id": "d1"},
     {"name": "S3_DATA_EVENTS", "status": "DISABLED", "detector_id": "d1"}),
    ("aws_config_configuration_recorder_status", {"name": "aegis", "is_enabled": True},
     {"name": "aegis", "is_enabled": False}),
    ("aws_securityhub_standards_control", {"standards_control_arn": "arn:x/IAM.1", "control_status": "ENABLED"},
     {"standards_control_arn": "arn:x/IAM.1", "control_status": "DISABLED", "disabled_reason": "noise"}),
    ("aws_inspector2_enabler", {"account_ids": ["111122223333"], "resource_types": ["ECR", "EC2", "LAMBDA"]},
     {"account_ids": ["111122223333"], "resource_types": ["ECR"]}),
    ("aws_macie2_account", {"status": "ENABLED"}, {"status": "PAUSED"}),
    ("aws_cloudtrail", trail(True, True), trail(True, False)),
])
def test_switching_a_detector_off_is_blocked(rtype, before, after):
    assert failed(DET, *PROJECT_KEYS, update(rtype, "r", before, after))
    assert not failed(DET, *PROJECT_KEYS, update(rtype, "r", before, before))


@pytest.mark.parametrize("rtype, before", [
    ("aws_guardduty_detector", {"enable": True, "id": "d1"}),
    ("aws_securityhub_account", {"id": "111122223333", "enable_default_standards": False}),
    ("aws_securityhub_standards_subscription", {"standards_arn": "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"}),
    ("aws_config_configuration_recorder_status", {"name": "aegis", "is_enabled": True}),
    ("aws_config_delivery_channel", {"name": "aegis", "s3_bucket_name": "aegis-dev-audit"}),
    ("aws_inspector2_enabler", {"account_ids": ["111122223333"], "resource_types": ["ECR"]}),
    ("aws_macie2_account", {"status": "ENABLED"}),
])
def test_destroying_a_detector_switch_is_blocked_but_replacing_it_is_not(rtype, before):
    assert "stops detecting" in failed(DET, delete(rtype, "r", before))[0].message
    assert not failed(DET, replace(rtype, "r", before, before))


# ---------------------------------------------------------------- public access block

PAB_ID = "AEGIS_PLAN_PUBLIC_ACCESS_LOOSENED"


def pab(**off) -> dict:
    values = {"bucket": "aegis-dev-datasets", "block_public_acls": True, "block_public_policy": True,
              "ignore_public_acls": True, "restrict_public_buckets": True}
    values.update({k: False for k in off})
    return values


def test_loosening_a_public_access_block_is_blocked():
    [result] = failed(PAB_ID, update("aws_s3_bucket_public_access_block", "p", pab(), pab(block_public_policy=1)))
    assert "block_public_policy" in result.message
    account = {k: v for k, v in pab().items() if k != "bucket"}
    assert failed(PAB_ID, update("aws_s3_account_public_access_block", "a", account,
                                 {**account, "restrict_public_buckets": False}))
    assert failed(PAB_ID, delete("aws_s3_account_public_access_block", "a", account))


def test_keeping_or_tightening_a_public_access_block_passes():
    assert passed(PAB_ID, update("aws_s3_bucket_public_access_block", "p", pab(), pab()))
    assert not failed(PAB_ID, update("aws_s3_bucket_public_access_block", "p", pab(ignore_public_acls=1), pab()))


def test_destroying_a_bucket_public_access_block_is_blocked_unless_the_bucket_goes():
    block = delete("aws_s3_bucket_public_access_block", "p", pab())
    assert failed(PAB_ID, block)
    assert not failed(PAB_ID, block, delete("aws_s3_bucket", "b", {"bucket": "aegis-dev-datasets", "id": "aegis-dev-datasets"}))


# ---------------------------------------------------------------- ingress

ING = "AEGIS_PLAN_OPEN_INGRESS"


def sg(*rules: tuple) -> dict:
    return {"name": "aegis-dev-alb", "vpc_id": "vpc-1", "egress": [],
            "ingress": [{"cidr_blocks": [c for c in cidrs if ":" not in c],
                         "ipv6_cidr_blocks": [c for c in cidrs if ":" in c], "from_port": port, "to_port": port,
                         "protocol": "tcp", "description": "", "prefix_list_ids": [], "security_groups": [],
                         "self": False} for port, cidrs in rules]}


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_new_ingress_from_anywhere_is_blocked(cidr):
    [result] = failed(ING, update("aws_security_group", "alb", sg((443, ["10.0.0.0/16"])),
                                  sg((443, ["10.0.0.0/16"]), (22, [cidr]))))
    assert f"{cidr} on tcp port 22" in result.message


def test_ingress_rule_resources_count_when_created():
    assert failed(ING, create("aws_vpc_security_group_ingress_rule", "r",
                              {"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
                               "cidr_ipv4": "0.0.0.0/0"}))
    assert failed(ING, create("aws_security_group_rule", "r",
                              {"type": "ingress", "security_group_id": "sg-1", "protocol": "-1", "from_port": 0,
                               "to_port": 0, "cidr_blocks": [], "ipv6_cidr_blocks": ["::/0"]}))
    assert not failed(ING, create("aws_security_group_rule", "r",
                                  {"type": "egress", "security_group_id": "sg-1", "protocol": "-1", "from_port": 0,
                                   "to_port": 0, "cidr_blocks": ["0.0.0.0/0"]}))


def test_private_or_already_existing_ingress_passes():
    assert not failed(ING, update("aws_security_group", "alb", sg((443, ["10.0.0.0/16"])),
                                  sg((443, ["10.0.0.0/16", "10.1.0.0/16"]))))
    existing = sg((443, ["0.0.0.0/0"]))
    assert not failed(ING, update("aws_security_group", "alb", existing, {**existing, "description": "x"}))
    assert passed(ING, create("aws_vpc_security_group_ingress_rule", "r",
                              {"security_group_id": "sg-1", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
                               "cidr_ipv4": "10.0.0.0/8"}))


# ---------------------------------------------------------------- IAM

IAM = "AEGIS_PLAN_IAM_WIDENED"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ = {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"}


@pytest.mark.parametrize("widened, message", [
    ({**READ, "Action": "*"}, 'Action "*"'),
    ({**READ, "Action": ["s3:GetObject", "*:*"]}, 'Action "*"'),
    ({"Sid": "R", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction"),
])
def test_identity_policy_widened_to_any_action_is_blocked(widened, message):
    [result] = failed(IAM, update("aws_iam_role_policy", "p", {"name": "p", "policy": doc(READ)},
                                  {"name": "p", "policy": doc(widened)}))
    assert message in result.message


def test_narrow_or_service_wide_actions_pass():
    assert passed(IAM, update("aws_iam_role_policy", "p", {"name": "p", "policy": doc(READ)},
                              {"name": "p", "policy": doc({**READ, "Action": "s3:*"})}))


def test_a_statement_that_was_already_there_is_not_a_widening():
    wide = {**READ, "Action": "*"}
    assert not failed(IAM, update("aws_iam_policy", "p", {"name": "p", "policy": doc(wide)},
                                  {"name": "p", "policy": doc({**wide, "Sid": "Renamed"}), "description": "x"}))


BUCKET_ALLOW_ALL = {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*"}


@pytest.mark.parametrize("rtype, key", [("aws_s3_bucket_policy", "policy"), ("aws_kms_key", "policy"),
                                        ("aws_sqs_queue_policy", "policy"), ("aws_iam_role", "assume_role_policy")])
def test_resource_policy_opened_to_any_principal_is_blocked(rtype, key):
    statement = dict(BUCKET_ALLOW_ALL, Principal={"AWS": "*"}) if rtype == "aws_iam_role" else BUCKET_ALLOW_ALL
    [result] = failed(IAM, *PROJECT_KEYS if rtype != "aws_kms_key" else (),
                      update(rtype, "r", {"name": "r", key: doc()}, {"name": "r", key: doc(statement)}))
    assert 'Principal "*"' in result.message


@pytest.mark.parametrize("statement", [
    {**BUCKET_ALLOW_ALL, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}},
    {**BUCKET_ALLOW_ALL, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}},
    {**BUCKET_ALLOW_ALL, "Effect": "Deny"},
])
def test_any_principal_pinned_by_a_condition_or_denied_passes(statement):
    assert not failed(IAM, update("aws_s3_bucket_policy", "r", {"bucket": "b", "policy": doc()},
                                  {"bucket": "b", "policy": doc(statement)}))


def test_a_negated_or_if_exists_condition_does_not_pin_the_caller():
    statement = {**BUCKET_ALLOW_ALL, "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}}
    assert failed(IAM, update("aws_s3_bucket_policy", "r", {"bucket": "b", "policy": doc()},
                              {"bucket": "b", "policy": doc(statement)}))


def test_vpc_endpoint_policies_may_name_any_principal_but_not_any_action():
    before = {"vpc_endpoint_type": "Gateway", "policy": doc()}
    assert not failed(IAM, update("aws_vpc_endpoint", "s3", before, {**before, "policy": doc(BUCKET_ALLOW_ALL)}))
    assert failed(IAM, update("aws_vpc_endpoint", "s3", before,
                              {**before, "policy": doc({**BUCKET_ALLOW_ALL, "Action": "*"})}))


def test_a_new_policy_is_judged_from_nothing():
    assert failed(IAM, create("aws_iam_role_policy", "p", {"name": "p", "policy": doc({**READ, "Action": "*"})}))
    assert passed(IAM, create("aws_iam_role_policy", "p", {"name": "p", "policy": doc(READ)}))


def test_attaching_administrator_access_is_blocked():
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert failed(IAM, create("aws_iam_role_policy_attachment", "a", {"role": "r", "policy_arn": arn}))
    assert not failed(IAM, create("aws_iam_role_policy_attachment", "a",
                                  {"role": "r", "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}))


def test_lambda_permission_for_everyone_without_a_source_is_blocked():
    base = {"function_name": "aegis-dev-model", "action": "lambda:InvokeFunction"}
    assert failed(IAM, create("aws_lambda_permission", "p", {**base, "principal": "*"}))
    assert not failed(IAM, create("aws_lambda_permission", "p", {**base, "principal": "*", "source_account": "111122223333"}))
    assert not failed(IAM, create("aws_lambda_permission", "p", {**base, "principal": "sns.amazonaws.com"}))


def test_a_policy_known_only_after_apply_fails_on_update_and_passes_on_create():
    after = {"name": "p"}
    assert failed(IAM, update("aws_iam_role_policy", "p", {"name": "p", "policy": doc(READ)}, after,
                              after_unknown={"policy": True}))
    assert not failed(IAM, create("aws_iam_role_policy", "p", after, after_unknown={"policy": True}))


# ---------------------------------------------------------------- KMS key state

KMS = "AEGIS_PLAN_KMS_KEY_DISABLED"
KEY = {"arn": KEY_ARN, "key_id": "1234abcd-12ab-34cd-56ef-1234567890ab", "description": "aegis-prod audit data",
       "is_enabled": True, "enable_key_rotation": True, "deletion_window_in_days": 30}


@pytest.mark.parametrize("after, message", [
    ({**KEY, "is_enabled": False}, "is disabled"),
    ({**KEY, "enable_key_rotation": False}, "rotation"),
])
def test_disabling_a_key_or_its_rotation_is_blocked(after, message):
    assert message in failed(KMS, update("aws_kms_key", "k", KEY, after))[0].message


@pytest.mark.parametrize("make", [lambda: delete("aws_kms_key", "k", KEY),
                                  lambda: replace("aws_kms_key", "k", KEY, KEY)])
def test_deleting_or_replacing_a_key_schedules_its_deletion(make):
    [result] = failed(KMS, make())
    assert result.deletion and "scheduled for deletion in 30 days" in result.message


def test_other_key_updates_pass():
    assert passed(KMS, update("aws_kms_key", "k", KEY, {**KEY, "description": "renamed"}))


# ---------------------------------------------------------------- endpoints

EP = "AEGIS_PLAN_ENDPOINT_DEGRADED"
CAPTURE = {"enable_capture": True, "initial_sampling_percentage": 100, "destination_s3_uri": "s3://b/capture",
           "kms_key_id": KEY_ARN, "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}]}


def endpoint_config(name: str, capture: bool | None) -> dict:
    values = {"name": name, "kms_key_arn": KEY_ARN, "production_variants": [{"variant_name": "primary"}]}
    if capture is not None:
        values["data_capture_config"] = [{**CAPTURE, "enable_capture": capture}]
    return values


@pytest.mark.parametrize("after", [endpoint_config("c", None), endpoint_config("c", False)])
def test_an_endpoint_configuration_losing_data_capture_is_blocked(after):
    assert "stops capturing" in failed(EP, *PROJECT_KEYS, replace("aws_sagemaker_endpoint_configuration", "c",
                                                                   endpoint_config("c", True), after))[0].message


def test_an_endpoint_configuration_keeping_data_capture_passes():
    assert passed(EP, *PROJECT_KEYS, replace("aws_sagemaker_endpoint_configuration", "c", endpoint_config("c", True),
                                             {**endpoint_config("c", True), "tags": {"v": "2"}}))


def test_an_endpoint_moving_to_a_configuration_without_capture_is_blocked():
    old = delete("aws_sagemaker_endpoint_configuration", "v1", endpoint_config("model-v1", True))
    endpoint = update("aws_sagemaker_endpoint", "e", {"name": "model", "endpoint_config_name": "model-v1"},
                      {"name": "model", "endpoint_config_name": "model-v2"})
    no_capture = create("aws_sagemaker_endpoint_configuration", "v2", endpoint_config("model-v2", None))
    with_capture = create("aws_sagemaker_endpoint_configuration", "v2", endpoint_config("model-v2", True))
    assert "does not capture" in failed(EP, *PROJECT_KEYS, old, endpoint, no_capture)[0].message
    assert not failed(EP, *PROJECT_KEYS, old, endpoint, with_capture)


TARGET = {"service_namespace": "sagemaker", "resource_id": "endpoint/aegis-dev-model/variant/primary",
          "scalable_dimension": "sagemaker:variant:DesiredInstanceCount", "min_capacity": 1, "max_capacity": 4}


def test_an_endpoint_losing_autoscaling_is_blocked():
    assert "stops scaling" in failed(EP, delete("aws_appautoscaling_target", "t", TARGET))[0].message
    policy = {"name": "invocations", "service_namespace": "sagemaker", "resource_id": TARGET["resource_id"],
              "policy_type": "TargetTrackingScaling"}
    assert failed(EP, delete("aws_appautoscaling_policy", "p", policy))
    assert "fixed size" in failed(EP, update("aws_appautoscaling_target", "t", TARGET,
                                             {**TARGET, "max_capacity": 1}))[0].message


def test_autoscaling_kept_or_removed_with_its_endpoint_passes():
    assert passed(EP, update("aws_appautoscaling_target", "t", TARGET, {**TARGET, "max_capacity": 8}))
    assert not failed(EP, delete("aws_appautoscaling_target", "t", TARGET),
                      delete("aws_sagemaker_endpoint", "e", {"name": "aegis-dev-model", "id": "aegis-dev-model"}))
    ecs = {**TARGET, "service_namespace": "ecs", "resource_id": "service/c/s"}
    assert not judge_ids(delete("aws_appautoscaling_target", "t", ecs), EP)


def test_an_unknown_computed_key_attribute_is_not_judged_where_it_is_not_set():
    # The legacy inline SSE block of aws_s3_bucket is computed from the separate SSE resource.
    before = {"bucket": "b", "server_side_encryption_configuration": [{"rule": [
        {"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": KEY_ARN}]}]}]}
    after = {"bucket": "b", "tags": {"x": "y"}}
    unknown = {"server_side_encryption_configuration": True}
    assert not failed(ENC, *PROJECT_KEYS, update("aws_s3_bucket", "b", before, after, after_unknown=unknown))
    assert not failed("AEGIS_PLAN_UNKNOWN_SECURITY_VALUE", *PROJECT_KEYS,
                      update("aws_s3_bucket", "b", before, after, after_unknown=unknown))


UNK = "AEGIS_PLAN_UNKNOWN_SECURITY_VALUE"
ALL_ON = {"bucket": "aegis-dev-datasets", "block_public_acls": True, "block_public_policy": True,
          "ignore_public_acls": True, "restrict_public_buckets": True}
TRAIL = {"name": "aegis-dev-trail", "enable_logging": True, "enable_log_file_validation": True,
         "is_multi_region_trail": True, "s3_bucket_name": "aegis-dev-audit", "kms_key_id": KEY_ARN}


@pytest.mark.parametrize("rc", [
    pytest.param(create("aws_security_group_rule", "https", {"type": "ingress", "protocol": "tcp", "from_port": 443,
                                                             "to_port": 443, "security_group_id": "sg-1"},
                        after_unknown={"cidr_blocks": True},
                        references={"cidr_blocks": ["module.network.allowed_cidrs"]}), id="ingress CIDR"),
    pytest.param(update("aws_s3_bucket_public_access_block", "pab", ALL_ON,
                        {k: v for k, v in ALL_ON.items() if k != "block_public_policy"},
                        after_unknown={"block_public_policy": True},
                        references={"block_public_policy": ["local.public_policy_allowed"]}), id="public access"),
    pytest.param(create("aws_s3_bucket_policy", "datasets", {"bucket": "aegis-dev-datasets"},
                        after_unknown={"policy": True}, references={"policy": ["var.bucket_policy_json"]}),
                 id="resource policy"),
    pytest.param(update("aws_cloudtrail", "trail", TRAIL, {k: v for k, v in TRAIL.items() if k != "enable_logging"},
                        after_unknown={"enable_logging": True}, references={"enable_logging": ["var.trail_on"]}),
                 id="logging"),
    pytest.param(update("aws_dynamodb_table", "t", {"name": "t", "server_side_encryption": [
        {"enabled": True, "kms_key_arn": KEY_ARN}]}, {"name": "t"}, after_unknown={"server_side_encryption": True},
        references={"server_side_encryption": ["module.keys.table_key"]}), id="encryption block"),
])
def test_attack_unknown_security_value_passes_unjudged(rc):
    """Before, every plan check let these through: the value is unknown, so there was nothing to compare."""
    failing = [(cid, r) for cid, r in judge(rc) if not r.passed]
    assert [cid for cid, _ in failing] == [UNK], failing
    assert "known only after apply" in failing[0][1].message and "this plan does not hold" in failing[0][1].message


def test_an_unknown_value_set_from_objects_of_the_plan_is_reported_as_passed():
    key = create("aws_kms_key", "kms-new_key", {"description": "new", "is_enabled": True, "enable_key_rotation": True},
                 after_unknown={"arn": True, "key_id": True})
    sse = create("aws_s3_bucket_server_side_encryption_configuration", "enc", {"bucket": "b", "rule": [
        {"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms"}]}]},
        after_unknown={"rule": [{"apply_server_side_encryption_by_default": [{"kms_master_key_id": True}]}]},
        references={"kms_master_key_id": ["aws_kms_key.kms-new_key.arn", "aws_kms_key.kms-new_key"]})
    assert not failed(UNK, key, sse)
    [reported] = passed(UNK, key, sse)
    assert "kms_master_key_id (from aws_kms_key.kms-new_key, aws_kms_key.kms-new_key.arn)" in reported.message


def test_an_unknown_value_set_with_no_reference_fails():
    rule = create("aws_vpc_security_group_ingress_rule", "r", {"ip_protocol": "tcp", "from_port": 22, "to_port": 22,
                                                               "security_group_id": "sg-1", "cidr_ipv4": None},
                  after_unknown={"cidr_ipv4": True})
    assert not failed(UNK, rule)  # not set by the configuration: computed by the provider, judged where set
    rule["_references"] = {"cidr_ipv4": []}  # set, from nothing the plan shows
    [result] = failed(UNK, rule)
    assert "no reference the plan can follow" in result.message


# ---------------------------------------------------------------- release guardrails

RG = "AEGIS_PLAN_RELEASE_GUARDRAILS_REMOVED"
ROLLBACK_ALARMS = ["aegis-prod-model-m-latency-p99", "aegis-prod-model-m-5xx-rate"]


def guarded(routing: str | None = "CANARY", alarms: list[str] | None = None) -> dict:
    """An endpoint's plan values with a deployment_config (None: without one)."""
    values = {"name": "aegis-prod-m", "endpoint_config_name": "cfg"}
    if routing is None:
        return values
    alarms = ROLLBACK_ALARMS if alarms is None else alarms
    values["deployment_config"] = [{
        "blue_green_update_policy": [{"traffic_routing_configuration": [{
            "type": routing, "wait_interval_in_seconds": 600,
            "canary_size": [{"type": "INSTANCE_COUNT", "value": 1}] if routing == "CANARY" else []}],
            "termination_wait_in_seconds": 600, "maximum_execution_timeout_in_seconds": 3600}],
        "auto_rollback_configuration": [{"alarms": [{"alarm_name": a} for a in alarms]}] if alarms else [],
        "rolling_update_policy": []}]
    return values


@pytest.mark.parametrize("after, message", [
    (guarded(None), "stops shifting traffic gradually (CANARY → no deployment_config)"),
    (guarded("ALL_AT_ONCE"), "stops shifting traffic gradually (CANARY → ALL_AT_ONCE)"),
    (guarded("CANARY", alarms=ROLLBACK_ALARMS[:1]), "no longer rolls back on aegis-prod-model-m-5xx-rate"),
    (guarded("LINEAR", alarms=[]), "no longer rolls back on aegis-prod-model-m-5xx-rate, aegis-prod-model-m-latency-p99"),
])
def test_an_endpoint_update_dropping_its_guardrails_is_blocked(after, message):
    (result,) = failed(RG, update("aws_sagemaker_endpoint", "e", guarded("CANARY"), after))
    assert message in result.message


def test_guardrails_known_only_after_apply_are_blocked():
    change_ = update("aws_sagemaker_endpoint", "e", guarded("CANARY"), {"name": "aegis-prod-m"},
                     after_unknown={"deployment_config": True})
    assert "known only after apply" in failed(RG, change_)[0].message


@pytest.mark.parametrize("after", [
    guarded("LINEAR"),  # canary → linear: still gradual, same alarms
    guarded("CANARY", alarms=[*ROLLBACK_ALARMS, "aegis-prod-model-m-4xx-rate"]),  # one more alarm
    {**guarded("CANARY"), "endpoint_config_name": "cfg-2"},  # a release under the same guardrails
])
def test_an_endpoint_keeping_its_guardrails_passes(after):
    assert passed(RG, update("aws_sagemaker_endpoint", "e", guarded("CANARY"), after))
    assert not failed(RG, update("aws_sagemaker_endpoint", "e", guarded("CANARY"), after))


def test_endpoints_without_guardrails_or_going_away_are_not_judged():
    assert not judge_ids(update("aws_sagemaker_endpoint", "e", guarded(None), guarded(None)), RG)
    assert not judge_ids(delete("aws_sagemaker_endpoint", "e", guarded("CANARY")), RG)
    assert not judge_ids(create("aws_sagemaker_endpoint", "e", guarded(None)), RG)


# ---------------------------------------------------------------- fleet instance refresh

FR = "AEGIS_PLAN_FLEET_REFRESH_REMOVED"
REFRESH_ALARMS = ["aegis-prod-model-m-5xx", "aegis-prod-model-m-unhealthy-hosts"]


def refreshing(auto_rollback: bool | None = True, alarms: list[str] | None = None) -> dict:
    """A GPU fleet group's plan values with an instance refresh (auto_rollback None: without one)."""
    values: dict = {"name": "aegis-prod-m", "health_check_type": "ELB"}
    if auto_rollback is None:
        return values
    alarms = REFRESH_ALARMS if alarms is None else alarms
    values["instance_refresh"] = [{"strategy": "Rolling", "triggers": [], "preferences": [{
        "auto_rollback": auto_rollback, "skip_matching": True, "checkpoint_percentages": [20, 50, 100],
        "checkpoint_delay": "600",
        "alarm_specification": [{"alarms": alarms}] if alarms else []}]}]
    return values


@pytest.mark.parametrize("after, message", [
    (refreshing(None), "no longer rolls a failed instance refresh back"),
    (refreshing(False), "no longer rolls a failed instance refresh back"),
    (refreshing(True, alarms=REFRESH_ALARMS[:1]), "no longer stops its instance refresh on aegis-prod-model-m-unhealthy-hosts"),
    (refreshing(True, alarms=[]), "on aegis-prod-model-m-5xx, aegis-prod-model-m-unhealthy-hosts"),
])
def test_a_group_update_dropping_its_refresh_guardrails_is_blocked(after, message):
    (result,) = failed(FR, update("aws_autoscaling_group", "g", refreshing(), after))
    assert message in result.message


def test_refresh_guardrails_known_only_after_apply_are_blocked():
    change_ = update("aws_autoscaling_group", "g", refreshing(), {"name": "aegis-prod-m"},
                     after_unknown={"instance_refresh": True})
    assert "known only after apply" in failed(FR, change_)[0].message


def test_a_group_keeping_its_refresh_guardrails_passes():
    after = refreshing(True, alarms=[*REFRESH_ALARMS, "aegis-prod-model-m-response-time-p99"])
    assert passed(FR, update("aws_autoscaling_group", "g", refreshing(), after))
    assert not failed(FR, update("aws_autoscaling_group", "g", refreshing(), after))
    assert not judge_ids(update("aws_autoscaling_group", "g", refreshing(None), refreshing(None)), FR)
    assert not judge_ids(delete("aws_autoscaling_group", "g", refreshing()), FR)


# ---------------------------------------------------------------- Model Monitor

MR = "AEGIS_PLAN_MONITORING_REMOVED"
SCHEDULE_VALUES = {"name": "aegis-prod-m-data-quality", "monitoring_schedule_config": [{
    "monitoring_job_definition_name": "aegis-prod-m-dq-1234abcd", "monitoring_type": "DataQuality",
    "schedule_config": [{"schedule_expression": "cron(0 * ? * * *)"}]}]}
JOB_VALUES = {"name": "aegis-prod-m-dq-1234abcd", "data_quality_job_input": [{"endpoint_input": [{
    "endpoint_name": "aegis-prod-m", "local_path": "/opt/ml/processing/input"}]}]}
ENDPOINT_VALUES = {"name": "aegis-prod-m", "endpoint_config_name": "cfg"}


def drift_alarm(schedule: str = "aegis-prod-m-data-quality", actions: list[str] | None = None,
                namespace: str = "aws/sagemaker/Endpoints/data-metrics") -> dict:
    return {"alarm_name": "aegis-prod-model-m-drift", "threshold": 0.1,
            "alarm_actions": ["arn:aws:sns:eu-west-1:111122223333:aegis-prod-alerts"] if actions is None else actions,
            "metric_query": [
                {"id": "d0", "return_data": False, "metric": [{
                    "namespace": namespace, "metric_name": "feature_baseline_drift_amount", "stat": "Maximum",
                    "period": 3600, "dimensions": {"Endpoint": "aegis-prod-m", "MonitoringSchedule": schedule}}]},
                {"id": "e1", "expression": "MAX([d0])", "return_data": True, "metric": []}]}


def test_a_schedule_destroyed_while_its_endpoint_stays_is_blocked():
    (result,) = failed(MR, delete("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES),
                       delete("aws_sagemaker_data_quality_job_definition", "j", JOB_VALUES),
                       noop("aws_sagemaker_endpoint", "e", ENDPOINT_VALUES))
    assert "destroyed while endpoint aegis-prod-m stays" in result.message and result.deletion


def test_a_schedule_whose_endpoint_the_plan_cannot_show_is_blocked():
    (result,) = failed(MR, delete("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES))
    assert "does not show which endpoint" in result.message


def test_a_schedule_going_with_its_endpoint_or_replaced_passes():
    assert passed(MR, delete("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES),
                  noop("aws_sagemaker_data_quality_job_definition", "j", JOB_VALUES),
                  delete("aws_sagemaker_endpoint", "e", ENDPOINT_VALUES))
    assert not failed(MR, replace("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES, SCHEDULE_VALUES))
    assert not failed(MR, update("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES, {
        **SCHEDULE_VALUES, "monitoring_schedule_config": [{
            **SCHEDULE_VALUES["monitoring_schedule_config"][0], "monitoring_job_definition_name": "aegis-prod-m-dq-9"}]}))


@pytest.mark.parametrize("after, message", [
    (drift_alarm(actions=[]), "notifies nobody"),
    (drift_alarm(schedule="another"), "stops watching the drift metrics of aegis-prod-m-data-quality"),
    (drift_alarm(namespace="AWS/SageMaker"), "stops watching the drift metrics"),
])
def test_a_drift_alarm_update_that_silences_it_is_blocked(after, message):
    (result,) = failed(MR, update("aws_cloudwatch_metric_alarm", "a", drift_alarm(), after))
    assert message in result.message


def test_a_drift_alarm_destroyed_while_its_schedule_stays_is_blocked():
    (result,) = failed(MR, delete("aws_cloudwatch_metric_alarm", "a", drift_alarm()))
    assert "destroyed while schedule aegis-prod-m-data-quality stays" in result.message and result.deletion


def test_a_drift_alarm_known_only_after_apply_is_blocked():
    change_ = update("aws_cloudwatch_metric_alarm", "a", drift_alarm(), {"alarm_name": "aegis-prod-model-m-drift"},
                     after_unknown={"metric_query": True})
    assert "known only after apply" in failed(MR, change_)[0].message


def test_a_drift_alarm_kept_or_going_with_its_schedule_passes():
    assert passed(MR, update("aws_cloudwatch_metric_alarm", "a", drift_alarm(), {**drift_alarm(), "threshold": 0.2}))
    assert passed(MR, delete("aws_cloudwatch_metric_alarm", "a", drift_alarm()),
                  delete("aws_sagemaker_monitoring_schedule", "s", SCHEDULE_VALUES),
                  delete("aws_sagemaker_data_quality_job_definition", "j", JOB_VALUES),
                  delete("aws_sagemaker_endpoint", "e", ENDPOINT_VALUES))
    other = {"alarm_name": "aegis-prod-model-m-5xx-rate", "alarm_actions": [], "dimensions": {"EndpointName": "x"}}
    assert not judge_ids(delete("aws_cloudwatch_metric_alarm", "o", other), MR)
