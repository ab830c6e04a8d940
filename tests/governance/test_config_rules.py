"""The standalone managed Config rules: at least 25, every one an AWS managed rule from the list
kept in the repository, change-triggered rules scoped to the resource types they evaluate."""
from __future__ import annotations

import json
import re

import pytest

from modules.governance.conformance.catalog import RuleListError, account_rules, managed_rules, parse_rules

# The controls the issue names explicitly.
REQUIRED = {
    "SAGEMAKER_ENDPOINT_CONFIGURATION_KMS_KEY_CONFIGURED", "SAGEMAKER_NOTEBOOK_INSTANCE_KMS_KEY_CONFIGURED",
    "SAGEMAKER_NOTEBOOK_NO_DIRECT_INTERNET_ACCESS", "S3_BUCKET_SSL_REQUESTS_ONLY", "S3_DEFAULT_ENCRYPTION_KMS",
    "S3_BUCKET_VERSIONING_ENABLED", "S3_BUCKET_LOGGING_ENABLED", "S3_BUCKET_PUBLIC_READ_PROHIBITED",
    "S3_BUCKET_PUBLIC_WRITE_PROHIBITED", "CLOUD_TRAIL_ENABLED", "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "CLOUDTRAIL_S3_DATAEVENTS_ENABLED", "GUARDDUTY_ENABLED_CENTRALIZED", "KMS_CMK_NOT_SCHEDULED_FOR_DELETION",
    "LAMBDA_INSIDE_VPC", "LAMBDA_CONCURRENCY_CHECK", "CLOUDWATCH_LOG_GROUP_ENCRYPTED", "EC2_EBS_ENCRYPTION_BY_DEFAULT",
    "IAM_NO_INLINE_POLICY_CHECK", "IAM_USER_MFA_ENABLED", "VPC_FLOW_LOGS_ENABLED", "DYNAMODB_PITR_ENABLED",
}


def _rules(gov) -> dict[str, dict]:
    """Config rules by source identifier."""
    rules = {}
    for conf in gov.res("aws_config_config_rule").values():
        identifier = conf["source"]["source_identifier"]
        assert identifier not in rules, f"{identifier} deployed twice"
        rules[identifier] = conf
    return rules


def test_rule_list_present(gov):
    rules = _rules(gov)
    assert len(rules) >= 25
    assert set(rules) >= REQUIRED, sorted(REQUIRED - set(rules))


def test_every_rule_is_a_known_aws_managed_rule(gov):
    catalogue = managed_rules()
    for identifier, conf in _rules(gov).items():
        assert conf["source"]["owner"] == "AWS"
        assert identifier in catalogue
        assert conf["name"] == gov.naming.resource(catalogue[identifier].name)


def test_rules_scoped_by_resource_type(gov):
    catalogue = managed_rules()
    uses = {u.rule.identifier: u for u in account_rules()}
    frequency = gov.settings.rules.periodic_frequency
    for identifier, conf in _rules(gov).items():
        rule, use = catalogue[identifier], uses[identifier]
        if rule.trigger in ("change", "both") and use.scope is not None and use.scope.tag_key:
            # Narrowed by tag in the rule list, with its reason (AWS Config takes types or a tag, not both).
            assert conf["scope"] == {"tag_key": use.scope.tag_key, "tag_value": use.scope.tag_value}, identifier
        elif rule.trigger in ("change", "both"):
            assert conf["scope"]["compliance_resource_types"] == list(use.resource_types), identifier
            assert set(use.resource_types) <= set(rule.resource_types)
            assert all(t.startswith("AWS::") for t in conf["scope"]["compliance_resource_types"])
        else:
            assert "scope" not in conf, f"{identifier} is periodic: a scope does not apply"
        if rule.trigger in ("periodic", "both"):
            assert conf["maximum_execution_frequency"] == frequency, identifier
        else:  # AWS rejects a frequency on rules triggered by configuration changes
            assert "maximum_execution_frequency" not in conf, identifier


def test_most_rules_are_scoped(gov):
    scoped = [c for c in gov.res("aws_config_config_rule").values() if "scope" in c]
    assert len(scoped) >= 20


def test_rules_wait_for_the_recorder(gov):
    status, _ = gov.one("aws_config_configuration_recorder_status")
    for conf in gov.res("aws_config_config_rule").values():
        assert f"aws_config_configuration_recorder_status.{status}" in conf["depends_on"]


def test_rule_parameters_rendered_as_aws_expects(gov):
    rules = _rules(gov)
    assert json.loads(rules["VPC_FLOW_LOGS_ENABLED"]["input_parameters"]) == {"trafficType": "ALL"}
    for identifier, conf in rules.items():
        if "input_parameters" in conf:
            params = json.loads(conf["input_parameters"])
            assert all(isinstance(v, str) for v in params.values())
            assert set(params) <= set(managed_rules()[identifier].parameters)


def test_tier_limited_rules(gov):
    rules = _rules(gov)
    prod_only = [u.rule.identifier for u in account_rules() if u.tiers == ("prod",)]
    assert prod_only == ["SAGEMAKER_ENDPOINT_CONFIG_PROD_INSTANCE_COUNT"]
    for identifier in prod_only:
        assert (identifier in rules) == (gov.config.tier == "prod")


