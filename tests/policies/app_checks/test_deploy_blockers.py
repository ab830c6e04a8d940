"""App-level checks for what kept the synthesized app from deploying: the state backend's key, a boundary
named before it exists, SCPs that deny Aegis its own edge, Config rules the app violates by design,
prod keys without prevent_destroy, and an ALB behind CloudFront that admits the VPC.

Each check is shown both ways on small stacks, and fires on the broken shape trimmed from the
output synthesized before the fixes (tests/policies/fixtures/broken/)."""
from __future__ import annotations

import json

import pytest

from modules.naming import Naming
from tests.policies.app_checks.helpers import app, broken, config, doc, fails_on, failures, resources, run, verdict

# ---- AEGIS_STATE_BACKEND_KEY ---------------------------------------------------------------------

KEY_ARN = "arn:aws:kms:eu-west-1:777788889999:key/9a4e7c1b-2d5f-4b8a-b3e6-1c7f0d9a2e58"


def backend_app(kms_key_id, *, admitted="${aws_kms_key.state.arn}", key_provider=None):
    naming = Naming.of(config("prod"))
    bucket = naming.state_bucket()
    provider = {"aws": [{"region": "eu-west-1"}, {"alias": "dr", "region": "eu-central-1"}]}
    key = {"description": "state"} if key_provider is None else {"provider": key_provider}
    policy = doc({"Sid": "DenyOtherKmsKeys", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                  "Resource": f"arn:aws:s3:::{bucket}/*",
                  "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": admitted}}})
    backend = {"bucket": bucket, "region": "eu-west-1", "encrypt": True, "key": "aegis/prod/prod-data.tfstate"}
    if kms_key_id is not None:
        backend["kms_key_id"] = kms_key_id
    return app("prod", bootstrap={"provider": provider, "resource": {
        "aws_kms_key": {"state": key}, "aws_s3_bucket": {"state": {"bucket": bucket}},
        "aws_s3_bucket_policy": {"state": {"bucket": "${aws_s3_bucket.state.id}", "policy": policy}}}},
        data={"terraform": {"backend": {"s3": backend}}})


class TestStateBackendKey:
    def test_recorded_key_arn_admitted_by_the_state_key_reference_passes(self):
        results = run("AEGIS_STATE_BACKEND_KEY", backend_app(KEY_ARN))
        assert verdict(results, "", "prod-data"), failures(results)

    def test_literal_policy_value_equal_to_the_backend_passes(self):
        assert verdict(run("AEGIS_STATE_BACKEND_KEY", backend_app(KEY_ARN, admitted=KEY_ARN)), "", "prod-data")

    @pytest.mark.parametrize("kms_key_id, fragment", [
        ("arn:aws:kms:eu-west-1:777788889999:alias/aegis-prod-state", "is not a key ARN"),
        ("alias/aegis-prod-state", "is not a key ARN"),
        ("9a4e7c1b-2d5f-4b8a-b3e6-1c7f0d9a2e58", "is not a key ARN"),
        (None, "no kms_key_id"),
        (KEY_ARN.replace("777788889999", "111122223333"), "not in the state bucket's account"),
        (KEY_ARN.replace("eu-west-1", "eu-central-1"), "not in the state bucket's account and region"),
    ])
    def test_backend_key_the_policy_cannot_admit_fails(self, kms_key_id, fragment):
        message = fails_on(run("AEGIS_STATE_BACKEND_KEY", backend_app(kms_key_id)), "", "prod-data")
        assert fragment in message

    def test_policy_admitting_another_literal_key_fails(self):
        other = KEY_ARN.replace("9a4e7c1b", "00000000")
        assert "never the backend's" in fails_on(run("AEGIS_STATE_BACKEND_KEY", backend_app(KEY_ARN, admitted=other)),
                                                 "", "prod-data")

    def test_policy_admitting_the_dr_key_fails(self):
        stacks = backend_app(KEY_ARN, key_provider="aws.dr")
        assert "never the backend's" in fails_on(run("AEGIS_STATE_BACKEND_KEY", stacks), "", "prod-data")

    def test_local_backends_are_not_judged(self):
        assert run("AEGIS_STATE_BACKEND_KEY", app("dev", data={"terraform": {"backend": {"local": {"path": "x"}}}})) == []

    def test_fires_on_the_alias_backend_synthesized_before_the_fix(self):
        results = run("AEGIS_STATE_BACKEND_KEY", broken("state_backend_alias"))
        assert "alias/aegis-prod-state" in fails_on(results, "", "prod-data")


# ---- AEGIS_BOUNDARY_SAME_STACK_REFERENCE ---------------------------------------------------------

def boundary_app(boundary, depends_on=None):
    role = {"name": "aegis-prod-tfstate-replication", "permissions_boundary": boundary}
    if depends_on:
        role["depends_on"] = depends_on
    return app("prod", bootstrap=resources(
        aws_iam_policy={"permission-boundary": {"name": "aegis-prod-permission-boundary", "policy": "{}"}},
        aws_iam_role={"replication": role}))


