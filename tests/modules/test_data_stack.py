"""Security properties of `<env>-data` and `<env>-bootstrap`, asserted on the synthesized JSON."""
from __future__ import annotations

import json
import re

import pytest

from modules.config import load_env
from modules.naming import BUCKETS, KEY_CLASSES, Naming

REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


def target(value: str) -> tuple[str, str, str]:
    match = REF.match(value)
    assert match, f"expected a reference, got {value!r}"
    return match.groups()


class DataView:
    """Resolves references inside one synthesized stack (bucket → name → purpose, key → alias → class)."""

    def __init__(self, synthesized, stack: str, env: str):
        self.s = synthesized
        self.stack = stack
        self.config = load_env(env)
        self.naming = Naming.of(self.config)

    def res(self, rtype: str) -> dict[str, dict]:
        return self.s.resources(self.stack, rtype)

    def bucket_name(self, ref: str) -> str:
        rtype, name, _ = target(ref)
        assert rtype == "aws_s3_bucket"
        return self.res("aws_s3_bucket")[name]["bucket"]

    def key_alias(self, ref: str) -> str:
        rtype, name, _ = target(ref)
        assert rtype == "aws_kms_key"
        aliases = [a["name"] for a in self.res("aws_kms_alias").values()
                   if a["target_key_id"] == "${aws_kms_key." + name + ".key_id}"]
        assert len(aliases) == 1
        return aliases[0]

    def by_bucket(self, rtype: str) -> dict[str, dict]:
        """Per-bucket resources (encryption, versioning, …) keyed by bucket name."""
        out = {}
        for conf in self.res(rtype).values():
            name = self.bucket_name(conf["bucket"])
            assert name not in out, f"two {rtype} for {name}"
            out[name] = conf
        return out

    def purpose(self, bucket: str) -> tuple[str, str]:
        """(purpose, region) of a bucket name built by the naming convention."""
        for region in (self.config.region, self.config.dr_region):
            for purpose in BUCKETS:
                if bucket == self.naming.bucket(purpose, region):
                    return purpose, region
        raise AssertionError(f"bucket {bucket} does not follow the naming convention")


@pytest.fixture
def data(synthesized, env) -> DataView:
    return DataView(synthesized, f"{env}-data", env)


def test_one_key_per_data_class_with_rotation_and_window(data):
    keys = data.res("aws_kms_key")
    classes = sorted(data.key_alias("${aws_kms_key." + k + ".arn}").rsplit("-", 1)[-1] for k in keys
                     if not data.key_alias("${aws_kms_key." + k + ".arn}").endswith("-dr"))
    assert classes == sorted(KEY_CLASSES)
    for conf in keys.values():
        assert conf["enable_key_rotation"] is True
        assert conf["deletion_window_in_days"] == data.config.data.kms_deletion_window_days
    for conf in data.res("aws_kms_alias").values():
        assert conf["name"].startswith(f"alias/{data.config.project}-{data.config.name}-")


