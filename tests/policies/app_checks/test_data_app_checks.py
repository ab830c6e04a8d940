"""App-level data checks: key separation, bucket key classes, object lock mode, prod deletion protection."""
from __future__ import annotations

import pytest

from modules.naming import BUCKETS, KEY_CLASSES, Naming
from tests.policies.app_checks.helpers import app, config, failures, resources, run, verdict


def data_stack(env: str, *, lock_mode=None, lock_days=None, swap=None, shared_key=False, prevent_destroy=False,
               bucket_key=None) -> dict:
    """A data stack like the real one: a key and alias per class, a bucket per purpose with SSE and locks."""
    cfg = config(env)
    naming = Naming.of(cfg)
    keys, aliases, buckets, sse, locks = {}, {}, {}, {}, {}
    for key_class in KEY_CLASSES:
        keys[f"kms-{key_class}_key"] = {"enable_key_rotation": True, "deletion_window_in_days": 30}
        target = "kms-training_key" if shared_key and key_class == "model" else f"kms-{key_class}_key"
        aliases[f"kms-{key_class}_alias"] = {"name": naming.kms_alias(key_class),
                                             "target_key_id": f"${{aws_kms_key.{target}.key_id}}"}
    for purpose, key_class in BUCKETS.items():
        name = f"bucket-{purpose}"
        buckets[name] = {"bucket": naming.bucket(purpose), "force_destroy": False,
                         "object_lock_enabled": purpose in ("model-artifacts", "audit")}
        if prevent_destroy:
            buckets[name]["lifecycle"] = {"prevent_destroy": True}
        used = (swap or {}).get(purpose, key_class)
        default = ({"sse_algorithm": "aws:kms", "kms_master_key_id": f"${{aws_kms_key.kms-{used}_key.arn}}"}
                   if used else {"sse_algorithm": "AES256"})
        if bucket_key and purpose in bucket_key:
            default["kms_master_key_id"] = bucket_key[purpose]
        sse[f"{name}-sse"] = {"bucket": f"${{aws_s3_bucket.{name}.id}}",
                              "rule": [{"apply_server_side_encryption_by_default": default}]}
        if purpose in ("model-artifacts", "audit"):
            locks[f"{name}-lock"] = {"bucket": f"${{aws_s3_bucket.{name}.id}}", "object_lock_enabled": "Enabled",
                                     "rule": {"default_retention": {
                                         "mode": lock_mode or cfg.data.object_lock.mode,
                                         "days": lock_days or cfg.data.object_lock.retention_days}}}
    return resources(aws_kms_key=keys, aws_kms_alias=aliases, aws_s3_bucket=buckets,
                     aws_s3_bucket_server_side_encryption_configuration=sse,
                     aws_s3_bucket_object_lock_configuration=locks)


def lookups(env: str, **overrides) -> dict:
    naming = Naming.of(config(env))
    found = {f"kms-{c}": {"key_id": naming.kms_alias_arn(c)} for c in ("inference", "audit")}
    found.update(overrides)
    return {"data": {"aws_kms_key": found}}


class TestKeyPerDataClass:
    def test_one_key_per_class_and_right_lookups_pass(self):
        results = run("AEGIS_KEY_PER_DATA_CLASS", app("dev", data=data_stack("dev"), platform=lookups("dev")))
        assert not failures(results)
        assert sum(r.passed for r in results) == len(KEY_CLASSES) + 2

    def test_two_classes_sharing_a_key_fail(self):
        results = run("AEGIS_KEY_PER_DATA_CLASS", app("dev", data=data_stack("dev", shared_key=True)))
        assert not verdict(results, "aws_kms_alias.kms-model_alias")

    def test_missing_class_alias_fails(self):
        stack = data_stack("dev")
        del stack["resource"]["aws_kms_alias"]["kms-audit_alias"]
        results = run("AEGIS_KEY_PER_DATA_CLASS", app("dev", data=stack))
        assert any(not r.passed and r.address == "" and "audit" in r.message for r in results)

    @pytest.mark.parametrize("key_id", [
        "arn:aws:kms:eu-west-1:111122223333:alias/aegis-dev-training",      # kms-inference → training alias
        "arn:aws:kms:eu-west-1:777788889999:alias/aegis-prod-inference",     # another environment's key
        "arn:aws:kms:eu-west-1:111122223333:key/1234abcd",                   # not an alias: class unknown
    ])
    def test_lookup_resolving_to_another_class_or_env_fails(self, key_id):
        stacks = app("dev", data=data_stack("dev"), platform=lookups("dev", **{"kms-inference": {"key_id": key_id}}))
        assert not verdict(run("AEGIS_KEY_PER_DATA_CLASS", stacks), "data.aws_kms_key.kms-inference")

    def test_dr_lookup_must_be_the_dr_alias(self):
        naming = Naming.of(config("prod"))
        good = {"kms-audit-dr": {"key_id": naming.kms_alias_arn("audit", naming.dr_region)}}
        bad = {"kms-audit-dr": {"key_id": naming.kms_alias_arn("audit")}}
        assert verdict(run("AEGIS_KEY_PER_DATA_CLASS", app("prod", governance=lookups("prod", **good))),
                       "data.aws_kms_key.kms-audit-dr")
        assert not verdict(run("AEGIS_KEY_PER_DATA_CLASS", app("prod", governance=lookups("prod", **bad))),
                           "data.aws_kms_key.kms-audit-dr")