class TestBoundarySameStackReference:
    LITERAL = "arn:aws:iam::777788889999:policy/aegis-prod-permission-boundary"

    @pytest.mark.parametrize("boundary, depends_on", [
        ("${aws_iam_policy.permission-boundary.arn}", None),
        (LITERAL, ["aws_iam_policy.permission-boundary"]),
        ("arn:aws:iam::777788889999:policy/created-by-an-earlier-stack", None),
    ])
    def test_referenced_ordered_or_foreign_boundary_passes(self, boundary, depends_on):
        results = run("AEGIS_BOUNDARY_SAME_STACK_REFERENCE", boundary_app(boundary, depends_on))
        assert verdict(results, "aws_iam_role.replication")

    def test_literal_arn_of_a_policy_of_the_same_stack_fails(self):
        message = fails_on(run("AEGIS_BOUNDARY_SAME_STACK_REFERENCE", boundary_app(self.LITERAL)),
                           "aws_iam_role.replication")
        assert "${aws_iam_policy.permission-boundary.arn}" in message

    def test_fires_on_the_bootstrap_role_synthesized_before_the_fix(self):
        results = run("AEGIS_BOUNDARY_SAME_STACK_REFERENCE", broken("bootstrap_boundary_literal"))
        (failed,) = [r for r in results if not r.passed]
        assert failed.stack == "staging-bootstrap" and failed.address.startswith("aws_iam_role.state-replication_role")


# ---- AEGIS_SCP_REGION_EXEMPTIONS -----------------------------------------------------------------

def region_scp(*extra: dict) -> str:
    guard = {"Sid": "DenyOutsideAllowedRegions", "Effect": "Deny", "Resource": "*", "NotAction": ["iam:*", "sts:*"],
             "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1", "us-east-1"]}}}
    return doc(guard, *extra)


