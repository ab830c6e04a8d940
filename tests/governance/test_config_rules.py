"""The standalone managed Config rules: at least 25, every one an AWS managed rule from the list
kept in the repository, change-triggered rules scoped to the resource types they evaluate."""
from __future__ import annotations

import json

from modules.governance.conformance.catalog import account_rules, managed_rules

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
    frequency = gov.settings.rules.periodic_frequency
    for identifier, conf in _rules(gov).items():
        rule = catalogue[identifier]
        if rule.trigger in ("change", "both"):
            assert conf["scope"]["compliance_resource_types"] == list(rule.resource_types), identifier
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
