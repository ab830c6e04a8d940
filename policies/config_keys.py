"""The environment-file key behind a finding, for the checks that judge a value the configuration decides.

A failure of one of these checks on Aegis's own output is fixed in `environments/<env>.yaml` (or base.yaml),
not in the Terraform: the finding names the key (`Finding.config_key`) and its remediation says where to
change it. Each entry names the constructs that copy the key into the judged attribute; a test checks
that those constructs read it and that the key exists in the config models (docs/CONFIG.md).
"""
from __future__ import annotations

from dataclasses import dataclass

from policies.findings import FAILED, Finding


@dataclass(frozen=True)
class ConfigKey:
    key: str  # dotted path as docs/CONFIG.md writes it (`[]`: an item of a list)
    resource_types: tuple[str, ...]  # the judged resources whose attribute the key sets
    constructs: tuple[str, ...]  # where the constructs copy the key into that attribute


CONFIG_KEYS: dict[str, ConfigKey] = {
    # retention_in_days of every CloudWatch log group (CKV_AWS_338 wants at least a year)
    "CKV_AWS_338": ConfigKey("access.logs.retention_days", ("aws_cloudwatch_log_group",),
                             ("modules/access/log_groups.py", "modules/platform/context.py")),
    "AEGIS_PROD_LOG_RETENTION": ConfigKey("access.logs.retention_days", ("aws_cloudwatch_log_group",),
                                          ("modules/access/log_groups.py", "modules/platform/context.py")),
    # cross-region replication of the data and state buckets (the access-log buckets are per region)
    "CKV_AWS_144": ConfigKey("data.replication.enabled", ("aws_s3_bucket",),
                             ("modules/data/stack.py", "modules/bootstrap/stack.py")),
    # the ALB's enable_deletion_protection
    "CKV_AWS_150": ConfigKey("platform.deletion_protection", ("aws_lb",),
                             ("modules/platform/alb.py", "modules/platform/context.py")),
    # a Lambda model's code_signing_config_arn
    "CKV_AWS_272": ConfigKey("platform.models[].lambda.code_signing", ("aws_lambda_function",),
                             ("modules/platform/lambda_inference.py",)),
    "AEGIS_PROD_GPU_ON_DEMAND_BASE": ConfigKey("platform.models[].ec2.on_demand_base_capacity",
                                               ("aws_autoscaling_group",), ("modules/platform/gpu_fleet.py",)),
    "AEGIS_PROD_VARIANT_INSTANCES": ConfigKey("platform.models[].sagemaker.initial_instance_count",
                                              ("aws_sagemaker_endpoint_configuration",),
                                              ("modules/platform/sagemaker_realtime.py",)),
    "AEGIS_OBJECT_LOCK_BUCKETS": ConfigKey("data.object_lock.mode", ("aws_s3_bucket",),
                                           ("modules/data/secure_bucket.py",)),
    "AEGIS_BACKUP_VAULT_LOCK": ConfigKey("governance.backup.vault_lock.mode", ("aws_backup_vault",),
                                         ("modules/governance/backup.py",)),
}


def config_key_of(finding: Finding) -> str:
    """The key that decides what `finding` judged, or "" when no key does (or it is not a failure)."""
    entry = CONFIG_KEYS.get(finding.check_id)
    if entry is None or finding.status != FAILED:
        return ""
    rtype = finding.address.split(".", 1)[0]
    return entry.key if rtype in entry.resource_types else ""


def name_config_key(finding: Finding) -> Finding:
    """`finding` with its config key set and named in its remediation, when a key decides it."""
    key = config_key_of(finding)
    if key:
        finding.config_key = key
        where = f"environments/{finding.env}.yaml" if finding.env else "the environment file"
        finding.remediation = (f"{finding.remediation} This value comes from the configuration: change `{key}` "
                               f"in {where} (or base.yaml), not the Terraform.").strip()
    return finding