EDGE_EXEMPTION = {"Sid": "DenyInUsEast1", "Effect": "Deny", "Resource": "*",
                  "NotAction": ["iam:*", "sts:*", "kms:*", "logs:*", "wafv2:*"],
                  "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}


def scp_app(content: str, **platform: dict) -> dict:
    return app("prod", access={"provider": {"aws": [{"region": "eu-west-1"}]}, "resource": {
        "aws_organizations_policy": {"regions": {"type": "SERVICE_CONTROL_POLICY", "content": content}}}},
        platform={"provider": {"aws": [{"region": "eu-west-1"}]}, "resource": platform or {
            "aws_kms_key": {"edge": {"region": "us-east-1"}}, "aws_wafv2_web_acl": {"edge": {"region": "us-east-1"}},
            "aws_vpc": {"main": {"cidr_block": "10.0.0.0/16"}}}})


class TestScpRegionExemptions:
    def test_services_exempt_in_the_region_they_are_managed_in_pass(self):
        results = run("AEGIS_SCP_REGION_EXEMPTIONS", scp_app(region_scp(EDGE_EXEMPTION)))
        # What passes is reported once, on the SCP, with how many resources it admits (the platform's three
        # and the SCP itself), not once per resource.
        assert not failures(results) and len(results) == 1
        assert "admits the 4 resources" in results[0].message and "us-east-1" in results[0].message

    def test_edge_service_denied_by_the_scp_fails(self):
        narrow = dict(EDGE_EXEMPTION, NotAction=["iam:*", "sts:*", "kms:*", "logs:*"])
        results = run("AEGIS_SCP_REGION_EXEMPTIONS", scp_app(region_scp(narrow)))
        assert "deny wafv2 in us-east-1" in fails_on(results, "aws_wafv2_web_acl.edge")
        assert [r.address for r in results if not r.passed] == ["aws_wafv2_web_acl.edge"]  # kms, logs, the VPC pass

    def test_resource_of_a_type_with_no_known_service_fails(self):
        results = run("AEGIS_SCP_REGION_EXEMPTIONS", scp_app(region_scp(EDGE_EXEMPTION),
                                                              aws_unheard_of_thing={"x": {}}))
        assert "no known IAM service" in fails_on(results, "aws_unheard_of_thing.x")

    def test_environment_without_scps_is_not_judged(self):
        assert run("AEGIS_SCP_REGION_EXEMPTIONS", app("dev", platform=resources(aws_vpc={"m": {}}))) == []

    def test_fires_on_the_prod_scps_synthesized_before_the_fix(self):
        results = run("AEGIS_SCP_REGION_EXEMPTIONS", broken("scp_blocks_edge_region"))
        denied = {r.address.split(".")[0] for r in results if not r.passed}
        assert {"aws_kms_key", "aws_wafv2_web_acl", "aws_cloudwatch_log_delivery"} <= denied


# ---- AEGIS_CONFIG_RULE_KNOWN_VIOLATION -----------------------------------------------------------

def rule(identifier: str, **extra) -> dict:
    return {"source": {"owner": "AWS", "source_identifier": identifier}, **extra}


PROVIDER = {"aws": [{"region": "eu-west-1", "default_tags": [{"tags": {"Project": "aegis"}}]}]}


def rules_app(rules: dict, platform: dict | None = None, data: dict | None = None, access: dict | None = None):
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": rules}}
    stacks = {"governance": governance}
    for pillar, resource in (("platform", platform), ("data", data), ("access", access)):
        if resource:
            stacks[pillar] = {"provider": PROVIDER, "resource": resource}
    return app("dev", **stacks)


MODELS = {"aws_sagemaker_model": {
    "realtime": {"enable_network_isolation": True, "vpc_config": {"subnets": ["s"], "security_group_ids": ["g"]},
                 "tags": {"NetworkIsolation": "vpc"}},
    "serverless": {"enable_network_isolation": False, "tags": {"NetworkIsolation": "none"}}}}
BUCKETS = {
    "aws_s3_bucket": {"data": {"bucket": "aegis-dev-datasets", "tags": {"DefaultEncryption": "aws:kms"}},
                      "logs": {"bucket": "aegis-dev-access-logs", "tags": {"DefaultEncryption": "AES256"}}},
    "aws_s3_bucket_server_side_encryption_configuration": {
        "data": {"bucket": "${aws_s3_bucket.data.id}", "rule": [{"apply_server_side_encryption_by_default": {
            "sse_algorithm": "aws:kms", "kms_master_key_id": "k"}}]},
        "logs": {"bucket": "${aws_s3_bucket.logs.id}", "rule": [{"apply_server_side_encryption_by_default": {
            "sse_algorithm": "AES256"}}]}}}
ROLES = {"aws_iam_role": {"worker": {"name": "aegis-dev-worker"}},
         "aws_iam_role_policy": {"worker": {"role": "${aws_iam_role.worker.name}", "policy": "{}"}}}
TRAIL = {"aws_cloudtrail": {"trail": {"advanced_event_selector": [{"field_selector": [
    {"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]},
    {"field": "resources.ARN", "starts_with": ["arn:aws:s3:::aegis-dev-datasets/"]}]}]}}}


ALARM = {"metric_name": "CloudtrailChanges", "namespace": "Aegis/dev/Security", "period": 300, "threshold": 1,
         "evaluation_periods": 1, "statistic": "Sum", "comparison_operator": "GreaterThanOrEqualToThreshold"}
ALARM_SETTINGS = {"metricName": "CloudtrailChanges", "threshold": "1", "evaluationPeriods": "1", "period": "300",
                  "statistic": "Sum", "comparisonOperator": "GreaterThanOrEqualToThreshold"}
BACKUP_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


class TestConfigRuleKnownViolation:
    @pytest.mark.parametrize("identifier, narrowed, resources_", [
        ("SAGEMAKER_MODEL_IN_VPC", {"scope": {"tag_key": "NetworkIsolation", "tag_value": "vpc"}}, {"platform": MODELS}),
        ("SAGEMAKER_MODEL_ISOLATION_ENABLED", {"scope": {"tag_key": "NetworkIsolation", "tag_value": "vpc"}},
         {"platform": MODELS}),
        ("S3_DEFAULT_ENCRYPTION_KMS", {"scope": {"tag_key": "DefaultEncryption", "tag_value": "aws:kms"}},
         {"data": BUCKETS}),
        ("IAM_NO_INLINE_POLICY_CHECK", {"scope": {"compliance_resource_types": ["AWS::IAM::User", "AWS::IAM::Group"]}},
         {"platform": ROLES}),
        ("CLOUDTRAIL_S3_DATAEVENTS_ENABLED", {"input_parameters": json.dumps({"S3BucketNames": "aegis-dev-datasets"})},
         {"data": BUCKETS, "access": TRAIL}),
    ])
    def test_rule_narrowed_to_what_the_app_keeps_passes_and_unnarrowed_fails(self, identifier, narrowed, resources_):
        wide = {"scope": {"compliance_resource_types": ["AWS::S3::Bucket", "AWS::SageMaker::Model", "AWS::IAM::Role"]}} \
            if identifier != "CLOUDTRAIL_S3_DATAEVENTS_ENABLED" else {}
        ok = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": rule(identifier, **narrowed)}, **resources_))
        assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
        bad = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": rule(identifier, **wide)}, **resources_))
        assert "permanently violated" in fails_on(bad, "aws_config_config_rule.r")

    def test_rule_in_a_conformance_pack_is_judged_with_its_parameters(self):
        template = "\n".join([
            "Parameters:", "  Names:", "    Type: String", '    Default: "aegis-dev-datasets,aegis-dev-access-logs"',
            "Resources:", "  DataEvents:", "    Type: AWS::Config::ConfigRule", "    Properties:",
            "      Source: {Owner: AWS, SourceIdentifier: CLOUDTRAIL_S3_DATAEVENTS_ENABLED}",
            "      InputParameters: {S3BucketNames: {Ref: Names}}"])
        stacks = rules_app({}, data=BUCKETS, access=TRAIL)
        stacks["dev-governance"]["resource"]["aws_config_conformance_pack"] = {"gdpr": {"template_body": template}}
        assert "aegis-dev-access-logs" in fails_on(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks),
                                                   "aws_config_conformance_pack.gdpr")
        pack = stacks["dev-governance"]["resource"]["aws_config_conformance_pack"]["gdpr"]
        pack["input_parameter"] = [{"parameter_name": "Names", "parameter_value": "aegis-dev-datasets"}]
        assert verdict(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks), "aws_config_conformance_pack.gdpr")

    def test_unreadable_pack_template_fails(self):
        stacks = rules_app({})
        stacks["dev-governance"]["resource"]["aws_config_conformance_pack"] = {"p": {"template_body": "${file.x}"}}
        assert "not judged" in fails_on(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks), "aws_config_conformance_pack.p")

    def test_fires_on_every_known_rule_synthesized_before_the_fix(self):
        results = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", broken("config_rules_known_violated"))
        failed = " ".join(r.message for r in results if not r.passed)
        for identifier in ("IAM_NO_INLINE_POLICY_CHECK", "SAGEMAKER_MODEL_IN_VPC", "SAGEMAKER_MODEL_ISOLATION_ENABLED",
                           "S3_DEFAULT_ENCRYPTION_KMS", "CLOUDTRAIL_S3_DATAEVENTS_ENABLED"):
            assert f"{identifier} is permanently violated" in failed, identifier


