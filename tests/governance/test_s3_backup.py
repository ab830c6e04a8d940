"""Prod's versioned data buckets are in its AWS Backup plan: tagged, selected, readable by the backup role."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.data.stack import BACKED_UP_BUCKETS
from modules.governance.backup import SERVICE_POLICIES
from modules.naming import BACKUP_TAG_KEY, BUCKETS, Naming


def _tagged(synthesized, env: str) -> set[str]:
    naming = Naming.of(load_env(env))
    return {c["bucket"] for c in synthesized.resources(f"{env}-data", "aws_s3_bucket").values()
            if (c.get("tags") or {}).get(BACKUP_TAG_KEY) == naming.backup_tag_value}


def test_prod_tags_exactly_its_primary_data_buckets(synthesized):
    naming = Naming.of(load_env("prod"))
    assert _tagged(synthesized, "prod") == {naming.bucket(p) for p in BACKED_UP_BUCKETS}
    for env in ("dev", "staging"):
        assert _tagged(synthesized, env) == set()


def test_the_plan_selects_tagged_buckets_and_the_role_may_back_them_up(synthesized):
    (selection,) = [c for c in synthesized.resources("prod-governance", "aws_backup_selection").values()
                    if c["name"] == "aegis-prod-tagged"]
    assert "arn:aws:s3:::*" in selection["resources"]
    (condition,) = selection["condition"]
    assert condition["string_equals"] == [{"key": f"aws:ResourceTag/{BACKUP_TAG_KEY}", "value": "aegis-prod"}]
    attached = {c["policy_arn"] for c in synthesized.resources("prod-governance", "aws_iam_role_policy_attachment")
                .values() if "AWSBackup" in c["policy_arn"]}
    assert attached == set(SERVICE_POLICIES)
    assert {"arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Backup",
            "arn:aws:iam::aws:policy/AWSBackupServiceRolePolicyForS3Restore"} <= attached


def test_the_key_of_every_backed_up_bucket_lets_the_backup_role_decrypt_through_s3(synthesized):
    # The key policies delegate to IAM (the S3 backup policy allows kms:Decrypt through S3) and deny every
    # principal they do not list, and listed roles outside their class's services.
    naming = Naming.of(load_env("prod"))
    role = f"arn:aws:iam::{naming.account_id}:role/{naming.role('backup')}"
    keys = synthesized.resources("prod-data", "aws_kms_key")
    for purpose in BACKED_UP_BUCKETS:
        (key,) = [c for n, c in keys.items() if n.startswith(f"kms-{BUCKETS[purpose]}_")]
        denies = {st["Sid"]: st["Condition"] for st in json.loads(key["policy"])["Statement"] if st["Effect"] == "Deny"}
        assert role in denies["DenyUseByOtherPrincipals"]["ArnNotLike"]["aws:PrincipalArn"], purpose
        outside = denies["DenyUsersOutsideTheirServices"]
        assert role in outside["ArnLike"]["aws:PrincipalArn"], purpose
        assert f"s3.{naming.region}.amazonaws.com" in outside["StringNotEquals"]["kms:ViaService"], purpose
