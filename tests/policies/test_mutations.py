"""Mutation tests: break one control at a time in the synthesized default app and prove the gate fails
with the expected check on the expected resource.

All mutations go into ONE copy of the synth output (each on its own resource, or on its own
environment-level check), so the gate runs twice in total: once on the untouched app (the
baseline, which must pass every custom check) and once on the mutated copy. A mutation counts only
if its failure is new: the baseline must not fail the same check on the same resource.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Callable

import pytest

from modules.naming import Naming
from tests.synthesized import record_stacks_as_synthesized

Expect = dict[str, str]  # check ID → address ("" for a stack-level finding)


@dataclass(frozen=True)
class Mutation:
    name: str
    stack: str
    apply: Callable[[dict], Expect]  # breaks the stack document in place, returns what must fail


# ---------------------------------------------------------------- finders

def items(doc: dict, rtype: str) -> list[tuple[str, dict]]:
    return sorted(((n, c) for n, c in (doc.get("resource", {}).get(rtype) or {}).items() if n != "//"))


def find(doc: dict, rtype: str, pred: Callable[[str, dict], bool] = lambda n, c: True) -> tuple[str, dict]:
    for name, conf in items(doc, rtype):
        if pred(name, conf):
            return name, conf
    raise LookupError(f"no {rtype} matching the mutation's target in the synthesized stack")


def named(suffix: str) -> Callable[[str, dict], bool]:
    return lambda n, c: str(c.get("name", c.get("bucket", c.get("function_name", "")))).endswith(suffix)


def bucket(doc: dict, purpose: str) -> str:
    return find(doc, "aws_s3_bucket", lambda n, c: f"-{purpose}-" in c.get("bucket", "") and not c.get("provider"))[0]


def attached_to(doc: dict, rtype: str, bucket_name: str) -> tuple[str, dict]:
    return find(doc, rtype, lambda n, c: c.get("bucket") == f"${{aws_s3_bucket.{bucket_name}.id}}")


def instance_variants(conf: dict) -> bool:
    variants = conf.get("production_variants") or []
    return any("serverless_config" not in v for v in variants)


def policy_doc(conf: dict, key: str = "policy") -> dict:
    return json.loads(conf[key])


def set_policy(conf: dict, document: dict, key: str = "policy") -> None:
    conf[key] = json.dumps(document)


def endpoint_for(doc: dict, config_name: str) -> str:
    return find(doc, "aws_sagemaker_endpoint", lambda n, c: c.get("endpoint_config_name") ==
                f"${{aws_sagemaker_endpoint_configuration.{config_name}.name}}")[0]


# ---------------------------------------------------------------- mutations

def remove_bucket_encryption(doc):
    name = bucket(doc, "datasets")
    sse, _ = attached_to(doc, "aws_s3_bucket_server_side_encryption_configuration", name)
    del doc["resource"]["aws_s3_bucket_server_side_encryption_configuration"][sse]
    return {"AEGIS_BUCKET_KEY_CLASS": f"aws_s3_bucket.{name}"}


def open_bucket(doc):
    name, conf = attached_to(doc, "aws_s3_bucket_public_access_block", bucket(doc, "inference"))
    for key in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        conf[key] = False
    address = f"aws_s3_bucket_public_access_block.{name}"
    return {"CKV_AWS_53": address, "CKV_AWS_54": address, "CKV_AWS_55": address, "CKV_AWS_56": address}


def drop_tls_deny(doc):
    name, conf = attached_to(doc, "aws_s3_bucket_policy", bucket(doc, "model-artifacts"))
    document = policy_doc(conf)
    document["Statement"] = [s for s in document["Statement"]
                             if "aws:SecureTransport" not in json.dumps(s.get("Condition", {}))]
    set_policy(conf, document)
    return {"CKV_AEGIS_7": f"aws_s3_bucket_policy.{name}"}


def delete_bucket_policy(doc):
    name = bucket(doc, "audit")
    policy, _ = attached_to(doc, "aws_s3_bucket_policy", name)
    del doc["resource"]["aws_s3_bucket_policy"][policy]
    return {"CKV2_AEGIS_2": f"aws_s3_bucket.{name}"}


def second_kms_star(doc):
    name, conf = find(doc, "aws_kms_key", lambda n, c: n.startswith("kms-training_"))
    document = policy_doc(conf)
    document["Statement"].append({"Sid": "MlEngineerEverything", "Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                  "Principal": {"AWS": "arn:aws:iam::444455556666:role/aegis-staging-ml-engineer"}})
    set_policy(conf, document)
    return {"CKV_AEGIS_8": f"aws_kms_key.{name}"}


def governance_lock_in_prod(doc):
    name = bucket(doc, "audit")
    _, lock = attached_to(doc, "aws_s3_bucket_object_lock_configuration", name)
    lock["rule"]["default_retention"]["mode"] = "GOVERNANCE"
    return {"AEGIS_OBJECT_LOCK_BUCKETS": f"aws_s3_bucket.{name}"}


def imdsv1(doc):
    name, conf = find(doc, "aws_launch_template")
    conf["metadata_options"]["http_tokens"] = "optional"
    return {"CKV_AEGIS_5": f"aws_launch_template.{name}", "CKV_AWS_79": f"aws_launch_template.{name}"}


def ebs_with_inference_key(doc):
    name, conf = find(doc, "aws_launch_template")
    for mapping in conf["block_device_mappings"]:
        mapping["ebs"]["kms_key_id"] = "${data.aws_kms_key.kms-inference.arn}"
    return {"CKV_AEGIS_4": f"aws_launch_template.{name}"}


def drop_data_capture(doc):
    name, conf = find(doc, "aws_sagemaker_endpoint_configuration", lambda n, c: instance_variants(c))
    del conf["data_capture_config"]
    return {"CKV_AEGIS_2": f"aws_sagemaker_endpoint_configuration.{name}"}


def prod_release_all_at_once(doc):
    name, conf = find(doc, "aws_sagemaker_endpoint", lambda n, c: "deployment_config" in c)
    conf["deployment_config"]["blue_green_update_policy"]["traffic_routing_configuration"]["type"] = "ALL_AT_ONCE"
    return {"AEGIS_ENDPOINT_RELEASE_GUARDRAILS": f"aws_sagemaker_endpoint.{name}"}


def endpoint_with_training_key(doc):
    name, conf = find(doc, "aws_sagemaker_endpoint_configuration", lambda n, c: instance_variants(c))
    conf["kms_key_arn"] = "${data.aws_kms_key.kms-training.arn}"
    doc.setdefault("data", {}).setdefault("aws_kms_key", {})["kms-training"] = {
        "key_id": "arn:aws:kms:eu-west-1:444455556666:alias/aegis-staging-training"}
    return {"CKV_AEGIS_1": f"aws_sagemaker_endpoint_configuration.{name}"}


def no_autoscaling_policy(doc):
    config_name, _ = find(doc, "aws_sagemaker_endpoint_configuration", lambda n, c: instance_variants(c))
    endpoint = endpoint_for(doc, config_name)
    endpoint_name = doc["resource"]["aws_sagemaker_endpoint"][endpoint]["name"]
    target, _ = find(doc, "aws_appautoscaling_target",
                     lambda n, c: str(c.get("resource_id", "")).startswith(f"endpoint/{endpoint_name}/"))
    policies = doc["resource"]["aws_appautoscaling_policy"]
    doomed = [n for n, c in policies.items() if f"aws_appautoscaling_target.{target}." in json.dumps(c)]
    assert doomed, "the endpoint's scaling policy was not found"
    for name in doomed:
        del policies[name]
    return {"AEGIS_ENDPOINT_AUTOSCALING": f"aws_sagemaker_endpoint.{endpoint}"}


def model_without_vpc(doc):
    config_name, config = find(doc, "aws_sagemaker_endpoint_configuration", lambda n, c: instance_variants(c))
    variant = next(v for v in config["production_variants"] if "serverless_config" not in v)
    model = variant["model_name"].split(".")[1]
    del doc["resource"]["aws_sagemaker_model"][model]["vpc_config"]
    return {"AEGIS_MODEL_NETWORK_ISOLATION": f"aws_sagemaker_model.{model}"}


def open_s3_endpoint(doc):
    name, conf = find(doc, "aws_vpc_endpoint", lambda n, c: str(c.get("service_name", "")).endswith(".s3"))
    set_policy(conf, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    return {"CKV_AEGIS_20": f"aws_vpc_endpoint.{name}"}


def tls12_listener(doc):
    name, conf = find(doc, "aws_lb_listener", lambda n, c: c.get("protocol") == "HTTPS")
    conf["ssl_policy"] = "ELBSecurityPolicy-TLS-1-2-2017-01"
    return {"CKV_AEGIS_6": f"aws_lb_listener.{name}"}


def no_waf(doc):
    name, conf = find(doc, "aws_wafv2_web_acl_association", lambda n, c: "aws_lb." in c.get("resource_arn", ""))
    lb = conf["resource_arn"].split(".")[1]
    del doc["resource"]["aws_wafv2_web_acl_association"][name]
    return {"CKV2_AEGIS_1": f"aws_lb.{lb}"}


def unreserved_lambda(doc):
    from modules.config import load_env

    config = load_env("staging")
    model = next(m.name for m in config.platform.models if m.serving == "lambda")
    function_name = Naming.of(config).model_resource(model)
    name, conf = find(doc, "aws_lambda_function", lambda n, c: c.get("function_name") == function_name)
    del conf["reserved_concurrent_executions"]
    return {"AEGIS_LAMBDA_INFERENCE_CONTROLS": f"aws_lambda_function.{name}"}


def one_prod_instance(doc):
    name, conf = find(doc, "aws_sagemaker_endpoint_configuration", lambda n, c: instance_variants(c))
    for variant in conf["production_variants"]:
        if "serverless_config" not in variant:
            variant["initial_instance_count"] = 1
    return {"AEGIS_PROD_VARIANT_INSTANCES": f"aws_sagemaker_endpoint_configuration.{name}"}


def all_spot_in_prod(doc):
    name, conf = find(doc, "aws_autoscaling_group", lambda n, c: "mixed_instances_policy" in c)
    distribution = conf["mixed_instances_policy"]["instances_distribution"]
    distribution["on_demand_base_capacity"] = 0
    distribution["on_demand_percentage_above_base_capacity"] = 0
    return {"AEGIS_PROD_GPU_ON_DEMAND_BASE": f"aws_autoscaling_group.{name}"}


def unprotected_prod_model_cache(doc):
    # The default app mounts no EFS cache (opt-in): add one as opting in would, without prevent_destroy,
    # with a policy that does not deny plain NFS, and a second file system with no policy at all.
    file_systems = doc["resource"].setdefault("aws_efs_file_system", {})
    for name in ("mutation-cache", "mutation-bare"):
        file_systems[name] = {"encrypted": True, "kms_key_id": "${data.aws_kms_key.kms-inference.arn}",
                              "creation_token": name}
    doc["resource"].setdefault("aws_efs_file_system_policy", {})["mutation-cache-policy"] = {
        "file_system_id": "${aws_efs_file_system.mutation-cache.id}",
        "policy": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "elasticfilesystem:ClientMount",
             "Resource": "*"}]})}
    return {"AEGIS_PROD_DELETION_PROTECTION": "aws_efs_file_system.mutation-cache",
            "CKV_AEGIS_17": "aws_efs_file_system_policy.mutation-cache-policy",
            "CKV2_AEGIS_4": "aws_efs_file_system.mutation-bare"}


def unprotected_prod_edge_key(doc):
    name, conf = find(doc, "aws_kms_key", lambda n, c: c.get("region") == "us-east-1")
    conf.pop("lifecycle", None)
    return {"AEGIS_PROD_KMS_PREVENT_DESTROY": f"aws_kms_key.{name}"}


def cloudfront_origin_admits_the_vpc(doc):
    origin = next(iter(doc["resource"]["aws_cloudfront_vpc_origin"].values()))
    lb = origin["vpc_origin_endpoint_config"][0]["arn"].split(".")[1]
    group = doc["resource"]["aws_lb"][lb]["security_groups"][0]
    doc["resource"]["aws_vpc_security_group_ingress_rule"]["mutation-https-from-vpc"] = {
        "security_group_id": group, "ip_protocol": "tcp", "from_port": 443, "to_port": 443, "cidr_ipv4": "10.30.0.0/16"}
    return {"AEGIS_CLOUDFRONT_ORIGIN_INGRESS": f"aws_lb.{lb}"}


def backend_sends_the_key_alias(doc):
    s3 = doc["terraform"]["backend"]["s3"]
    s3["kms_key_id"] = s3["kms_key_id"].split(":key/")[0] + ":alias/aegis-staging-state"
    return {"AEGIS_STATE_BACKEND_KEY": ""}


def boundary_named_before_it_exists(doc):
    name, conf = find(doc, "aws_iam_role")
    conf["permissions_boundary"] = "arn:aws:iam::444455556666:policy/aegis-staging-permission-boundary"
    return {"AEGIS_BOUNDARY_SAME_STACK_REFERENCE": f"aws_iam_role.{name}"}


def config_rule_deployed_wide(doc):
    name, conf = find(doc, "aws_config_config_rule",
                      lambda n, c: c["source"]["source_identifier"] == "S3_DEFAULT_ENCRYPTION_KMS")
    conf["scope"] = {"compliance_resource_types": ["AWS::S3::Bucket"]}
    return {"AEGIS_CONFIG_RULE_KNOWN_VIOLATION": f"aws_config_config_rule.{name}"}


def securityhub_subscribes_to_an_aws_integration(doc):
    doc["resource"]["aws_securityhub_product_subscription"] = {"mutation-guardduty": {
        "product_arn": "arn:aws:securityhub:eu-west-1::product/aws/guardduty"}}
    return {"CKV_AEGIS_23": "aws_securityhub_product_subscription.mutation-guardduty"}


def wildcard_persona_action(doc):
    role, _ = find(doc, "aws_iam_role", named("-data-scientist"))
    name, conf = find(doc, "aws_iam_role_policy", lambda n, c: c.get("role") in (
        f"${{aws_iam_role.{role}.name}}", f"${{aws_iam_role.{role}.id}}"))
    document = policy_doc(conf)
    document["Statement"].append({"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"})
    set_policy(conf, document)
    return {"CKV_AEGIS_9": f"aws_iam_role_policy.{name}", "AEGIS_PERSONA_LEAST_PRIVILEGE": f"aws_iam_role.{role}"}


def unscoped_passrole(doc):
    role, _ = find(doc, "aws_iam_role", named("-ml-engineer"))
    name, conf = find(doc, "aws_iam_role_policy", lambda n, c: c.get("role") in (
        f"${{aws_iam_role.{role}.name}}", f"${{aws_iam_role.{role}.id}}"))
    document = policy_doc(conf)
    document["Statement"].append({"Sid": "PassAnything", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})
    set_policy(conf, document)
    return {"CKV_AEGIS_10": f"aws_iam_role_policy.{name}"}


def invoker_reads_data(doc):
    role, _ = find(doc, "aws_iam_role", named("-app-invoker"))
    name, conf = find(doc, "aws_iam_role_policy", lambda n, c: c.get("role") in (
        f"${{aws_iam_role.{role}.name}}", f"${{aws_iam_role.{role}.id}}"))
    document = policy_doc(conf)
    document["Statement"].append({"Sid": "ReadDatasets", "Effect": "Allow", "Action": "s3:GetObject",
                                  "Resource": "arn:aws:s3:::aegis-dev-datasets-111122223333-eu-west-1/*"})
    set_policy(conf, document)
    return {"AEGIS_APP_INVOKER_INVOKE_ONLY": f"aws_iam_role.{role}"}


def no_mfa(doc):
    role, conf = find(doc, "aws_iam_role", named("-ml-engineer"))
    document = policy_doc(conf, "assume_role_policy")
    for stmt in document["Statement"]:
        stmt.pop("Condition", None)
    set_policy(conf, document, "assume_role_policy")
    return {"CKV_AEGIS_12": f"aws_iam_role.{role}"}


def no_boundary(doc):
    role, conf = find(doc, "aws_iam_role", lambda n, c: "Service" in c.get("assume_role_policy", ""))
    del conf["permissions_boundary"]
    return {"CKV_AEGIS_11": f"aws_iam_role.{role}"}


def no_data_events(doc):
    name, conf = find(doc, "aws_cloudtrail")
    conf.pop("event_selector", None)
    conf.pop("advanced_event_selector", None)
    return {"AEGIS_TRAIL_DATA_EVENTS": f"aws_cloudtrail.{name}"}


def guardduty_without_s3(doc):
    detector, _ = find(doc, "aws_guardduty_detector")
    _, feature = find(doc, "aws_guardduty_detector_feature", lambda n, c: c.get("name") == "S3_DATA_EVENTS")
    feature["status"] = "DISABLED"
    return {"AEGIS_GUARDDUTY_S3_PROTECTION": f"aws_guardduty_detector.{detector}"}


def short_prod_logs(doc):
    name, conf = find(doc, "aws_cloudwatch_log_group")
    conf["retention_in_days"] = 30
    return {"AEGIS_PROD_LOG_RETENTION": f"aws_cloudwatch_log_group.{name}"}


def drop_nist_standard(doc):
    account, _ = find(doc, "aws_securityhub_account")
    subs = doc["resource"]["aws_securityhub_standards_subscription"]
    for name in [n for n, c in subs.items() if "nist-800-53" in str(c.get("standards_arn"))]:
        del subs[name]
    return {"AEGIS_SECURITYHUB_STANDARDS": f"aws_securityhub_account.{account}"}


def drop_hipaa_pack(doc):
    packs = doc["resource"]["aws_config_conformance_pack"]
    for name in [n for n, c in packs.items() if "hipaa" in str(c.get("name"))]:
        del packs[name]
    return {"AEGIS_CONFORMANCE_PACKS": ""}


def partial_recorder(doc):
    name, conf = find(doc, "aws_config_configuration_recorder")
    conf["recording_group"]["all_supported"] = False
    conf["recording_group"]["resource_types"] = ["AWS::S3::Bucket"]
    return {"CKV_AEGIS_16": f"aws_config_configuration_recorder.{name}",
            "AEGIS_CONFIG_RECORDER_ENV": f"aws_config_configuration_recorder.{name}"}


def inspector_without_lambda(doc):
    found = items(doc, "aws_inspector2_enabler")
    for _, conf in found:
        conf["resource_types"] = [t for t in conf["resource_types"] if not t.startswith("LAMBDA")]
    return {"AEGIS_INSPECTOR_COVERAGE": f"aws_inspector2_enabler.{found[0][0]}"}


def no_budget(doc):
    del doc["resource"]["aws_budgets_budget"]
    return {"AEGIS_BUDGET_AND_ANOMALY": ""}


def untagged_provider(doc):
    for provider in doc["provider"]["aws"]:
        provider["default_tags"][0]["tags"].pop("DataClassification")
    return {"AEGIS_REQUIRED_TAGS": ""}


def unlocked_vault(doc):
    vault, _ = find(doc, "aws_backup_vault", lambda n, c: not c.get("provider"))
    locks = doc["resource"]["aws_backup_vault_lock_configuration"]
    for name in [n for n, c in locks.items() if vault in json.dumps(c)]:
        del locks[name]
    return {"AEGIS_BACKUP_VAULT_LOCK": f"aws_backup_vault.{vault}"}


def persona_promises_four_hours(doc):
    role, conf = find(doc, "aws_iam_role", named("-security-auditor"))
    conf["max_session_duration"] = 14400
    return {"AEGIS_CHAINED_SESSION_LENGTH": f"aws_iam_role.{role}"}


def ml_engineer_starts_training_jobs(doc):
    role, _ = find(doc, "aws_iam_role", named("-ml-engineer"))
    _, conf = find(doc, "aws_iam_role_policy", lambda n, c: c.get("role") in (
        f"${{aws_iam_role.{role}.name}}", f"${{aws_iam_role.{role}.id}}"))
    document = policy_doc(conf)
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "DenyJobsWithPassedRoles"]
    document["Statement"].append({"Sid": "Train", "Effect": "Allow", "Action": "sagemaker:CreateTrainingJob",
                                  "Resource": "arn:aws:sagemaker:eu-west-1:111122223333:training-job/aegis-dev-*"})
    set_policy(conf, document)
    return {"AEGIS_EXECUTION_ROLE_JOBS": f"aws_iam_role.{role}"}


def fleet_role_without_ssm(doc):
    name, _ = find(doc, "aws_iam_role_policy_attachment",
                   lambda n, c: c.get("policy_arn", "").endswith("/AmazonSSMManagedInstanceCore"))
    del doc["resource"]["aws_iam_role_policy_attachment"][name]
    template, _ = find(doc, "aws_launch_template")
    return {"AEGIS_FLEET_AGENT_REACH": f"aws_launch_template.{template}"}


def boundary_admits_sagemaker_at_the_edge(doc):
    name, conf = find(doc, "aws_iam_policy", named("-permission-boundary"))
    document = policy_doc(conf)
    (edge,) = [s for s in document["Statement"] if s["Sid"].startswith("DenyInManagedRegionExceptItsServices")]
    edge["NotAction"] = sorted({*edge["NotAction"], "sagemaker:*"})
    set_policy(conf, document)
    return {"AEGIS_BOUNDARY_REGION_EXEMPTIONS": f"aws_iam_policy.{name}"}


def pipeline_registers_approved(doc):
    name, conf = find(doc, "aws_sagemaker_pipeline")
    definition = json.loads(conf["pipeline_definition"])
    (condition,) = [s for s in definition["Steps"] if s["Type"] == "Condition"]
    (register,) = [s for s in condition["Arguments"]["IfSteps"] if s["Type"] == "RegisterModel"]
    register["Arguments"]["ModelApprovalStatus"] = "Approved"
    conf["pipeline_definition"] = json.dumps(definition)
    return {"AEGIS_PIPELINE_REGISTERS_PENDING": f"aws_sagemaker_pipeline.{name}"}


def pipeline_trains_without_isolation(doc):
    name, conf = find(doc, "aws_sagemaker_pipeline")
    definition = json.loads(conf["pipeline_definition"])
    (train,) = [s for s in definition["Steps"] if s["Type"] == "Training"]
    train["Arguments"]["EnableNetworkIsolation"] = False
    conf["pipeline_definition"] = json.dumps(definition)
    return {"AEGIS_PIPELINE_JOBS_GUARDED": f"aws_sagemaker_pipeline.{name}"}


def approvals_without_dead_letter_queue(doc):
    rule, _ = find(doc, "aws_cloudwatch_event_rule", named("-model-approvals"))
    _, target = find(doc, "aws_cloudwatch_event_target",
                     lambda n, c: c.get("rule") == f"${{aws_cloudwatch_event_rule.{rule}.name}}")
    del target["dead_letter_config"]
    return {"AEGIS_APPROVAL_EVENTS_ROUTED": f"aws_cloudwatch_event_rule.{rule}"}


# Checks that guard against something the default app never creates, so they judge nothing there;
# a mutation adds the thing and proves they fire.
GUARDS_AGAINST_ABSENT = {
    "CKV_AEGIS_23": "the app subscribes to no Security Hub product (AWS integrates them itself)",
    "CKV2_AEGIS_4": "the default app has no EFS file system (the model cache is opt-in)",
    "CKV_AEGIS_17": "the default app has no EFS file system policy (the model cache is opt-in)",
}

MUTATIONS = [
    Mutation("remove bucket encryption", "dev-data", remove_bucket_encryption),
    Mutation("open a bucket (public access block off)", "dev-data", open_bucket),
    Mutation("drop the TLS deny from a bucket policy", "dev-data", drop_tls_deny),
    Mutation("delete a bucket policy", "dev-data", delete_bucket_policy),
    Mutation("grant kms:* beyond the admin statement", "staging-data", second_kms_star),
    Mutation("GOVERNANCE object lock in prod", "prod-data", governance_lock_in_prod),
    Mutation("IMDSv1 on a launch template", "dev-platform", imdsv1),
    Mutation("drop data capture", "dev-platform", drop_data_capture),
    Mutation("delete an autoscaling policy", "dev-platform", no_autoscaling_policy),
    Mutation("model without VPC config", "dev-platform", model_without_vpc),
    Mutation("S3 endpoint open to every bucket", "dev-platform", open_s3_endpoint),
    Mutation("endpoint encrypted with the training key", "staging-platform", endpoint_with_training_key),
    Mutation("launch template EBS with the inference key", "staging-platform", ebs_with_inference_key),
    Mutation("TLS 1.2 listener policy", "staging-platform", tls12_listener),
    Mutation("ALB without WAF", "staging-platform", no_waf),
    Mutation("Lambda inference without reserved concurrency", "staging-platform", unreserved_lambda),
    Mutation("one instance per prod variant", "prod-platform", one_prod_instance),
    Mutation("prod endpoint updates all at once", "prod-platform", prod_release_all_at_once),
    Mutation("all-Spot prod GPU fleet", "prod-platform", all_spot_in_prod),
    Mutation("prod model cache without prevent_destroy", "prod-platform", unprotected_prod_model_cache),
    Mutation("prod edge key without prevent_destroy", "prod-platform", unprotected_prod_edge_key),
    Mutation("ALB behind CloudFront admits the VPC", "prod-platform", cloudfront_origin_admits_the_vpc),
    Mutation("state backend sends the key alias", "staging-data", backend_sends_the_key_alias),
    Mutation("bootstrap role names its boundary by literal ARN", "staging-bootstrap", boundary_named_before_it_exists),
    Mutation("Config rule the app violates deployed wide", "dev-governance", config_rule_deployed_wide),
    Mutation("Security Hub subscribes to an AWS integration", "prod-governance",
             securityhub_subscribes_to_an_aws_integration),
    Mutation("wildcard action in a persona policy", "dev-access", wildcard_persona_action),
    Mutation("iam:PassRole on *", "dev-access", unscoped_passrole),
    Mutation("app-invoker reads training data", "dev-access", invoker_reads_data),
    Mutation("human role without MFA", "staging-access", no_mfa),
    Mutation("role without permission boundary", "staging-access", no_boundary),
    Mutation("trail without data events", "staging-access", no_data_events),
    Mutation("GuardDuty without S3 protection", "staging-access", guardduty_without_s3),
    Mutation("prod logs kept 30 days", "prod-access", short_prod_logs),
    Mutation("Security Hub without NIST 800-53 in prod", "prod-governance", drop_nist_standard),
    Mutation("no HIPAA conformance pack in prod", "prod-governance", drop_hipaa_pack),
    Mutation("Config recorder on a resource-type list", "dev-governance", partial_recorder),
    Mutation("Inspector without Lambda", "dev-governance", inspector_without_lambda),
    Mutation("no budget", "dev-governance", no_budget),
    Mutation("provider without a required tag", "staging-governance", untagged_provider),
    Mutation("backup vault without lock", "staging-governance", unlocked_vault),
    Mutation("Identity Center persona promises 4-hour sessions", "staging-access", persona_promises_four_hours),
    # In dev, where it passes the models' execution roles (in staging and prod it passes none).
    Mutation("ml-engineer starts training jobs", "dev-access", ml_engineer_starts_training_jobs),
    Mutation("GPU fleet role without SSM Agent's policy", "dev-platform", fleet_role_without_ssm),
    Mutation("boundary admits SageMaker at the edge", "prod-bootstrap", boundary_admits_sagemaker_at_the_edge),
    Mutation("pipeline registers its versions Approved", "prod-platform", pipeline_registers_approved),
    Mutation("pipeline trains without network isolation", "staging-platform", pipeline_trains_without_isolation),
    Mutation("approvals routed without a dead-letter queue", "dev-access", approvals_without_dead_letter_queue),
]


# ---------------------------------------------------------------- gate runs

def failed(result) -> set[tuple[str, str, str]]:
    return {(f.check_id, f.stack, f.address) for f in result.findings if f.status == "failed"}


@pytest.fixture(scope="module")
def baseline(synthesized):
    from policies.gate import run_gate

    return run_gate(synthesized.out)


@pytest.fixture(scope="module")
def mutated(synthesized, tmp_path_factory):
    """One copy of the synth output with every mutation applied; the gate run on it; what each expects."""
    from policies.gate import run_gate

    out = tmp_path_factory.mktemp("mutated") / "cdktf.out"
    shutil.copytree(synthesized.out, out)
    expected: dict[str, Expect | Exception] = {}
    docs: dict[str, dict] = {}
    for mutation in MUTATIONS:
        doc = docs.setdefault(mutation.stack, json.loads((out / "stacks" / mutation.stack / "cdk.tf.json").read_text()))
        try:
            expected[mutation.name] = mutation.apply(doc)
        except (LookupError, KeyError, StopIteration) as exc:  # the target is missing from the default app
            expected[mutation.name] = exc
    for stack, doc in docs.items():
        (out / "stacks" / stack / "cdk.tf.json").write_text(json.dumps(doc, indent=2))
    record_stacks_as_synthesized(out)  # as if the generator had written each mutation
    return run_gate(out), expected


def test_default_app_passes_every_custom_check(baseline):
    from policies.catalog import load_catalog

    custom = set(load_catalog().section("custom"))
    assert not baseline.errors, baseline.errors
    broken = sorted(f"{f.check_id} {f.stack}/{f.address}: {f.message}" for f in baseline.findings
                    if f.status == "failed" and f.check_id in custom)
    assert not broken, "custom checks fail on the default app:\n" + "\n".join(broken)
    judged = {f.check_id for f in baseline.findings if f.status == "passed"}
    assert custom - judged == set(GUARDS_AGAINST_ABSENT), \
        f"custom checks that judged nothing in the default app: {sorted(custom - judged)}"


def test_checks_guarding_against_absent_resources_are_proven_by_a_mutation(mutated):
    _, expected = mutated
    proven = {check for wanted in expected.values() if isinstance(wanted, dict) for check in wanted}
    assert set(GUARDS_AGAINST_ABSENT) <= proven


def test_mutated_app_fails_the_gate(mutated):
    result, _ = mutated
    assert not result.errors, result.errors
    assert result.exit_code == 1


@pytest.mark.parametrize("name", [m.name for m in MUTATIONS])
def test_mutation_fails_with_the_expected_check(name, mutated, baseline):
    result, expected = mutated
    stack = next(m.stack for m in MUTATIONS if m.name == name)
    wanted = expected[name]
    if isinstance(wanted, Exception):
        pytest.fail(f"the default app has no target for '{name}': {wanted}")
    before, after = failed(baseline), failed(result)
    for check_id, address in wanted.items():
        key = (check_id, stack, address)
        assert key not in before, f"{check_id} already fails on {stack}/{address} in the default app"
        assert key in after, (f"'{name}' did not fail {check_id} on {stack}/{address}; failures there: "
                              f"{sorted(k for k in after if k[1] == stack and k[2] == address)}")