def logged_buckets(target_bucket: str = "aegis-dev-access-logs") -> dict:
    return {"aws_s3_bucket": {
        "data": {"bucket": "aegis-dev-datasets", "tags": {"AccessLogging": "enabled"}},
        "logs": {"bucket": "aegis-dev-access-logs", "tags": {"AccessLogging": "log-target"}}},
        "aws_s3_bucket_logging": {"data": {"bucket": "${aws_s3_bucket.data.id}", "target_bucket": target_bucket,
                                           "target_prefix": "s3/aegis-dev-datasets/"}}}


DENY_MANUAL_DELETION = {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Resource": "*", "Action": [
    "backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy"]}


def vault(*statements: dict) -> dict:
    out: dict = {"aws_backup_vault": {"vault": {"name": "aegis-dev-backup"}}}
    if statements:
        out["aws_backup_vault_policy"] = {"vault": {"backup_vault_name": "${aws_backup_vault.vault.name}",
                                                    "policy": doc(*statements)}}
    return out


DEFAULT_VPCS = "${toset(data.aws_vpcs.default.ids)}"


def network(*, flow_log: bool = True, default_vpc_flow_log: bool = True, traffic: str = "ALL",
            default_group_rules: list | None = None, default_vpc_group: bool = True, filter_value: str = "true") -> dict:
    resource: dict = {"aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16"}}, "aws_flow_log": {},
                      "aws_default_security_group": {"vpc": {"vpc_id": "${aws_vpc.vpc.id}", "ingress": [],
                                                             "egress": default_group_rules or []}}}
    if flow_log:
        resource["aws_flow_log"]["vpc"] = {"vpc_id": "${aws_vpc.vpc.id}", "traffic_type": traffic}
    if default_vpc_flow_log:
        resource["aws_flow_log"]["default"] = {"for_each": DEFAULT_VPCS, "vpc_id": "${each.value}",
                                               "traffic_type": traffic}
    if default_vpc_group:
        resource["aws_default_security_group"]["default"] = {"for_each": DEFAULT_VPCS, "vpc_id": "${each.value}",
                                                             "ingress": [], "egress": []}
    return {"provider": PROVIDER, "resource": resource,
            "data": {"aws_vpcs": {"default": {"filter": [{"name": "isDefault", "values": [filter_value]}]}}}}


STRONG_PASSWORDS = {"minimum_password_length": 14, "require_uppercase_characters": True,
                    "require_lowercase_characters": True, "require_numbers": True, "require_symbols": True,
                    "password_reuse_prevention": 24, "max_password_age": 90}


def network_rules_app(identifier: str, parameters: dict | None = None, **shape) -> dict:
    extra = {"input_parameters": json.dumps(parameters)} if parameters else {}
    scope = {"scope": {"compliance_resource_types": ["AWS::EC2::SecurityGroup"]}} \
        if identifier == "VPC_DEFAULT_SECURITY_GROUP_CLOSED" else {}
    stacks = rules_app({"r": rule(identifier, **extra, **scope)})
    stacks["dev-platform"] = network(**shape)
    return stacks