def test_key_policies_separate_admins_from_users_and_limit_use(data):
    for conf in data.res("aws_kms_key").values():
        statements = {s["Sid"]: s for s in json.loads(conf["policy"])["Statement"]}
        admin = statements["KeyAdministrators"]
        assert admin["Principal"] == {"AWS": data.config.deployer_role_arn}
        assert not any(a in admin["Action"] for a in ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:*"))
        # Use is decided by the key policy itself: everyone of the account but the named users is denied,
        # and the users only through their services (tests/modules/test_key_access.py evaluates it).
        others = statements["DenyUseByOtherPrincipals"]
        assert others["Effect"] == "Deny"
        assert others["Condition"]["StringEquals"]["aws:PrincipalAccount"] == data.config.account_id
        assert data.config.deployer_role_arn in others["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
        users = statements["DenyUsersOutsideTheirServices"]
        assert all(v.endswith(".amazonaws.com") for v in users["Condition"]["StringNotEquals"]["kms:ViaService"])
        assert "kms:Decrypt" in users["Action"] and users["Effect"] == "Deny"
        # Only the account admin statement may grant kms:*, and only to this account's root.
        for sid, statement in statements.items():
            if "kms:*" in statement["Action"]:
                assert sid == "AccountAdmin" and statement["Principal"] == {"AWS": data.naming.account_root}
            if statement["Effect"] == "Allow":
                assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}


def test_every_bucket_encrypted_with_its_class_key(data):
    for bucket, conf in data.by_bucket("aws_s3_bucket_server_side_encryption_configuration").items():
        purpose, region = data.purpose(bucket)
        default = conf["rule"][0]["apply_server_side_encryption_by_default"]
        key_class = BUCKETS[purpose]
        if key_class is None:  # log targets: AWS delivers server access logs only to SSE-S3 buckets
            assert default == {"sse_algorithm": "AES256"}
            # checkov reports CKV_AWS_145 (a graph check) on the bucket, so the suppression sits there
            bucket_conf = next(c for c in data.res("aws_s3_bucket").values() if c["bucket"] == bucket)
            assert "CKV_AWS_145" in [s["id"] for s in bucket_conf["//"]["aegis_suppressions"]]
            continue
        assert default["sse_algorithm"] == "aws:kms"
        assert conf["rule"][0]["bucket_key_enabled"] is True
        assert data.key_alias(default["kms_master_key_id"]) == data.naming.kms_alias(key_class, region)


def test_every_bucket_versioned_private_and_owner_enforced(data):
    buckets = {c["bucket"] for c in data.res("aws_s3_bucket").values()}
    assert len(buckets) == (12 if data.config.data.replication.enabled else 6)  # + the code bucket (and its DR replica)
    versioning = data.by_bucket("aws_s3_bucket_versioning")
    blocks = data.by_bucket("aws_s3_bucket_public_access_block")
    ownership = data.by_bucket("aws_s3_bucket_ownership_controls")
    for bucket in buckets:
        assert versioning[bucket]["versioning_configuration"]["status"] == "Enabled"
        assert all(blocks[bucket][k] is True for k in
                   ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
        assert ownership[bucket]["rule"]["object_ownership"] == "BucketOwnerEnforced"
    for conf in data.res("aws_s3_bucket").values():
        assert conf.get("force_destroy") is False


def _denies(policy: dict, condition_key: str) -> list[dict]:
    return [s for s in policy["Statement"] if s["Effect"] == "Deny" and s["Principal"] == "*"
            and any(condition_key in cond for cond in s.get("Condition", {}).values())]


def test_every_bucket_policy_denies_plaintext_old_tls_and_wrong_keys(data):
    encryption = data.by_bucket("aws_s3_bucket_server_side_encryption_configuration")
    for bucket, conf in data.by_bucket("aws_s3_bucket_policy").items():
        policy = json.loads(conf["policy"])
        arn = f"arn:aws:s3:::{bucket}"
        (tls,) = _denies(policy, "aws:SecureTransport")
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert tls["Action"] == "s3:*" and sorted(tls["Resource"]) == [arn, f"{arn}/*"]
        (old_tls,) = _denies(policy, "s3:TlsVersion")
        assert old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
        default = encryption[bucket]["rule"][0]["apply_server_side_encryption_by_default"]
        if default["sse_algorithm"] == "aws:kms":
            (wrong_key,) = _denies(policy, "s3:x-amz-server-side-encryption-aws-kms-key-id")
            assert wrong_key["Condition"]["StringNotEqualsIfExists"][
                "s3:x-amz-server-side-encryption-aws-kms-key-id"] == default["kms_master_key_id"]
        # No statement grants anything to everyone.
        assert not [s for s in policy["Statement"] if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]


def test_every_bucket_logs_to_the_access_log_bucket_of_its_region(data):
    logging = data.by_bucket("aws_s3_bucket_logging")
    for bucket in {c["bucket"] for c in data.res("aws_s3_bucket").values()}:
        purpose, region = data.purpose(bucket)
        if purpose == "access-logs":
            assert bucket not in logging
            continue
        assert logging[bucket]["target_bucket"] == data.naming.bucket("access-logs", region)
        assert logging[bucket]["target_prefix"] == f"s3/{bucket}/"


def test_lifecycle_rules(data):
    lc = data.config.data.lifecycle
    for bucket, conf in data.by_bucket("aws_s3_bucket_lifecycle_configuration").items():
        rules = {r["id"]: r for r in conf["rule"]}
        assert rules["abort-incomplete-uploads"]["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == lc.abort_incomplete_upload_days
        assert rules["expire-noncurrent-versions"]["noncurrent_version_expiration"][0]["noncurrent_days"] == lc.noncurrent_version_expiry_days
        has_tiering = "tier-aging-datasets" in rules
        assert has_tiering == (data.purpose(bucket)[0] == "datasets")


def test_object_lock_on_model_and_audit_buckets_with_env_mode(data):
    locks = data.by_bucket("aws_s3_bucket_object_lock_configuration")
    lock = data.config.data.object_lock
    expected = {"dev": "GOVERNANCE", "staging": "GOVERNANCE", "prod": "COMPLIANCE"}[data.config.name]
    assert lock.mode == expected
    for conf in data.res("aws_s3_bucket").values():
        purpose, _ = data.purpose(conf["bucket"])
        locked = purpose in ("model-artifacts", "audit")
        assert conf["object_lock_enabled"] is locked
        if locked:
            retention = locks[conf["bucket"]]["rule"]["default_retention"]
            assert retention == {"mode": expected, "days": lock.retention_days}
        else:
            assert conf["bucket"] not in locks


def test_replication_only_where_enabled_to_dr_region_with_dr_key(data):
    replications = data.by_bucket("aws_s3_bucket_replication_configuration")
    if not data.config.data.replication.enabled:
        assert replications == {}
        assert "dr" not in [p.get("alias") for p in data.s.stack(data.stack)["provider"]["aws"]]
        return
    assert sorted(data.purpose(b)[0] for b in replications) == ["audit", "code", "datasets", "inference", "model-artifacts"]
    for bucket, conf in replications.items():
        purpose, region = data.purpose(bucket)
        assert region == data.config.region
        rule = conf["rule"][0]
        assert rule["status"] == "Enabled"
        assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"]["status"] == "Enabled"
        destination = rule["destination"]
        _, replica_name, _ = target(destination["bucket"])
        replica = data.res("aws_s3_bucket")[replica_name]
        assert replica["provider"] == "aws.dr"
        assert data.purpose(replica["bucket"]) == (purpose, data.config.dr_region)
        replica_key = destination["encryption_configuration"]["replica_kms_key_id"]
        assert data.key_alias(replica_key) == data.naming.kms_alias(BUCKETS[purpose], data.config.dr_region)
    (role,) = data.res("aws_iam_role").values()
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}


def test_account_level_guards(data):
    (block,) = data.res("aws_s3_account_public_access_block").values()
    assert block["account_id"] == data.config.account_id
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
    (ebs,) = data.res("aws_ebs_encryption_by_default").values()
    assert ebs["enabled"] is True
    (ebs_key,) = data.res("aws_ebs_default_kms_key").values()
    assert data.key_alias(ebs_key["key_arn"]) == data.naming.kms_alias("model")


def macie_results_sources(naming) -> list[str]:
    """Macie stores discovery results as its export configuration and as each classification job."""
    base = f"arn:aws:macie2:{naming.region}:{naming.account_id}"
    return [f"{base}:export-configuration:*", f"{base}:classification-job/*"]


def test_macie_classification_jobs_can_store_their_results_in_the_audit_bucket(data):
    policy = json.loads(data.by_bucket("aws_s3_bucket_policy")[data.naming.bucket("audit")]["policy"])
    macie = {s["Sid"]: s for s in policy["Statement"] if s.get("Principal") == {"Service": "macie.amazonaws.com"}}
    assert set(macie) == {"MacieBucketLocation", "MacieDiscoveryResults"}
    job = f"arn:aws:macie2:{data.naming.region}:{data.naming.account_id}:classification-job/"
    for s in macie.values():
        assert f"{job}*" in s["Condition"]["ArnLike"]["aws:SourceArn"], s["Sid"]


def test_audit_bucket_admits_only_this_trail_config_and_macie(data):
    policy = json.loads(data.by_bucket("aws_s3_bucket_policy")[data.naming.bucket("audit")]["policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert {s["Principal"]["Service"] for s in allows} == {
        "cloudtrail.amazonaws.com", "config.amazonaws.com", "macie.amazonaws.com"}
    for s in allows:
        conditions = s["Condition"]["StringEquals"]
        assert conditions.get("aws:SourceArn") == data.naming.trail_arn() or conditions.get("aws:SourceAccount") == data.config.account_id
        if s["Principal"]["Service"] == "macie.amazonaws.com":
            assert s["Condition"]["ArnLike"]["aws:SourceArn"] == macie_results_sources(data.naming)
            assert s["Resource"] in (f"arn:aws:s3:::{data.naming.bucket('audit')}",
                                     f"arn:aws:s3:::{data.naming.bucket('audit')}/macie/*")


def test_model_repositories_are_hardened(data):
    """Moved here from the platform tests with the repositories: `<env>-data` creates them, before
    `<env>-platform`, which pulls from them by digest."""
    repositories = data.res("aws_ecr_repository")
    for logical, repo in repositories.items():
        assert repo["image_tag_mutability"] == "IMMUTABLE"
        assert repo["image_scanning_configuration"] == {"scan_on_push": True}
        (encryption,) = repo["encryption_configuration"]
        assert encryption["encryption_type"] == "KMS"
        assert data.key_alias(encryption["kms_key"]) == data.naming.kms_alias("model")
        assert repo["force_delete"] is False
        assert repo.get("lifecycle", {}).get("prevent_destroy", False) is (data.config.tier == "prod")
        (policy,) = [p for p in data.res("aws_ecr_lifecycle_policy").values()
                     if p["repository"] == "${aws_ecr_repository." + logical + ".name}"]
        rules = json.loads(policy["policy"])["rules"]
        # Only untagged images expire: a deployed version's tag is never removed under a running fleet.
        assert [r["selection"]["tagStatus"] for r in rules] == ["untagged"]
    kinds_with_images = {"sagemaker", "sagemaker-serverless", "ec2"}
    assert sorted(r["name"] for r in repositories.values()) == sorted(
        data.naming.model_repository(m.name) for m in data.config.platform.models if m.serving in kinds_with_images)


def test_outputs_for_other_pillars(synthesized, env):
    outputs = synthesized.stack(f"{env}-data")["output"]
    for key_class in KEY_CLASSES:
        assert f"kms-{key_class}-arn" in outputs
    for purpose in BUCKETS:
        assert f"bucket-{purpose}-name" in outputs and f"bucket-{purpose}-arn" in outputs


def test_bootstrap_state_bucket(synthesized, env):
    view = DataView(synthesized, f"{env}-bootstrap", env)
    stack = synthesized.stack(f"{env}-bootstrap")
    assert "local" in stack["terraform"]["backend"]  # it creates the bucket the S3 backend needs
    state = view.naming.state_bucket()
    assert view.key_alias(view.by_bucket("aws_s3_bucket_server_side_encryption_configuration")[state]["rule"][0][
        "apply_server_side_encryption_by_default"]["kms_master_key_id"]) == view.naming.kms_alias("state")
    assert view.by_bucket("aws_s3_bucket_versioning")[state]["versioning_configuration"]["status"] == "Enabled"
    assert view.by_bucket("aws_s3_bucket_public_access_block")[state]["restrict_public_buckets"] is True
    policy = json.loads(view.by_bucket("aws_s3_bucket_policy")[state]["policy"])
    assert _denies(policy, "aws:SecureTransport")


def test_prod_buckets_and_keys_refuse_destruction(synthesized, env):
    prod = env == "prod"
    for stack in (f"{env}-data", f"{env}-bootstrap"):
        for rtype in ("aws_s3_bucket", "aws_kms_key"):
            for name, conf in synthesized.resources(stack, rtype).items():
                assert conf.get("lifecycle", {}).get("prevent_destroy", False) is prod, name


def test_object_events_reach_eventbridge_from_every_bucket(synthesized, env):
    config = load_env(env)
    for stack in (f"{env}-data", f"{env}-bootstrap"):
        view = DataView(synthesized, stack, env)
        notified = {name for name, conf in view.by_bucket("aws_s3_bucket_notification").items()
                    if conf.get("eventbridge") is True}
        for conf in view.res("aws_s3_bucket").values():
            owned_elsewhere = (conf["bucket"] == view.naming.bucket("inference")
                               and config.platform.owns_inference_notifications)
            assert (conf["bucket"] in notified) is not owned_elsewhere, conf["bucket"]
    if config.platform.owns_inference_notifications:
        (platform,) = [c for c in synthesized.resources(f"{env}-platform", "aws_s3_bucket_notification").values()
                       if c["bucket"] == Naming.of(config).bucket("inference")]
        assert platform["eventbridge"] is True and platform["lambda_function"]


def test_state_bucket_replicated_where_data_is(synthesized, env):
    view = DataView(synthesized, f"{env}-bootstrap", env)
    replications = view.by_bucket("aws_s3_bucket_replication_configuration")
    if not view.config.data.replication.enabled:
        assert replications == {}
        return
    (source,) = replications
    assert source == view.naming.state_bucket()
    destination = replications[source]["rule"][0]["destination"]
    _, replica, _ = target(destination["bucket"])
    assert view.res("aws_s3_bucket")[replica]["bucket"] == view.naming.bucket("tfstate", view.config.dr_region)
    assert view.key_alias(destination["encryption_configuration"]["replica_kms_key_id"]) == \
        view.naming.kms_alias("state", view.config.dr_region)
    (role,) = view.res("aws_iam_role").values()
    assert role["name"] == f"aegis-{env}-tfstate-replication"


def test_permission_boundary_is_created_first(synthesized, env):
    """Every role of every later stack names the boundary, so it lives in the first stack applied."""
    names = [p["name"] for p in synthesized.resources(f"{env}-bootstrap", "aws_iam_policy").values()]
    assert names == [f"aegis-{env}-permission-boundary"]
    assert synthesized.resources(f"{env}-data", "aws_iam_policy") == {}


def test_bootstrap_replication_role_is_ordered_after_its_boundary(synthesized, env):
    """The state-replication role is created in the stack that creates the boundary: it references the policy,
    so Terraform creates the boundary first (was: its literal ARN, with no ordering, racing IAM)."""
    policies = synthesized.resources(f"{env}-bootstrap", "aws_iam_policy")
    (boundary_name,) = policies
    for name, role in synthesized.resources(f"{env}-bootstrap", "aws_iam_role").items():
        assert role["permissions_boundary"] == "${aws_iam_policy." + boundary_name + ".arn}", name


def test_audit_bucket_takes_the_trails_sse_s3_digests_and_only_kms_log_files(data):
    """CloudTrail writes digest files with SSE-S3 whatever the trail's key; everything else stays on the key."""
    from policies.app_checks.trail_digest_delivery import delivery_keys
    from policies.iam_eval import ALLOW, DENY, as_principal, as_service, evaluate

    n = data.naming
    bucket = n.bucket("audit")
    conf = data.by_bucket("aws_s3_bucket_policy")[bucket]
    key_arn = data.by_bucket("aws_s3_bucket_server_side_encryption_configuration")[bucket]["rule"][0][
        "apply_server_side_encryption_by_default"]["kms_master_key_id"]
    policy = json.loads(conf["policy"])
    digest, log = delivery_keys("cloudtrail", n.account_id, n.region, n.resource("trail"))
    trail = {"aws:SourceArn": n.trail_arn(), "aws:SourceAccount": n.account_id,
             "s3:x-amz-acl": "bucket-owner-full-control"}
    sse_s3 = {"s3:x-amz-server-side-encryption": "AES256"}
    sse_kms = {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}

    def put(key: str, context: dict, caller=None) -> str:
        request = (caller or as_service)("cloudtrail.amazonaws.com", "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}",
                                         {**trail, **context})
        return evaluate([policy], request)

    assert put(digest, sse_s3) == ALLOW
    assert put(log, sse_kms) == ALLOW
    assert put(log, sse_s3) == DENY  # log files stay on the audit key
    assert put(digest, sse_kms) == DENY  # the digest prefix takes SSE-S3 only, nothing else
    # The exemption is no way around the key for anyone else writing elsewhere in the bucket.
    admin = as_principal(f"arn:aws:iam::{n.account_id}:role/admin", "s3:PutObject",
                         f"arn:aws:s3:::{bucket}/config/AWSLogs/{n.account_id}/x.json", sse_s3)
    assert evaluate([policy], admin) == DENY