# ---- rules the app violates by design are narrowed, with the reason beside them -----------------

NARROWED = ("IAM_NO_INLINE_POLICY_CHECK", "SAGEMAKER_MODEL_IN_VPC", "SAGEMAKER_MODEL_ISOLATION_ENABLED",
            "S3_DEFAULT_ENCRYPTION_KMS", "CLOUDTRAIL_S3_DATAEVENTS_ENABLED")


def test_config_rules_the_app_violates_by_design_are_narrowed(gov):
    """Every role has an inline policy, serverless models have no VPC or isolation, the access-log buckets
    are SSE-S3 and the trail logs two buckets' data events: deployed wide, these rules alerted forever."""
    rules = _rules(gov)
    assert rules["IAM_NO_INLINE_POLICY_CHECK"]["scope"] == {"compliance_resource_types": ["AWS::IAM::User",
                                                                                          "AWS::IAM::Group"]}
    for identifier in ("SAGEMAKER_MODEL_IN_VPC", "SAGEMAKER_MODEL_ISOLATION_ENABLED"):
        assert rules[identifier]["scope"] == {"tag_key": "NetworkIsolation", "tag_value": "vpc"}
    assert rules["S3_DEFAULT_ENCRYPTION_KMS"]["scope"] == {"tag_key": "DefaultEncryption", "tag_value": "aws:kms"}
    buckets = json.loads(rules["CLOUDTRAIL_S3_DATAEVENTS_ENABLED"]["input_parameters"])["S3BucketNames"].split(",")
    assert buckets == [gov.naming.bucket("datasets"), gov.naming.bucket("model-artifacts")]
    for use in account_rules():
        if use.rule.identifier in NARROWED:
            assert use.reason and len(use.reason) > 40, use.rule.identifier


def test_resources_carry_the_tags_the_rules_are_scoped_by(synthesized, env):
    """The scope tags are on exactly the conforming resources: a KMS bucket, a model in the VPC."""
    for stack in (f"{env}-bootstrap", f"{env}-data"):
        encryption = {c["bucket"].split("${")[-1]: c for c in
                      synthesized.resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()}
        for name, bucket in synthesized.resources(stack, "aws_s3_bucket").items():
            (sse,) = [c for c in encryption.values() if f"aws_s3_bucket.{name}." in c["bucket"]]
            algorithm = sse["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"]
            assert bucket["tags"]["DefaultEncryption"] == algorithm, name
    for name, model in synthesized.resources(f"{env}-platform", "aws_sagemaker_model").items():
        in_vpc = model.get("enable_network_isolation") is True and bool(model.get("vpc_config"))
        assert model["tags"]["NetworkIsolation"] == ("vpc" if in_vpc else "none"), name


@pytest.mark.parametrize("entry, fragment", [
    ({"rule": "CLOUD_TRAIL_ENABLED", "scope": {"tag_key": "x"}, "reason": "a sentence long enough"},
     "periodic: AWS Config scopes only change-triggered rules"),
    ({"rule": "S3_DEFAULT_ENCRYPTION_KMS", "scope": {"tag_key": "DefaultEncryption", "tag_value": "aws:kms"}},
     "say why in `reason`"),
    ({"rule": "S3_DEFAULT_ENCRYPTION_KMS", "scope": {"resource_types": ["AWS::IAM::Role"]}, "reason": "because"},
     "scope resource_types must be some of"),
    ({"rule": "S3_DEFAULT_ENCRYPTION_KMS", "scope": {"resource_types": ["AWS::S3::Bucket"], "tag_key": "x"},
      "reason": "because"}, "without a tag"),
    ({"rule": "CLOUDTRAIL_S3_DATAEVENTS_ENABLED", "parameters": {"S3BucketNames": {"environment": "nope"}},
      "reason": "because"}, "a mapping value must be {environment: <name>}"),
    ({"rule": "CLOUDTRAIL_S3_DATAEVENTS_ENABLED",
      "parameters": {"S3BucketNames": {"environment": "trail_data_event_buckets"}}}, "say why in `reason`"),
])
def test_narrowing_mistakes_in_a_rule_list_are_rejected(entry, fragment):
    with pytest.raises(RuleListError, match=re.escape(fragment)):
        parse_rules([entry], "account_rules.yaml", controls_pattern=None)


def test_environment_value_missing_at_render_is_an_error():
    (use,) = parse_rules([{"rule": "CLOUDTRAIL_S3_DATAEVENTS_ENABLED", "reason": "because",
                           "parameters": {"S3BucketNames": {"environment": "trail_data_event_buckets"}}}],
                         "account_rules.yaml", controls_pattern=None)
    assert use.parameter_values({"trail_data_event_buckets": "a,b"}) == (("S3BucketNames", "a,b"),)
    with pytest.raises(RuleListError, match="needs the environment value 'trail_data_event_buckets'"):
        use.parameter_values({})