class TestRulesTheAppUsedToViolate:
    """S3 logging, backup vault deletion, flow logs and default security groups of every VPC of the
    region (the account's default VPC too), and the account password policy: each fails on the shape
    Aegis had and passes on the fixed one."""

    def test_logging_rule_scoped_to_logged_buckets_passes_and_unscoped_fails(self):
        scoped = rule("S3_BUCKET_LOGGING_ENABLED", scope={"tag_key": "AccessLogging", "tag_value": "enabled"})
        ok = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": scoped}, data=logged_buckets()))
        assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
        bad = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION",
                  rules_app({"r": rule("S3_BUCKET_LOGGING_ENABLED")}, data=logged_buckets()))
        message = fails_on(bad, "aws_config_config_rule.r")
        assert "aws_s3_bucket.logs" in message and "aws_s3_bucket.data" not in message

    def test_logging_to_another_bucket_than_the_rule_names_fails(self):
        scoped = rule("S3_BUCKET_LOGGING_ENABLED", scope={"tag_key": "AccessLogging", "tag_value": "enabled"},
                      input_parameters=json.dumps({"targetBucket": "aegis-dev-access-logs"}))
        assert verdict(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": scoped}, data=logged_buckets())),
                       "aws_config_config_rule.r")
        elsewhere = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": scoped}, data=logged_buckets("other")))
        assert "aws_s3_bucket.data" in fails_on(elsewhere, "aws_config_config_rule.r")

    @pytest.mark.parametrize("statement, passes", [
        (DENY_MANUAL_DELETION, True),
        ({**DENY_MANUAL_DELETION, "Action": ["backup:Delete*", "backup:UpdateRecoveryPointLifecycle",
                                             "backup:PutBackupVaultAccessPolicy"]}, True),
        ({**DENY_MANUAL_DELETION, "Principal": {"AWS": "*"}}, True),
        (None, False),
        ({**DENY_MANUAL_DELETION, "Action": ["backup:DeleteRecoveryPoint"]}, False),
        ({**DENY_MANUAL_DELETION, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}, False),
        ({**DENY_MANUAL_DELETION, "Resource": "arn:aws:backup:eu-west-1:111122223333:recovery-point:*"}, False),
        ({**DENY_MANUAL_DELETION, "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}}}, False),
        ({**DENY_MANUAL_DELETION, "Effect": "Allow"}, False),
    ])
    def test_vault_must_deny_manual_deletion_to_everyone(self, statement, passes):
        statements = (statement,) if statement else ()
        results = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app(
            {"r": rule("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")}, access=vault(*statements)))
        if passes:
            assert verdict(results, "aws_config_config_rule.r"), failures(results)
        else:
            assert "aws_backup_vault.vault" in fails_on(results, "aws_config_config_rule.r")

    def test_vault_policy_that_is_not_literal_is_not_judged(self):
        stacks = rules_app({"r": rule("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED")}, access=vault(DENY_MANUAL_DELETION))
        stacks["dev-access"]["resource"]["aws_backup_vault_policy"]["vault"]["policy"] = "${data.x.json}"
        assert "not judged" in fails_on(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks), "aws_config_config_rule.r")

    @pytest.mark.parametrize("identifier, parameters, shape, fragment", [
        ("VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}, {"flow_log": False}, "aws_vpc.vpc"),
        ("VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}, {"default_vpc_flow_log": False}, "default VPC of eu-west-1"),
        ("VPC_FLOW_LOGS_ENABLED", {"trafficType": "ALL"}, {"traffic": "REJECT"}, "aws_vpc.vpc"),
        ("VPC_FLOW_LOGS_ENABLED", None, {"filter_value": "false"}, "default VPC of eu-west-1"),
        ("VPC_DEFAULT_SECURITY_GROUP_CLOSED", None, {"default_group_rules": [{"protocol": "-1", "from_port": 0,
                                                                              "to_port": 0, "self": True}]},
         "aws_vpc.vpc"),
        ("VPC_DEFAULT_SECURITY_GROUP_CLOSED", None, {"default_vpc_group": False}, "default VPC of eu-west-1"),
    ])
    def test_every_vpc_of_the_region_default_included(self, identifier, parameters, shape, fragment):
        ok = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", network_rules_app(identifier, parameters))
        assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
        bad = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", network_rules_app(identifier, parameters, **shape))
        assert fragment in fails_on(bad, "aws_config_config_rule.r")

    def test_vpc_in_another_region_is_not_the_rules_business(self):
        stacks = network_rules_app("VPC_FLOW_LOGS_ENABLED", flow_log=False)
        stacks["dev-platform"]["provider"] = {"aws": [{"region": "eu-west-1"}, {"alias": "dr", "region": "eu-central-1"}]}
        stacks["dev-platform"]["resource"]["aws_vpc"]["vpc"]["provider"] = "aws.dr"
        assert verdict(run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks), "aws_config_config_rule.r")

    @pytest.mark.parametrize("policy, parameters, fragment", [
        (None, None, "no aws_iam_account_password_policy"),
        ({**STRONG_PASSWORDS, "minimum_password_length": 8}, None, "minimum_password_length 8"),
        ({**STRONG_PASSWORDS, "require_symbols": False}, None, "require_symbols is not true"),
        ({k: v for k, v in STRONG_PASSWORDS.items() if k != "max_password_age"}, None, "max_password_age None"),
        (STRONG_PASSWORDS, {"MinimumPasswordLength": "16"}, "minimum_password_length 14 (at least 16)"),
        ({**STRONG_PASSWORDS, "password_reuse_prevention": 5}, {"PasswordReusePrevention": "24"},
         "password_reuse_prevention 5"),
    ])
    def test_password_policy_weaker_than_the_rule_fails(self, policy, parameters, fragment):
        extra = {"input_parameters": json.dumps(parameters)} if parameters else {}
        access = {"aws_iam_account_password_policy": {"p": policy}} if policy else None
        results = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": rule("IAM_PASSWORD_POLICY", **extra)},
                                                                     access=access))
        assert fragment in fails_on(results, "aws_config_config_rule.r")

    def test_password_policy_meeting_the_rule_passes(self):
        stronger = {**STRONG_PASSWORDS, "minimum_password_length": 20, "max_password_age": 60}
        results = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app(
            {"r": rule("IAM_PASSWORD_POLICY", input_parameters=json.dumps({"RequireSymbols": "true"}))},
            access={"aws_iam_account_password_policy": {"p": stronger}}))
        assert verdict(results, "aws_config_config_rule.r"), failures(results)

    @pytest.mark.parametrize("identifier, extra, fixed, broken, fragment", [
        ("S3_BUCKET_REPLICATION_ENABLED", {"scope": {"tag_key": "Replication", "tag_value": "enabled"}},
         {"aws_s3_bucket_replication_configuration": {"r": {"bucket": "${aws_s3_bucket.b.id}",
                                                            "rule": [{"status": "Enabled"}]}}},
         {"aws_s3_bucket_replication_configuration": {"r": {"bucket": "${aws_s3_bucket.b.id}",
                                                            "rule": [{"status": "Disabled"}]}}}, "aws_s3_bucket.b"),
        ("S3_BUCKET_DEFAULT_LOCK_ENABLED", {"input_parameters": json.dumps({"mode": "COMPLIANCE"})},
         {"aws_s3_bucket_object_lock_configuration": {"l": {"bucket": "${aws_s3_bucket.b.id}", "rule": {
             "default_retention": {"mode": "COMPLIANCE", "days": 365}}}}},
         {"aws_s3_bucket_object_lock_configuration": {"l": {"bucket": "${aws_s3_bucket.b.id}", "rule": {
             "default_retention": {"mode": "GOVERNANCE", "days": 365}}}}}, "aws_s3_bucket.b"),
        ("ELB_DELETION_PROTECTION_ENABLED", {}, {"aws_lb": {"alb": {"enable_deletion_protection": True}}},
         {"aws_lb": {"alb": {"enable_deletion_protection": False}}}, "aws_lb.alb"),
        ("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
         {"input_parameters": json.dumps({"requiredFrequencyValue": "1", "requiredFrequencyUnit": "days",
                                          "requiredRetentionDays": "35"})},
         {"aws_backup_plan": {"p": {"rule": [{"rule_name": "daily", "schedule": "cron(0 3 * * ? *)",
                                              "lifecycle": {"delete_after": 35}}]}}},
         {"aws_backup_plan": {"p": {"rule": [{"rule_name": "daily", "schedule": "cron(0 3 * * ? *)",
                                              "lifecycle": {"delete_after": 7}}]}}}, "kept 7 days"),
        ("CLOUDWATCH_ALARM_SETTINGS_CHECK", {"input_parameters": json.dumps(ALARM_SETTINGS)},
         {"aws_cloudwatch_metric_alarm": {"a": ALARM, "other": {**ALARM, "metric_name": "Other", "threshold": 9}}},
         {"aws_cloudwatch_metric_alarm": {"a": {**ALARM, "threshold": 5}}}, "threshold 5"),
        # Without `period` the rule still asks for its documented default, 300 seconds.
        ("CLOUDWATCH_ALARM_SETTINGS_CHECK", {"input_parameters": json.dumps({"metricName": "CloudtrailChanges"})},
         {"aws_cloudwatch_metric_alarm": {"a": ALARM}},
         {"aws_cloudwatch_metric_alarm": {"a": {**ALARM, "period": 60}}}, "period 60"),
        ("IAM_POLICY_IN_USE", {"input_parameters": json.dumps({"policyARN": BACKUP_POLICY, "policyUsageType": "IAM_ROLE"})},
         {"aws_iam_role": {"backup": {"name": "aegis-dev-backup"}}, "aws_iam_role_policy_attachment": {
             "p": {"role": "${aws_iam_role.backup.name}", "policy_arn": BACKUP_POLICY}}},
         {"aws_iam_role": {"backup": {"name": "aegis-dev-backup"}}, "aws_iam_role_policy_attachment": {
             "p": {"role": "${aws_iam_role.backup.name}", "policy_arn": BACKUP_POLICY + "ForRestores"}},
          "aws_iam_user_policy_attachment": {"u": {"user": "someone", "policy_arn": BACKUP_POLICY}}},
         "attached to no role"),
        ("SECURITY_ACCOUNT_INFORMATION_PROVIDED", {},
         {"aws_account_alternate_contact": {"c": {"alternate_contact_type": "SECURITY", "name": "n", "title": "t",
                                                  "email_address": "s@example.com", "phone_number": "+1 555"}}},
         {"aws_account_alternate_contact": {"c": {"alternate_contact_type": "OPERATIONS", "name": "n", "title": "t",
                                                  "email_address": "s@example.com", "phone_number": "+1 555"}}},
         "no aws_account_alternate_contact of type SECURITY"),
    ])
    def test_rules_an_environment_can_break_by_its_settings(self, identifier, extra, fixed, broken, fragment):
        bucket = {"aws_s3_bucket": {"b": {"bucket": "aegis-dev-audit", "object_lock_enabled": True,
                                          "tags": {"Replication": "enabled"}}}}
        ok = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": rule(identifier, **extra)},
                                                                data={**bucket, **fixed}))
        assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
        bad = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", rules_app({"r": rule(identifier, **extra)},
                                                                 data={**bucket, **broken}))
        assert fragment in fails_on(bad, "aws_config_config_rule.r")

    def test_the_default_app_violates_none_of_its_packs_rules(self, synthesized):
        stacks = {name: synthesized.stack(name) for name in synthesized.stack_names}
        results = run("AEGIS_CONFIG_RULE_KNOWN_VIOLATION", stacks)
        assert results and all(r.passed for r in results), failures(results)
        packs = " ".join(r.message for r in results if r.address.startswith("aws_config_conformance_pack."))
        for identifier in ("S3_BUCKET_LOGGING_ENABLED", "BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED",
                           "VPC_FLOW_LOGS_ENABLED", "VPC_DEFAULT_SECURITY_GROUP_CLOSED", "IAM_PASSWORD_POLICY",
                           "S3_BUCKET_REPLICATION_ENABLED", "S3_BUCKET_DEFAULT_LOCK_ENABLED",
                           "ELB_DELETION_PROTECTION_ENABLED", "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK",
                           "CLOUDWATCH_ALARM_SETTINGS_CHECK", "IAM_POLICY_IN_USE",
                           "SECURITY_ACCOUNT_INFORMATION_PROVIDED"):
            assert identifier in packs, identifier


