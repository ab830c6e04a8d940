"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION: no deployed AWS Config rule is violated by a resource of the app itself.

A managed rule that the project's own resources break by design raises a permanent alert that nobody
can clear, and teaches everyone to ignore Config. For the rules Aegis knows its resources can break,
the deployed rule (a standalone `aws_config_config_rule`, or a rule in an `aws_config_conformance_pack`
template) is evaluated against the environment's resources, honouring the rule's scope (resource types,
tag key and value, resource id), its region and its parameters:

  IAM_NO_INLINE_POLICY_CHECK          an IAM role, user or group with an inline policy;
  SAGEMAKER_MODEL_IN_VPC              a SageMaker model without a VPC config;
  SAGEMAKER_MODEL_ISOLATION_ENABLED   a SageMaker model without network isolation;
  S3_DEFAULT_ENCRYPTION_KMS           a bucket whose default encryption is not KMS;
  CLOUDTRAIL_S3_DATAEVENTS_ENABLED    a bucket (those of S3BucketNames, else every bucket) whose S3 data
                                      events no trail records;
  S3_BUCKET_LOGGING_ENABLED           a bucket without server access logging (to targetBucket and
                                      targetPrefix when the rule names them);
  BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED
                                      a backup vault without an access policy that denies, to principal `*`
                                      on resource `*` and without conditions, backup:DeleteRecoveryPoint,
                                      backup:UpdateRecoveryPointLifecycle and backup:PutBackupVaultAccessPolicy;
  VPC_FLOW_LOGS_ENABLED               a VPC of the rule's region without a flow log (of trafficType when
                                      given), and the account's default VPC there: AWS judges every VPC of
                                      the region, so a flow log must follow the default VPCs the platform
                                      finds (for_each over data.aws_vpcs filtered by isDefault);
  VPC_DEFAULT_SECURITY_GROUP_CLOSED   a VPC of the rule's region whose default security group is not adopted
                                      with no rules, the default VPC's included (as above);
  IAM_PASSWORD_POLICY                 no aws_iam_account_password_policy, or one weaker than the rule's
                                      parameters (the documented defaults where a parameter is not given);
  S3_BUCKET_REPLICATION_ENABLED       a bucket without an enabled replication rule;
  S3_BUCKET_DEFAULT_LOCK_ENABLED      a bucket without object lock and a default retention (of `mode`);
  ELB_DELETION_PROTECTION_ENABLED     a load balancer without deletion protection;
  BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK
                                      a backup plan rule that runs less often than daily when days are
                                      asked for, or keeps recovery points shorter than requiredRetentionDays;
  CLOUDWATCH_ALARM_SETTINGS_CHECK     an alarm on metricName whose period (300 when not given), threshold,
                                      evaluation periods, statistic or comparison differs from the rule's;
  IAM_POLICY_IN_USE                   policyARN attached to no role (IAM_ROLE), user (IAM_USER) or either
                                      (ANY) of the app; group usage needs members and is not judged;
  SECURITY_ACCOUNT_INFORMATION_PROVIDED
                                      no aws_account_alternate_contact of type SECURITY for the account;
  RDS_CLUSTER_DELETION_PROTECTION_ENABLED / RDS_CLUSTER_IAM_AUTHENTICATION_ENABLED
                                      an aws_rds_cluster without deletion protection / IAM authentication;
  RDS_INSTANCE_PUBLIC_ACCESS_CHECK    a DB instance (Aurora or not) that is publicly accessible;
  RDS_STORAGE_ENCRYPTED               a DB instance whose storage (an Aurora instance: its cluster's) is not
                                      encrypted;
  AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN / RDS_IN_BACKUP_PLAN
                                      an aws_rds_cluster that no aws_backup_selection of its region picks (by
                                      resource ARN pattern and aws:ResourceTag conditions on its tags);
  S3_RESOURCES_PROTECTED_BY_BACKUP_PLAN
                                      a bucket (with the rule's resourceTags, when given) that no
                                      aws_backup_selection of its region picks;
  EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN / EBS_IN_BACKUP_PLAN / EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN
                                      an instance / a volume that a launch template, an aws_instance or an
                                      aws_ebs_volume creates, with the tags it gets at launch, that no
                                      aws_backup_selection of its region picks (backup_coverage.py);
  EFS_IN_BACKUP_PLAN / EFS_RESOURCES_PROTECTED_BY_BACKUP_PLAN / DYNAMODB_IN_BACKUP_PLAN /
  DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN
                                      a file system (an aws_efs_file_system, or the home file system a
                                      SageMaker domain creates, tagged by SageMaker) / a table that no
                                      aws_backup_selection of its region picks;
  CLOUDWATCH_ALARM_RESOURCE_CHECK     an aws_rds_cluster (resourceType AWS::RDS::DBCluster; other types are not
                                      judged) without an alarm on metricName for its DBClusterIdentifier;
  SNS_TOPIC_MESSAGE_DELIVERY_NOTIFICATION_ENABLED
                                      an SNS topic that names no delivery status feedback role of any protocol
                                      (application, firehose, http, lambda, sqs; success or failure);
  CLOUDWATCH_LOG_GROUP_ENCRYPTED / CW_LOGGROUP_RETENTION_PERIOD_CHECK
                                      a log group of the app without kms_key_id / kept shorter than
                                      MinRetentionTime (365 when not given; no retention never expires), and
                                      RDSOSMetrics where a DB instance of the region has enhanced monitoring
                                      and no stack owns that group (RDS creates it without a customer key,
                                      kept 30 days);
  S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE
                                      a bucket policy (an aws_s3_bucket_policy of any stack, by reference or
                                      the bucket's name, or the bucket's own `policy`) with an Allow that no
                                      unconditioned Allow of controlPolicy contains (each principal, every
                                      action and resource, by exact value, account root or a trailing `*`);
                                      NotPrincipal, NotAction and NotResource are never contained, and a value
                                      with more than five policy variables anywhere in the policy is reported
                                      as AWS does; a controlPolicy longer than AWS Config accepts is reported;
  INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY
                                      an internet gateway attached to a VPC of the app that AuthorizedVpcIds
                                      does not name (read through the data.aws_vpc lookup by tags that the
                                      pack's input parameter references; anything else is not judged).

Tags are the effective ones (provider default tags, then the resource's own). A template that is not a
literal document, or a rule parameter that is not literal, fails: never passed unjudged.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterator

from policies.app_checks.backup_coverage import (
    buckets_outside_backup_plans,
    clusters_outside_backup_plans,
    file_systems_outside_backup_plans,
    instances_outside_backup_plans,
    tables_outside_backup_plans,
    volumes_outside_backup_plans,
)
from policies.app_checks.base import app_check, judge
from policies.app_checks.deployed_rules import DeployedRule, Target, pack_rules, standalone_rule, targets
from policies.app_checks.lookups import attached, region_of
from policies.app_checks.view import AppView, Env, Stack, nested, one, ref
from policies.checks.aegis_values import as_list, document, is_true, strings
from policies.iam_eval import wildcard_match

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@app_check("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", "No deployed AWS Config rule is violated by the app's own resources")
def config_rule_known_violation(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_config_config_rule"):
            rule = standalone_rule(stack, conf)
            if rule.identifier in KNOWN:
                yield judge(stack.name, f"aws_config_config_rule.{name}", _violations(env, rule),
                            f"no resource of the app violates {rule.identifier}")
        for stack, name, conf in env.resources("aws_config_conformance_pack"):
            rules, problem = pack_rules(stack, conf)
            known = [r for r in rules if r.identifier in KNOWN]
            if problem or known:
                problems = [problem] if problem else [p for r in known for p in _violations(env, r)]
                yield judge(stack.name, f"aws_config_conformance_pack.{name}", problems,
                            f"no resource of the app violates {', '.join(sorted({r.identifier for r in known}))}")


# ---- the known violations ------------------------------------------------------------------------

def _inline_policies(env: Env, rule: DeployedRule) -> Iterator[str]:
    kinds = {"aws_iam_role": ("aws_iam_role_policy", "role"), "aws_iam_user": ("aws_iam_user_policy", "user"),
             "aws_iam_group": ("aws_iam_group_policy", "group")}
    for target in targets(env, tuple(kinds), rule):
        inline_type, attribute = kinds[target.rtype]
        if nested(target.conf, "inline_policy") or attached(target.stack, inline_type, target.rtype, target.name,
                                                             target.conf, attribute):
            yield target.label


def _models_outside_vpc(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_sagemaker_model",), rule):
        if not (one(target.conf, "vpc_config") or {}).get("subnets"):
            yield target.label


def _models_not_isolated(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_sagemaker_model",), rule):
        if not is_true(target.conf.get("enable_network_isolation")):
            yield target.label


def _buckets_without_kms(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_s3_bucket",), rule):
        configs = [c for _, c in attached(target.stack, "aws_s3_bucket_server_side_encryption_configuration",
                                           "aws_s3_bucket", target.name, target.conf, "bucket")]
        configs += nested(target.conf, "server_side_encryption_configuration")
        algorithms = {(one(rule_, "apply_server_side_encryption_by_default") or {}).get("sse_algorithm")
                      for config in configs for rule_ in nested(config, "rule")}
        if not algorithms or not algorithms <= set(KMS_ALGORITHMS):
            yield target.label


def _buckets_without_data_events(env: Env, rule: DeployedRule) -> Iterator[str]:
    raw = rule.parameters.get("S3BucketNames")
    if raw is not None and (not isinstance(raw, str) or "${" in raw):
        yield f"S3BucketNames {raw!r} is not a literal list of bucket names: not judged"
        return
    names = [n.strip() for n in raw.split(",")] if raw else \
        [str(c.get("bucket")) for _, _, c in env.resources("aws_s3_bucket")]
    trails = [trail for _, _, trail in env.resources("aws_cloudtrail")]
    selectors = [s for trail in trails for s in nested(trail, "advanced_event_selector")]
    # Basic event selectors: a data resource of type AWS::S3::Object lists bucket ARN prefixes.
    prefixes = [str(v) for trail in trails for s in nested(trail, "event_selector") for d in nested(s, "data_resource")
                if d.get("type") == "AWS::S3::Object" for v in as_list(d.get("values"))]
    for name in names:
        covered = any(_records_objects_of(selector, name) for selector in selectors) or \
            any(f"arn:aws:s3:::{name}/".startswith(p) for p in prefixes)
        if not covered:
            yield f"bucket {name} (no trail records its S3 data events)"


def _records_objects_of(selector: dict, bucket: str) -> bool:
    fields = {f.get("field"): f for f in nested(selector, "field_selector")}
    if as_list((fields.get("eventCategory") or {}).get("equals")) != ["Data"] or \
            as_list((fields.get("resources.type") or {}).get("equals")) != ["AWS::S3::Object"]:
        return False
    arn = fields.get("resources.ARN")
    if arn is None:
        return True
    prefix = f"arn:aws:s3:::{bucket}/"
    return any(prefix.startswith(str(p)) for p in as_list(arn.get("starts_with")))


def _buckets_without_logging(env: Env, rule: DeployedRule) -> Iterator[str]:
    wanted = {key: rule.parameters.get(param) for key, param in (("target_bucket", "targetBucket"),
                                                                  ("target_prefix", "targetPrefix"))}
    for key, value in wanted.items():
        if value is not None and (not isinstance(value, str) or "${" in value):
            yield f"{key} parameter {value!r} is not literal: not judged"
            return
    for target in targets(env, ("aws_s3_bucket",), rule):
        configs = [c for _, c in attached(target.stack, "aws_s3_bucket_logging", "aws_s3_bucket", target.name,
                                           target.conf, "bucket")] + nested(target.conf, "logging")
        if not any(all(v is None or c.get(k) == v for k, v in wanted.items()) and c.get("target_bucket")
                   for c in configs):
            yield target.label


MANUAL_DELETION_ACTIONS = ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle",
                           "backup:PutBackupVaultAccessPolicy")


def _denies_manual_deletion(statement: Any) -> bool:
    """The Deny the rule requires: every principal (`*`), every resource (`*`), the three actions, no condition."""
    if not isinstance(statement, dict):
        return False
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and as_list(principal.get("AWS")) == ["*"]
                                    and set(principal) == {"AWS"})
    patterns = [p for p in as_list(statement.get("Action")) if isinstance(p, str)]
    return (statement.get("Effect") == "Deny" and everyone and as_list(statement.get("Resource")) == ["*"]
            and "Condition" not in statement
            and all(any(wildcard_match(p, a, ignore_case=True) for p in patterns) for a in MANUAL_DELETION_ACTIONS))


def _vaults_deletable_by_hand(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_backup_vault",), rule):
        policies = [c.get("policy") for _, c in attached(target.stack, "aws_backup_vault_policy", "aws_backup_vault",
                                                          target.name, target.conf, "backup_vault_name")]
        docs = [document(p) for p in policies]
        if any(d is None for d in docs):
            yield f"{target.label} (its vault access policy is not a literal document: not judged)"
        elif not any(_denies_manual_deletion(st) for d in docs if d for st in as_list(d.get("Statement"))):
            yield target.label


DEFAULT_VPCS = re.compile(r"^\$\{toset\(data\.aws_vpcs\.([A-Za-z0-9_-]+)\.ids\)\}$")


def _follows_default_vpcs(stack: Stack, conf: dict) -> bool:
    """A resource repeated for every default VPC of its region: for_each over data.aws_vpcs filtered by
    isDefault = true, with vpc_id = each.value."""
    match = DEFAULT_VPCS.match(str(conf.get("for_each", "")))
    lookup = stack.data("aws_vpcs").get(match.group(1)) if match else None
    return lookup is not None and conf.get("vpc_id") == "${each.value}" and region_of(stack, lookup) == \
        region_of(stack, conf) and any(f.get("name") == "isDefault" and as_list(f.get("values")) == ["true"]
                                       for f in nested(lookup, "filter"))


def _vpcs_of_region(env: Env, rule: DeployedRule) -> Iterator[Target]:
    for stack, name, conf in env.resources("aws_vpc"):
        if region_of(stack, conf) == rule.region:
            yield Target(stack, "aws_vpc", name, conf)


def _vpcs_without_flow_logs(env: Env, rule: DeployedRule) -> Iterator[str]:
    traffic = rule.parameters.get("trafficType")

    def records(conf: dict) -> bool:
        return traffic is None or conf.get("traffic_type") == traffic
    for target in _vpcs_of_region(env, rule):
        logs = attached(target.stack, "aws_flow_log", "aws_vpc", target.name, target.conf, "vpc_id", ())
        if not any(records(c) for _, c in logs):
            yield target.label
    if not any(records(conf) and _follows_default_vpcs(stack, conf) for stack, _, conf in env.resources("aws_flow_log")
               if region_of(stack, conf) == rule.region):
        yield f"the default VPC of {rule.region} (no flow log follows data.aws_vpcs with isDefault = true)"


def _closed(conf: dict) -> bool:
    # Adopting a default security group removes every rule; only the rules written here come back.
    return not nested(conf, "ingress") and not nested(conf, "egress")


def _default_security_groups_open(env: Env, rule: DeployedRule) -> Iterator[str]:
    if rule.resource_types and "AWS::EC2::SecurityGroup" not in rule.resource_types:
        return
    for target in _vpcs_of_region(env, rule):
        groups = attached(target.stack, "aws_default_security_group", "aws_vpc", target.name, target.conf, "vpc_id", ())
        if not any(_closed(c) for _, c in groups):
            yield f"{target.label} (its default security group is not adopted with no rules)"
    if not any(_closed(conf) and _follows_default_vpcs(stack, conf)
               for stack, _, conf in env.resources("aws_default_security_group") if region_of(stack, conf) == rule.region):
        yield f"the default VPC of {rule.region} (its default security group is not adopted with no rules)"


# The rule's documented defaults: a parameter not given is still required.
PASSWORD_DEFAULTS = {"RequireUppercaseCharacters": "true", "RequireLowercaseCharacters": "true",
                     "RequireSymbols": "true", "RequireNumbers": "true", "MinimumPasswordLength": "14",
                     "PasswordReusePrevention": "24", "MaxPasswordAge": "90"}
PASSWORD_FLAGS = {"RequireUppercaseCharacters": "require_uppercase_characters",
                  "RequireLowercaseCharacters": "require_lowercase_characters",
                  "RequireSymbols": "require_symbols", "RequireNumbers": "require_numbers"}


def _number(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) else \
        int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _password_policy_weaker(env: Env, rule: DeployedRule) -> Iterator[str]:
    wanted = {**PASSWORD_DEFAULTS, **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                      for k, v in rule.parameters.items() if v is not None}}
    policies = [(stack, name, conf) for stack, name, conf in env.resources("aws_iam_account_password_policy")]
    if not policies:
        yield "the account (no aws_iam_account_password_policy: AWS Config judges the IAM default policy NON_COMPLIANT)"
        return
    for stack, name, conf in policies:
        weak = [f"{attr} is not true" for param, attr in PASSWORD_FLAGS.items()
                if wanted[param] == "true" and not is_true(conf.get(attr))]
        for param, attr, at_least in (("MinimumPasswordLength", "minimum_password_length", True),
                                      ("PasswordReusePrevention", "password_reuse_prevention", True),
                                      ("MaxPasswordAge", "max_password_age", False)):
            need, have = _number(wanted[param]), _number(conf.get(attr))
            if need is None:
                continue
            if have is None or (have < need if at_least else not 0 < have <= need):
                weak.append(f"{attr} {conf.get(attr)!r} ({'at least' if at_least else 'at most'} {need})")
        if weak:
            yield f"{stack.name}/aws_iam_account_password_policy.{name} ({'; '.join(weak)})"


def _buckets_not_replicating(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_s3_bucket",), rule):
        configs = [c for _, c in attached(target.stack, "aws_s3_bucket_replication_configuration", "aws_s3_bucket",
                                           target.name, target.conf, "bucket")]
        if not any(r.get("status") == "Enabled" for c in configs for r in nested(c, "rule")):
            yield target.label


def _buckets_without_default_lock(env: Env, rule: DeployedRule) -> Iterator[str]:
    mode = rule.parameters.get("mode")
    for target in targets(env, ("aws_s3_bucket",), rule):
        locks = [c for _, c in attached(target.stack, "aws_s3_bucket_object_lock_configuration", "aws_s3_bucket",
                                         target.name, target.conf, "bucket")]
        retentions = [one(r, "default_retention") or {} for c in locks for r in nested(c, "rule")]
        if not is_true(target.conf.get("object_lock_enabled")) or not any(
                r.get("mode") and (mode is None or r.get("mode") == mode) for r in retentions):
            yield target.label


def _load_balancers_deletable(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_lb",), rule):
        if not is_true(target.conf.get("enable_deletion_protection")):
            yield target.label


FEEDBACK_PROTOCOLS = ("application", "firehose", "http", "lambda", "sqs")


def _topics_without_delivery_status(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_sns_topic",), rule):
        if not any(target.conf.get(f"{protocol}_{outcome}_feedback_role_arn")
                   for protocol in FEEDBACK_PROTOCOLS for outcome in ("success", "failure")):
            yield target.label


DAILY = re.compile(r"^cron\(\d{1,2} \d{1,2} \* \* \? \*\)$")  # minute and hour fixed: once a day


def _backup_plans_too_weak(env: Env, rule: DeployedRule) -> Iterator[str]:
    unit = str(rule.parameters.get("requiredFrequencyUnit") or "days")
    every, keep = _number(rule.parameters.get("requiredFrequencyValue") or "1"), \
        _number(rule.parameters.get("requiredRetentionDays") or "35")
    if every is None or keep is None or unit not in ("days", "hours"):
        yield "the rule's parameters are not literal numbers and units: not judged"
        return
    for target in targets(env, ("aws_backup_plan",), rule):
        for plan_rule in nested(target.conf, "rule"):
            schedule = str(plan_rule.get("schedule", ""))
            often_enough = bool(DAILY.match(schedule)) and (unit == "days" and every >= 1 or unit == "hours"
                                                             and every >= 24)
            kept = _number((one(plan_rule, "lifecycle") or {}).get("delete_after"))
            if not often_enough or (kept is not None and kept < keep):
                yield f"{target.label} rule {plan_rule.get('rule_name')} ({schedule}, kept {kept} days)"


# Rule parameter → the alarm's attribute; the rule's documented default period is 300 seconds.
ALARM_SETTINGS = {"period": "period", "threshold": "threshold", "evaluationPeriods": "evaluation_periods",
                  "statistic": "statistic", "comparisonOperator": "comparison_operator"}


def _same(wanted: Any, have: Any) -> bool:
    try:
        return float(wanted) == float(have)
    except (TypeError, ValueError):
        return str(wanted) == str(have)


def _alarms_set_otherwise(env: Env, rule: DeployedRule) -> Iterator[str]:
    wanted = {"period": 300, **{k: v for k, v in rule.parameters.items() if k in ALARM_SETTINGS and v is not None}}
    metric = rule.parameters.get("metricName")
    literal = [metric, *wanted.values()]
    if not isinstance(metric, str) or any(not isinstance(v, (str, int, float)) or "${" in str(v) for v in literal):
        yield "the rule's metricName and settings are not literal: not judged"
        return
    for target in targets(env, ("aws_cloudwatch_metric_alarm",), rule):
        if target.conf.get("metric_name") != metric:
            continue
        differ = [f"{attr} {target.conf.get(attr)!r} (rule: {wanted[param]})" for param, attr in ALARM_SETTINGS.items()
                  if param in wanted and not _same(wanted[param], target.conf.get(attr))]
        if differ:
            yield f"{target.label} ({'; '.join(differ)})"


POLICY_HOLDERS = {"IAM_ROLE": (("aws_iam_role_policy_attachment", "role"), ("aws_iam_policy_attachment", "roles")),
                  "IAM_USER": (("aws_iam_user_policy_attachment", "user"), ("aws_iam_policy_attachment", "users"))}


def _policy_unused(env: Env, rule: DeployedRule) -> Iterator[str]:
    arn, usage = rule.parameters.get("policyARN"), str(rule.parameters.get("policyUsageType") or "ANY")
    if not isinstance(arn, str) or "${" in arn or usage not in ("IAM_ROLE", "IAM_USER", "ANY"):
        yield f"policyARN {arn!r} with policyUsageType {usage!r} is not judged (a literal ARN; roles or users)"
        return
    kinds = [k for k in POLICY_HOLDERS if usage in (k, "ANY")]
    attachments = [(rtype, conf.get(attr)) for kind in kinds for rtype, attr in POLICY_HOLDERS[kind]
                   for _, _, conf in env.resources(rtype) if conf.get("policy_arn") == arn]
    inline = [conf for _, _, conf in env.resources("aws_iam_role") if "IAM_ROLE" in kinds
              and arn in as_list(conf.get("managed_policy_arns"))]
    if not inline and not any(holder for _, holder in attachments):
        yield f"policy {arn} (attached to no {' or '.join(k.split('_')[1].lower() for k in kinds)} of the app)"


def _no_security_contact(env: Env, rule: DeployedRule) -> Iterator[str]:
    # account_id names another account (set from an organization's management account): not this one.
    if not any(conf.get("alternate_contact_type") == "SECURITY" and conf.get("account_id") in (None, env.config.account_id)
               for _, _, conf in env.resources("aws_account_alternate_contact")):
        yield "the account (no aws_account_alternate_contact of type SECURITY: set governance.security_contact)"


def _clusters_without(attribute: str) -> Callable[[Env, DeployedRule], Iterator[str]]:
    def judge_clusters(env: Env, rule: DeployedRule) -> Iterator[str]:
        for target in targets(env, ("aws_rds_cluster",), rule):
            if not is_true(target.conf.get(attribute)):
                yield f"{target.label} ({attribute} is not true)"
    return judge_clusters


def _instances_public(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_rds_cluster_instance", "aws_db_instance"), rule):
        if is_true(target.conf.get("publicly_accessible")):  # false unless set, for both kinds
            yield f"{target.label} (publicly_accessible)"


def _instances_unencrypted(env: Env, rule: DeployedRule) -> Iterator[str]:
    # An Aurora instance reports its cluster's storage encryption.
    for target in targets(env, ("aws_rds_cluster_instance", "aws_db_instance"), rule):
        conf = target.conf
        if target.rtype == "aws_rds_cluster_instance":
            found = target.stack.target(conf.get("cluster_identifier"), "aws_rds_cluster")
            if found is None:
                yield f"{target.label} (its cluster is not a resource of the stack: not judged)"
                continue
            conf = found[1]
        if not is_true(conf.get("storage_encrypted")):
            yield f"{target.label} (storage_encrypted is not true)"


def _clusters_without_alarm(env: Env, rule: DeployedRule) -> Iterator[str]:
    kind, metric = rule.parameters.get("resourceType"), rule.parameters.get("metricName")
    if kind != "AWS::RDS::DBCluster" or not isinstance(metric, str) or "${" in metric:
        yield f"resourceType {kind!r} with metricName {metric!r} is not judged (RDS clusters and a literal metric are)"
        return
    alarmed = {(region_of(stack, conf), str((conf.get("dimensions") or {}).get("DBClusterIdentifier")))
               for stack, _, conf in env.resources("aws_cloudwatch_metric_alarm") if conf.get("metric_name") == metric}
    for target in targets(env, ("aws_rds_cluster",), rule):
        identifier = target.conf.get("cluster_identifier")
        if not isinstance(identifier, str) or "${" in identifier:
            yield f"{target.label} (cluster_identifier is not literal: not judged)"
        elif (region_of(target.stack, target.conf), identifier) not in alarmed:
            yield f"{target.label} (no alarm on {metric} for DBClusterIdentifier {identifier})"


def _vpc_of(stack: Stack, raw: Any) -> tuple[str, str] | None:
    """(stack, aws_vpc name) a `${aws_vpc.<name>.id}` reference points at."""
    found = stack.target(raw, "aws_vpc")
    return (stack.name, found[0]) if found else None


def _authorized_vpcs(env: Env, rule: DeployedRule) -> tuple[set[tuple[str, str]], str | None]:
    """The app's VPCs that AuthorizedVpcIds names, or why it cannot be read. The pack receives the environment's
    VPC id through a `data.aws_vpc` lookup by Name tag (modules/lookups.py); a literal id is never the id AWS
    will assign to a VPC of the app."""
    raw = rule.parameters.get("AuthorizedVpcIds")
    if raw in (None, ""):
        return set(), None
    target = ref(raw)
    lookup = rule.stack.lookup(target[0], target[1]) if rule.stack is not None and target and \
        target[0] == "data.aws_vpc" and target[2] == "id" else None
    if lookup is None or set(lookup) - {"tags", "provider", "//"} or not isinstance(lookup.get("tags"), dict):
        return set(), f"AuthorizedVpcIds {raw!r} is not a lookup of the app's VPC by its tags: not judged"
    wanted = lookup["tags"]
    matches = {(stack.name, name) for stack, name, conf in env.resources("aws_vpc")
               if region_of(stack, conf) == rule.region and all((conf.get("tags") or {}).get(k) == v
                                                                  for k, v in wanted.items())}
    if len(matches) != 1:
        return set(), f"AuthorizedVpcIds looks up tags {wanted}, which {len(matches)} VPCs of the app carry: not judged"
    return matches, None


def _gateways_outside_authorized_vpcs(env: Env, rule: DeployedRule) -> Iterator[str]:
    authorized, problem = _authorized_vpcs(env, rule)
    if problem:
        yield problem
        return
    for target in targets(env, ("aws_internet_gateway", "aws_internet_gateway_attachment"), rule):
        raw = target.conf.get("vpc_id")
        if raw is None:
            continue  # a detached gateway is not judged by the rule
        vpc = _vpc_of(target.stack, raw)
        if vpc is None:
            yield f"{target.label} (attached to {raw!r}, not a VPC of its stack: not judged)"
        elif vpc not in authorized:
            yield f"{target.label} (attached to {vpc[0]}/aws_vpc.{vpc[1]}, not among AuthorizedVpcIds)"


OS_METRICS_GROUP = "RDSOSMetrics"  # RDS enhanced monitoring's group, one per account and region
RDS_OS_METRICS_RETENTION = 30  # what RDS sets on the group it creates
DEFAULT_MIN_RETENTION = 365  # cw-loggroup-retention-period-check without MinRetentionTime


def _implicit_os_metrics_group(env: Env, rule: DeployedRule) -> str | None:
    """RDSOSMetrics as RDS creates it, when an instance of the rule's region monitors into it and no stack owns it."""
    if (rule.resource_types and "AWS::Logs::LogGroup" not in rule.resource_types) or rule.tag_key is not None \
            or rule.resource_id not in (None, OS_METRICS_GROUP):
        return None
    monitoring = [f"{stack.name}/{rtype}.{name}" for rtype in ("aws_rds_cluster_instance", "aws_db_instance")
                  for stack, name, conf in env.resources(rtype)
                  if region_of(stack, conf) == rule.region and (_number(conf.get("monitoring_interval")) or 0) > 0]
    owned = any(conf.get("name") == OS_METRICS_GROUP and region_of(stack, conf) == rule.region
                for stack, _, conf in env.resources("aws_cloudwatch_log_group"))
    return None if not monitoring or owned else f"{OS_METRICS_GROUP} (created by RDS for {monitoring[0]})"


def _log_groups_unencrypted(env: Env, rule: DeployedRule) -> Iterator[str]:
    for target in targets(env, ("aws_cloudwatch_log_group",), rule):
        if not target.conf.get("kms_key_id"):
            yield target.label
    implicit = _implicit_os_metrics_group(env, rule)
    if implicit:
        yield f"{implicit}: no customer key"


def _log_groups_kept_too_briefly(env: Env, rule: DeployedRule) -> Iterator[str]:
    raw = rule.parameters.get("MinRetentionTime")
    minimum = DEFAULT_MIN_RETENTION if raw is None else _number(raw)
    if minimum is None:
        yield f"MinRetentionTime {raw!r} is not a literal number of days: not judged"
        return
    for target in targets(env, ("aws_cloudwatch_log_group",), rule):
        days = target.conf.get("retention_in_days")
        if days in (None, 0):
            continue  # never expires
        kept = _number(days)
        if kept is None or kept < minimum:
            yield f"{target.label} (retention {days!r} days, below {minimum})"
    implicit = _implicit_os_metrics_group(env, rule)
    if implicit and minimum > RDS_OS_METRICS_RETENTION:
        yield f"{implicit}: {RDS_OS_METRICS_RETENTION} days, below {minimum}"


CONTROL_POLICY_MAX = 1024  # characters AWS Config accepts in controlPolicy, and in a rule's input parameters


def _bucket_policies_beyond_control(env: Env, rule: DeployedRule) -> Iterator[str]:
    raw = rule.parameters.get("controlPolicy")
    control = document(raw) if isinstance(raw, str) and "${" not in raw else None
    if control is None:
        yield f"controlPolicy {str(raw)[:60]!r} is not a literal policy document: not judged"
        return
    # The rule receives its parameters as one JSON text: the escaped policy counts, not only its own length.
    parameters = json.dumps({"controlPolicy": raw}, separators=(",", ":"))
    if max(len(raw), len(parameters)) > CONTROL_POLICY_MAX:
        yield (f"controlPolicy is {len(raw)} characters ({len(parameters)} as the rule's input parameters), "
               f"above the {CONTROL_POLICY_MAX} AWS Config accepts")
        return
    ceiling = [k for k in as_list(control.get("Statement")) if isinstance(k, dict) and k.get("Effect") == "Allow"
               and not ({"Condition", "NotPrincipal", "NotAction", "NotResource"} & set(k))]
    for target in targets(env, ("aws_s3_bucket",), rule):
        for where, raw_policy in _policies_of(env, target):
            doc = document(raw_policy)
            if doc is None:
                yield f"{where} (not a literal policy document: not judged)"
                continue
            statements = [stmt for stmt in as_list(doc.get("Statement")) if isinstance(stmt, dict)]
            if any(_policy_variables(stmt) > 5 for stmt in statements):
                yield f"{where} (a value with more than five policy variables: AWS reports it NON_COMPLIANT)"
            for stmt in statements:
                if stmt.get("Effect") == "Allow" and not _contained(stmt, ceiling):
                    yield f"{where} (statement {stmt.get('Sid', '?')})"


def _policies_of(env: Env, target: Target) -> Iterator[tuple[str, Any]]:
    """Every policy S3 would hold for the bucket: its own `policy` argument and each aws_s3_bucket_policy that
    names it, by reference in its stack or by its literal name in any stack of the environment."""
    if target.conf.get("policy"):
        yield target.label, target.conf["policy"]
    name = target.conf.get("bucket")
    for stack, policy_name, conf in env.resources("aws_s3_bucket_policy"):
        found = ref(conf.get("bucket"))
        if (stack is target.stack and found and found[:2] == ("aws_s3_bucket", target.name)) \
                or (isinstance(name, str) and name and conf.get("bucket") == name):
            yield f"{stack.name}/aws_s3_bucket_policy.{policy_name}", conf.get("policy")


def _policy_variables(stmt: dict) -> int:
    """The most policy variables in one value of the statement (AWS cannot judge more than five)."""
    return max((v.count("${") for v in strings(stmt)), default=0)


def _contained(stmt: dict, ceiling: list[dict]) -> bool:
    """Every request the Allow can grant is granted by one statement of the ceiling: for each principal, one
    ceiling statement names it and covers every action and resource. Conditions only narrow the Allow."""
    if {"NotPrincipal", "NotAction", "NotResource"} & set(stmt) or "Principal" not in stmt:
        return False
    actions, resources = as_list(stmt.get("Action")), as_list(stmt.get("Resource"))
    if not actions or not resources:
        return False
    return all(any(_principal_within(kind, entry, k.get("Principal"))
                   and all(any(_pattern_within(a, c, ignore_case=True) for c in as_list(k.get("Action")))
                           for a in actions)
                   and all(any(_pattern_within(r, c) for c in as_list(k.get("Resource"))) for r in resources)
                   for k in ceiling)
               for kind, entry in _principal_entries(stmt["Principal"]))


def _principal_entries(principal: Any) -> list[tuple[str, str]]:
    if principal == "*":
        return [("AWS", "*")]
    if not isinstance(principal, dict):
        return [("?", str(principal))]
    return [(kind, str(entry)) for kind, entries in sorted(principal.items()) for entry in as_list(entries)]


def _principal_within(kind: str, entry: str, ceiling: Any) -> bool:
    if ceiling == "*":
        return True
    allowed = [str(e) for e in as_list(ceiling.get(kind))] if isinstance(ceiling, dict) else []
    if entry in allowed or (kind == "AWS" and "*" in allowed):
        return True
    if kind != "AWS" or entry == "*":
        return False
    account = entry if entry.isdigit() else (entry.split(":")[4] if entry.startswith("arn:") and entry.count(":") >= 5
                                             else None)
    return account is not None and f"arn:aws:iam::{account}:root" in allowed  # the account stands for its principals


def _pattern_within(pattern: str, ceiling: str, ignore_case: bool = False) -> bool:
    """Every value `pattern` matches, `ceiling` matches: equal, `*`, or `ceiling` a literal prefix then `*`
    that the literal start of `pattern` begins with."""
    if ignore_case:
        pattern, ceiling = pattern.lower(), ceiling.lower()
    if ceiling in ("*", pattern):
        return True
    prefix = ceiling[:-1]
    if not ceiling.endswith("*") or "*" in prefix or "?" in prefix:
        return False
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    return literal.startswith(prefix)


KNOWN: dict[str, Callable[[Env, DeployedRule], Iterator[str]]] = {
    "IAM_NO_INLINE_POLICY_CHECK": _inline_policies,
    "SAGEMAKER_MODEL_IN_VPC": _models_outside_vpc,
    "SAGEMAKER_MODEL_ISOLATION_ENABLED": _models_not_isolated,
    "S3_DEFAULT_ENCRYPTION_KMS": _buckets_without_kms,
    "CLOUDTRAIL_S3_DATAEVENTS_ENABLED": _buckets_without_data_events,
    "S3_BUCKET_LOGGING_ENABLED": _buckets_without_logging,
    "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED": _vaults_deletable_by_hand,
    "VPC_FLOW_LOGS_ENABLED": _vpcs_without_flow_logs,
    "VPC_DEFAULT_SECURITY_GROUP_CLOSED": _default_security_groups_open,
    "IAM_PASSWORD_POLICY": _password_policy_weaker,
    "S3_BUCKET_REPLICATION_ENABLED": _buckets_not_replicating,
    "S3_BUCKET_DEFAULT_LOCK_ENABLED": _buckets_without_default_lock,
    "ELB_DELETION_PROTECTION_ENABLED": _load_balancers_deletable,
    "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK": _backup_plans_too_weak,
    "CLOUDWATCH_ALARM_SETTINGS_CHECK": _alarms_set_otherwise,
    "IAM_POLICY_IN_USE": _policy_unused,
    "SECURITY_ACCOUNT_INFORMATION_PROVIDED": _no_security_contact,
    "RDS_CLUSTER_DELETION_PROTECTION_ENABLED": _clusters_without("deletion_protection"),
    "RDS_CLUSTER_IAM_AUTHENTICATION_ENABLED": _clusters_without("iam_database_authentication_enabled"),
    "RDS_INSTANCE_PUBLIC_ACCESS_CHECK": _instances_public,
    "RDS_STORAGE_ENCRYPTED": _instances_unencrypted,
    "INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY": _gateways_outside_authorized_vpcs,
    "S3_BUCKET_POLICY_NOT_MORE_PERMISSIVE": _bucket_policies_beyond_control,
    "AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN": clusters_outside_backup_plans,
    "RDS_IN_BACKUP_PLAN": clusters_outside_backup_plans,
    "CLOUDWATCH_ALARM_RESOURCE_CHECK": _clusters_without_alarm,
    "S3_RESOURCES_PROTECTED_BY_BACKUP_PLAN": buckets_outside_backup_plans,
    "EC2_RESOURCES_PROTECTED_BY_BACKUP_PLAN": instances_outside_backup_plans,
    "EBS_IN_BACKUP_PLAN": volumes_outside_backup_plans,
    "EBS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": volumes_outside_backup_plans,
    "EFS_IN_BACKUP_PLAN": file_systems_outside_backup_plans,
    "EFS_RESOURCES_PROTECTED_BY_BACKUP_PLAN": file_systems_outside_backup_plans,
    "DYNAMODB_IN_BACKUP_PLAN": tables_outside_backup_plans,
    "DYNAMODB_RESOURCES_PROTECTED_BY_BACKUP_PLAN": tables_outside_backup_plans,
    "SNS_TOPIC_MESSAGE_DELIVERY_NOTIFICATION_ENABLED": _topics_without_delivery_status,
    "CLOUDWATCH_LOG_GROUP_ENCRYPTED": _log_groups_unencrypted,
    "CW_LOGGROUP_RETENTION_PERIOD_CHECK": _log_groups_kept_too_briefly,
}


def _violations(env: Env, rule: DeployedRule) -> Iterator[str]:
    found = list(KNOWN[rule.identifier](env, rule))
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        yield (f"{rule.identifier} is permanently violated by the app's own {shown}: fix them, or narrow the rule "
               "(scope, parameters) in its rule list with the reason beside it")