class TestBucketKeyClass:
    def test_every_bucket_with_its_class_key_passes(self):
        results = run("AEGIS_BUCKET_KEY_CLASS", app("dev", data=data_stack("dev")))
        assert not failures(results) and len(results) == len(BUCKETS)

    @pytest.mark.parametrize("swap", [{"datasets": "inference"}, {"audit": "model"}, {"access-logs": "audit"},
                                      {"inference": None}])
    def test_bucket_with_another_class_key_fails(self, swap):
        purpose = next(iter(swap))
        results = run("AEGIS_BUCKET_KEY_CLASS", app("dev", data=data_stack("dev", swap=swap)))
        assert not verdict(results, f"aws_s3_bucket.bucket-{purpose}")

    def test_key_that_no_alias_classifies_fails(self):
        stack = data_stack("dev", bucket_key={"datasets": "arn:aws:kms:eu-west-1:111122223333:key/abcd"})
        assert not verdict(run("AEGIS_BUCKET_KEY_CLASS", app("dev", data=stack)), "aws_s3_bucket.bucket-datasets")

    def test_missing_bucket_is_reported(self):
        stack = data_stack("dev")
        del stack["resource"]["aws_s3_bucket"]["bucket-datasets"]
        results = run("AEGIS_BUCKET_KEY_CLASS", app("dev", data=stack))
        assert any(not r.passed and r.address == "" and "datasets" in r.message for r in results)


class TestObjectLockBuckets:
    @pytest.mark.parametrize("env", ["dev", "prod"])
    def test_configured_mode_passes(self, env):
        results = run("AEGIS_OBJECT_LOCK_BUCKETS", app(env, data=data_stack(env)))
        assert not failures(results) and len(results) == 2

    def test_governance_mode_in_prod_fails(self):
        results = run("AEGIS_OBJECT_LOCK_BUCKETS", app("prod", data=data_stack("prod", lock_mode="GOVERNANCE")))
        assert not verdict(results, "aws_s3_bucket.bucket-audit")

    def test_shorter_retention_than_configured_fails(self):
        results = run("AEGIS_OBJECT_LOCK_BUCKETS", app("prod", data=data_stack("prod", lock_days=30)))
        assert not verdict(results, "aws_s3_bucket.bucket-model-artifacts")

    def test_missing_lock_configuration_fails(self):
        stack = data_stack("dev")
        del stack["resource"]["aws_s3_bucket_object_lock_configuration"]["bucket-audit-lock"]
        assert not verdict(run("AEGIS_OBJECT_LOCK_BUCKETS", app("dev", data=stack)), "aws_s3_bucket.bucket-audit")


class TestProdDeletionProtection:
    def test_protected_prod_resources_pass(self):
        stack = data_stack("prod", prevent_destroy=True)
        stack["resource"]["aws_dynamodb_table"] = {"features": {"name": "t", "deletion_protection_enabled": True}}
        stack["resource"]["aws_cloudwatch_log_group"] = {"lg": {"name": "/x", "lifecycle": {"prevent_destroy": True}}}
        results = run("AEGIS_PROD_DELETION_PROTECTION", app("prod", data=stack))
        assert not failures(results)
        assert len(results) == len(BUCKETS) + 2  # keys: AEGIS_PROD_KMS_PREVENT_DESTROY

    @pytest.mark.parametrize("rtype, conf", [
        ("aws_s3_bucket", {"bucket": "b", "force_destroy": False}),    # S3 refuses to delete a non-empty bucket
        ("aws_ecr_repository", {"name": "r", "force_delete": False}),
        ("aws_efs_file_system", {"encrypted": True, "lifecycle": {"prevent_destroy": True}}),
    ])
    def test_service_refusal_or_cancellable_deletion_passes(self, rtype, conf):
        results = run("AEGIS_PROD_DELETION_PROTECTION", app("prod", data=resources(**{rtype: {"x": conf}})))
        assert verdict(results, f"{rtype}.x")

    @pytest.mark.parametrize("rtype, conf", [
        ("aws_s3_bucket", {"bucket": "b"}),
        ("aws_s3_bucket", {"bucket": "b", "force_destroy": True, "lifecycle": {"prevent_destroy": True}}),
        ("aws_dynamodb_table", {"name": "t"}),
        ("aws_efs_file_system", {"encrypted": True}),
        ("aws_cloudwatch_log_group", {"name": "/x", "retention_in_days": 365}),
        ("aws_backup_vault", {"name": "v"}),
        ("aws_ecr_repository", {"name": "r", "force_delete": True}),
    ])
    def test_unprotected_prod_resource_fails(self, rtype, conf):
        results = run("AEGIS_PROD_DELETION_PROTECTION", app("prod", data=resources(**{rtype: {"x": conf}})))
        assert not verdict(results, f"{rtype}.x")

    def test_keys_are_judged_by_the_prevent_destroy_check_only(self):
        stack = resources(aws_kms_key={"x": {"deletion_window_in_days": 7}})
        assert run("AEGIS_PROD_DELETION_PROTECTION", app("prod", data=stack)) == []
        assert not verdict(run("AEGIS_PROD_KMS_PREVENT_DESTROY", app("prod", data=stack)), "aws_kms_key.x")

    def test_dev_is_not_judged(self):
        assert run("AEGIS_PROD_DELETION_PROTECTION", app("dev", data=resources(aws_s3_bucket={"x": {"bucket": "b"}}))) == []