# ---- AEGIS_PROD_KMS_PREVENT_DESTROY --------------------------------------------------------------

class TestProdKmsPreventDestroy:
    def test_prod_key_with_prevent_destroy_passes(self):
        results = run("AEGIS_PROD_KMS_PREVENT_DESTROY", app("prod", platform=resources(
            aws_kms_key={"edge": {"lifecycle": {"prevent_destroy": True}}})))
        assert verdict(results, "aws_kms_key.edge")

    @pytest.mark.parametrize("conf", [{"deletion_window_in_days": 30}, {"lifecycle": {"prevent_destroy": False}}])
    def test_prod_key_without_prevent_destroy_fails_even_with_the_longest_window(self, conf):
        results = run("AEGIS_PROD_KMS_PREVENT_DESTROY", app("prod", platform=resources(aws_kms_key={"edge": conf})))
        assert not verdict(results, "aws_kms_key.edge")

    def test_other_tiers_are_not_judged(self):
        assert run("AEGIS_PROD_KMS_PREVENT_DESTROY", app("staging", data=resources(aws_kms_key={"k": {}}))) == []

    def test_fires_on_the_edge_key_synthesized_before_the_fix(self):
        results = run("AEGIS_PROD_KMS_PREVENT_DESTROY", broken("prod_edge_key_without_prevent_destroy"))
        (failed,) = [r for r in results if not r.passed]
        assert failed.address.startswith("aws_kms_key.kms-audit-edge_key")


