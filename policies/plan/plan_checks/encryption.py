"""AEGIS_PLAN_ENCRYPTION_REMOVED: an update must not remove encryption at rest or move data to a key
that is not the project's.

Per resource type: flags that switch encryption on, algorithms that must stay KMS, and attributes
that name the KMS key. A regression is an `update` or `replace` where a flag goes from on to off,
the algorithm leaves KMS, the key disappears, or the key becomes one the project does not own
(`ProjectKeys`: keys and aliases of the plan, project alias lookups, the naming convention). A
new key known only after apply passes when the configuration points it at a key or alias of the
plan, and fails otherwise (it could be anything). Deleting a resource that *is* the encryption
setting (a bucket's SSE configuration, EBS encryption by default, the EBS default key) falls back
to AWS-managed encryption, unless what it protected is deleted too.
"""
from __future__ import annotations

from dataclasses import dataclass

from policies.checks.aegis_values import truthy
from policies.plan.plan_checks._base import (
    PlanCheck,
    fail,
    key_token,
    ok,
    plan_check,
    strings,
    unknown,
    values,
    verdict,
)

KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse", "KMS", "KMS_DSSE"}


@dataclass(frozen=True)
class Spec:
    enabled: tuple[str, ...] = ()  # must stay true
    algorithm: tuple[str, ...] = ()  # must stay a KMS algorithm once it is one
    keys: tuple[str, ...] = ()  # KMS key attributes: must not vanish or leave the project's keys
    on_delete: str | None = None  # deleting the resource removes encryption of the target named by this attribute


_SSE = "rule.*.apply_server_side_encryption_by_default.*"
SPECS: dict[str, Spec] = {
    "aws_s3_bucket_server_side_encryption_configuration": Spec(
        algorithm=(f"{_SSE}.sse_algorithm",), keys=(f"{_SSE}.kms_master_key_id",), on_delete="bucket"),
    "aws_s3_bucket": Spec(  # the legacy inline block
        algorithm=(f"server_side_encryption_configuration.*.{_SSE}.sse_algorithm",),
        keys=(f"server_side_encryption_configuration.*.{_SSE}.kms_master_key_id",)),
    "aws_s3_bucket_replication_configuration": Spec(
        keys=("rule.*.destination.*.encryption_configuration.*.replica_kms_key_id",)),
    "aws_dynamodb_table": Spec(enabled=("server_side_encryption.*.enabled",),
                               keys=("server_side_encryption.*.kms_key_arn",)),
    "aws_efs_file_system": Spec(enabled=("encrypted",), keys=("kms_key_id",)),
    "aws_ebs_volume": Spec(enabled=("encrypted",), keys=("kms_key_id",)),
    "aws_ebs_encryption_by_default": Spec(enabled=("enabled",), on_delete=""),
    "aws_ebs_default_kms_key": Spec(keys=("key_arn",), on_delete=""),
    "aws_launch_template": Spec(enabled=("block_device_mappings.*.ebs.*.encrypted",),
                                keys=("block_device_mappings.*.ebs.*.kms_key_id",)),
    "aws_cloudwatch_log_group": Spec(keys=("kms_key_id",)),
    "aws_cloudtrail": Spec(keys=("kms_key_id",)),
    "aws_sns_topic": Spec(keys=("kms_master_key_id",)),
    "aws_sqs_queue": Spec(keys=("kms_master_key_id",)),
    "aws_secretsmanager_secret": Spec(keys=("kms_key_id",)),
    "aws_lambda_function": Spec(keys=("kms_key_arn",)),
    "aws_ecr_repository": Spec(algorithm=("encryption_configuration.*.encryption_type",),
                               keys=("encryption_configuration.*.kms_key",)),
    "aws_sagemaker_endpoint_configuration": Spec(keys=("kms_key_arn", "data_capture_config.*.kms_key_id")),
    "aws_backup_vault": Spec(keys=("kms_key_arn",)),
    "aws_config_delivery_channel": Spec(keys=("s3_kms_key_arn",)),
}
# What a deleted setting protected: resource type of the target (for "unless it is deleted too").
_TARGET_TYPE = {"aws_s3_bucket_server_side_encryption_configuration": "aws_s3_bucket"}


@plan_check
class EncryptionRemoved(PlanCheck):
    id = "AEGIS_PLAN_ENCRYPTION_REMOVED"
    types = tuple(SPECS)

    def judge(self, rc, ctx):
        spec = SPECS[rc.type]
        if not rc.existed or rc.kind in ("no-op", "forget", "read"):
            return
        if rc.kind == "delete":
            if spec.on_delete is None:
                return
            target = rc.before.get(spec.on_delete) if spec.on_delete else None
            if target and ctx.destroys(_TARGET_TYPE.get(rc.type, ""), target):
                yield ok(rc, f"removed together with {target}")
            else:
                what = f" of {target}" if target else " (account default)"
                yield fail(rc, f"deleting it removes the encryption setting{what}: it falls back to "
                               "AWS-managed encryption")
            return
        yield verdict(rc, self.problems(rc, spec, ctx), "encryption kept with a project key")

    def problems(self, rc, spec: Spec, ctx):
        before, after = rc.before, rc.after or {}
        for path in spec.enabled:
            was = [truthy(v) for v in values(before, path)]
            now = [truthy(v) for v in values(after, path)]
            if any(was) and not unknown(rc, path) and not any(now):
                yield f"encryption turned off ({path.replace('.*', '')})"
        for path in spec.algorithm:
            was = strings(before, path)
            now = strings(after, path)
            if was & KMS_ALGORITHMS and not unknown(rc, path) and not now & KMS_ALGORITHMS:
                yield (f"encryption downgraded from {'/'.join(sorted(was))} to {'/'.join(sorted(now)) or 'none'} "
                       f"({path.replace('.*', '')})")
        for path in spec.keys:
            attribute = path.rsplit(".", 1)[-1]
            was, now = strings(before, path), strings(after, path)
            if unknown(rc, path):
                if not ctx.configured(rc, attribute):
                    continue  # computed by the provider (e.g. the legacy bucket attribute): judged where it is set
                if not ctx.refers_to_project_key(rc, attribute):
                    yield (f"the new {attribute} is known only after apply and the configuration does not point "
                           "it at a KMS key or alias of this plan: it cannot be shown to be a project key")
                continue
            if was and not now:
                yield f"KMS key removed ({attribute} was {', '.join(sorted(was))})"
            was_tokens = {key_token(k) for k in was}
            for key in sorted(k for k in now if key_token(k) not in was_tokens):
                if not ctx.keys.is_project(key):
                    yield f"{attribute} changed to {key}, which is not a key of this project"