# ---- AEGIS_CLOUDFRONT_ORIGIN_INGRESS -------------------------------------------------------------

ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


def origin_app(*rules: dict, inline: list | None = None) -> dict:
    group = {"name": "alb"} if inline is None else {"name": "alb", "ingress": inline}
    return app("prod", platform={
        "data": {"aws_ec2_managed_prefix_list": {"cf": {"name": ORIGIN_FACING}, "other": {"name": "com.example.pl"}}},
        "resource": {
            "aws_cloudfront_vpc_origin": {"o": {"vpc_origin_endpoint_config": [{"arn": "${aws_lb.alb.arn}"}]}},
            "aws_lb": {"alb": {"security_groups": ["${aws_security_group.alb.id}"]}},
            "aws_security_group": {"alb": group},
            "aws_vpc_security_group_ingress_rule": {
                f"r{i}": {"security_group_id": "${aws_security_group.alb.id}", "from_port": 443, **r}
                for i, r in enumerate(rules)}}})


FROM_CLOUDFRONT = {"prefix_list_id": "${data.aws_ec2_managed_prefix_list.cf.id}"}


class TestCloudFrontOriginIngress:
    def test_cloudfront_prefix_list_only_passes(self):
        assert verdict(run("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", origin_app(FROM_CLOUDFRONT)), "aws_lb.alb")

    @pytest.mark.parametrize("extra", [
        {"cidr_ipv4": "10.30.0.0/16"}, {"referenced_security_group_id": "${aws_security_group.clients.id}"},
        {"prefix_list_id": "${data.aws_ec2_managed_prefix_list.other.id}"}, {"prefix_list_id": "pl-3b927c52"},
    ])
    def test_any_other_source_fails(self, extra):
        results = run("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", origin_app(FROM_CLOUDFRONT, extra))
        assert not verdict(results, "aws_lb.alb")

    def test_inline_cidr_ingress_fails(self):
        results = run("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", origin_app(FROM_CLOUDFRONT, inline=[
            {"from_port": 443, "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}]))
        assert "bypasses CloudFront" in fails_on(results, "aws_lb.alb")

    def test_no_cloudfront_ingress_fails(self):
        assert "cannot reach" in fails_on(run("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", origin_app()), "aws_lb.alb")

    def test_fires_on_the_vpc_cidr_ingress_synthesized_before_the_fix(self):
        results = run("AEGIS_CLOUDFRONT_ORIGIN_INGRESS", broken("cloudfront_alb_admits_vpc_cidr"))
        (failed,) = [r for r in results if not r.passed]
        assert "cidr_ipv4" in failed.message and failed.address.startswith("aws_lb.model-vision-detector")


# ---- the default app -----------------------------------------------------------------------------

NEW_CHECKS = ("AEGIS_STATE_BACKEND_KEY", "AEGIS_BOUNDARY_SAME_STACK_REFERENCE", "AEGIS_SCP_REGION_EXEMPTIONS",
              "AEGIS_CONFIG_RULE_KNOWN_VIOLATION", "AEGIS_PROD_KMS_PREVENT_DESTROY", "AEGIS_CLOUDFRONT_ORIGIN_INGRESS")


@pytest.mark.parametrize("check_id", NEW_CHECKS)
def test_default_app_passes_and_is_judged(synthesized, check_id):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names}
    results = run(check_id, stacks, "dev", "staging", "prod")
    assert results and not failures(results)


# ---- AEGIS_MANAGED_OBJECT_NOT_LOCKED -------------------------------------------------------------

def object_app(*, retention: dict | None, object_bucket: str = "aegis-prod-model-artifacts-777788889999-eu-west-1"):
    bucket = "aegis-prod-model-artifacts-777788889999-eu-west-1"
    data: dict = {"aws_s3_bucket": {"artifacts": {"bucket": bucket, "object_lock_enabled": True}}}
    lock = {"bucket": "${aws_s3_bucket.artifacts.id}", "object_lock_enabled": "Enabled"}
    if retention is not None:
        lock["rule"] = {"default_retention": retention}
    data["aws_s3_bucket_object_lock_configuration"] = {"lock": lock}
    code = {"aws_s3_object": {"code": {"bucket": object_bucket, "key": "models/x/code/abc.zip"}}}
    return app("prod", data={"resource": data}, platform={"resource": code})


class TestManagedObjectNotLocked:
    def test_code_object_in_a_bucket_with_default_retention_fails(self):
        results = run("AEGIS_MANAGED_OBJECT_NOT_LOCKED", object_app(retention={"mode": "COMPLIANCE", "days": 365}))
        assert "object-lock default retention" in fails_on(results, "aws_s3_object.code", "prod-platform")

    def test_code_object_in_the_unlocked_code_bucket_passes(self):
        results = run("AEGIS_MANAGED_OBJECT_NOT_LOCKED", object_app(
            retention={"mode": "COMPLIANCE", "days": 365}, object_bucket="aegis-prod-code-777788889999-eu-west-1"))
        assert verdict(results, "aws_s3_object.code", "prod-platform"), failures(results)

    def test_lock_without_default_retention_passes(self):
        results = run("AEGIS_MANAGED_OBJECT_NOT_LOCKED", object_app(retention=None))
        assert verdict(results, "aws_s3_object.code", "prod-platform"), failures(results)

    def test_unresolvable_bucket_fails_closed(self):
        results = run("AEGIS_MANAGED_OBJECT_NOT_LOCKED", object_app(retention=None,
                                                                    object_bucket="${aws_s3_bucket.elsewhere.id}"))
        assert "cannot be resolved" in fails_on(results, "aws_s3_object.code", "prod-platform")

    def test_code_object_in_the_locked_model_artifacts_bucket_as_synthesized_before_fires(self):
        results = run("AEGIS_MANAGED_OBJECT_NOT_LOCKED", broken("code_object_in_locked_bucket"))
        fails_on(results, "aws_s3_object.model-doc-classifier_code-unsigned_48292761", "prod-platform")


# ---- AEGIS_MACIE_RESULTS_SOURCES -----------------------------------------------------------------

MACIE = "arn:aws:macie2:eu-west-1:777788889999"


def macie_app(sources: list[str]):
    key_policy = doc({"Sid": "MacieDiscoveryResults", "Effect": "Allow", "Principal": {"Service": "macie.amazonaws.com"},
                      "Action": ["kms:Encrypt", "kms:GenerateDataKey"], "Resource": "*",
                      "Condition": {"ArnLike": {"aws:SourceArn": sources}}})
    return app("prod", data=resources(aws_kms_key={"audit": {"policy": key_policy}}))


class TestMacieResultsSources:
    def test_export_configuration_only_fails(self):
        results = run("AEGIS_MACIE_RESULTS_SOURCES", macie_app([f"{MACIE}:export-configuration:*"]))
        assert "classification jobs cannot store" in fails_on(results, "aws_kms_key.audit", "prod-data")

    def test_export_configuration_and_classification_jobs_pass(self):
        results = run("AEGIS_MACIE_RESULTS_SOURCES",
                      macie_app([f"{MACIE}:export-configuration:*", f"{MACIE}:classification-job/*"]))
        assert verdict(results, "aws_kms_key.audit", "prod-data"), failures(results)

    def test_audit_key_and_bucket_policy_as_synthesized_before_fire(self):
        results = run("AEGIS_MACIE_RESULTS_SOURCES", broken("macie_results_export_only"))
        fails_on(results, "aws_kms_key.kms-audit_key_B1995AD3", "prod-data")
        fails_on(results, "aws_s3_bucket_policy.bucket-audit_policy_4C1CA738", "prod-data")


# ---- AEGIS_SAGEMAKER_MODEL_NAMED -----------------------------------------------------------------

def model_app(conf: dict):
    return app("prod", platform=resources(aws_sagemaker_model={"m": conf}))


class TestSageMakerModelNamed:
    @pytest.mark.parametrize("conf, fragment", [
        ({"vpc_config": {"subnets": ["s"]}}, "personas' model/aegis-prod-* scope"),
        ({"name": "aegis-prod-churn-1"}, "serverless rule"),
    ])
    def test_unnamed_or_misnamed_model_fails(self, conf, fragment):
        assert fragment in fails_on(run("AEGIS_SAGEMAKER_MODEL_NAMED", model_app(conf)), "aws_sagemaker_model.m")

    @pytest.mark.parametrize("conf", [
        {"name": "aegis-prod-fraud-1", "vpc_config": {"subnets": ["s"]}},
        {"name": "aegis-prod-serverless-churn-1"},
    ])
    def test_conventionally_named_model_passes(self, conf):
        results = run("AEGIS_SAGEMAKER_MODEL_NAMED", model_app(conf))
        assert verdict(results, "aws_sagemaker_model.m", "prod-platform"), failures(results)

    def test_models_as_synthesized_before_fire(self):
        results = run("AEGIS_SAGEMAKER_MODEL_NAMED", broken("sagemaker_models_unnamed"))
        assert len([r for r in results if not r.passed]) == 2
