"""AEGIS_CONFIG_RULE_KNOWN_VIOLATION for the rules that judge the training data store (RDS, Aurora) and the
internet gateway rule whose authorized VPC the pack receives at apply time."""
from __future__ import annotations

import json

import pytest

from tests.policies.app_checks.helpers import app, config, fails_on, failures, run, verdict

CHECK = "AEGIS_CONFIG_RULE_KNOWN_VIOLATION"
PROVIDER = {"aws": [{"region": "eu-west-1"}]}
PARAM = "InternetGatewayAuthorizedVpcOnlyParamAuthorizedVpcIds"
LOOKUP = "${data.aws_vpc.environment-vpc.id}"
TEMPLATE = "\n".join([
    "Parameters:", f"  {PARAM}:", "    Type: String",
    "Resources:", "  InternetGatewayAuthorizedVpcOnly:", "    Type: AWS::Config::ConfigRule", "    Properties:",
    "      Source: {Owner: AWS, SourceIdentifier: INTERNET_GATEWAY_AUTHORIZED_VPC_ONLY}",
    "      Scope: {ComplianceResourceTypes: [AWS::EC2::InternetGateway]}",
    f"      InputParameters: {{AuthorizedVpcIds: {{Ref: {PARAM}}}}}"])


def gateway_app(*, attached_to: str = "vpc", value: str | None = LOOKUP, lookup_tags: dict | None = None) -> dict:
    pack: dict = {"template_body": TEMPLATE}
    if value is not None:
        pack["input_parameter"] = [{"parameter_name": PARAM, "parameter_value": value}]
    governance = {"provider": PROVIDER, "resource": {"aws_config_conformance_pack": {"pci": pack}},
                  "data": {"aws_vpc": {"environment-vpc": {"tags": lookup_tags or {"Name": "aegis-dev-vpc"}}}}}
    platform = {"provider": PROVIDER, "resource": {
        "aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16", "tags": {"Name": "aegis-dev-vpc"}},
                    "other": {"cidr_block": "10.1.0.0/16", "tags": {"Name": "aegis-dev-other"}}},
        "aws_internet_gateway": {"igw": {"vpc_id": f"${{aws_vpc.{attached_to}.id}}"}}}}
    return app("dev", governance=governance, platform=platform)


class TestInternetGatewayAuthorizedVpcOnly:
    def test_gateway_of_the_looked_up_environment_vpc_passes(self):
        results = run(CHECK, gateway_app())
        assert verdict(results, "aws_config_conformance_pack.pci"), failures(results)

    def test_gateway_of_another_vpc_of_the_app_fails(self):
        message = fails_on(run(CHECK, gateway_app(attached_to="other")), "aws_config_conformance_pack.pci")
        assert "aws_internet_gateway.igw" in message and "aws_vpc.other" in message

    def test_without_the_input_parameter_every_gateway_fails(self):
        # AWS: without AuthorizedVpcIds every attached internet gateway is NON_COMPLIANT.
        assert "aws_internet_gateway.igw" in fails_on(run(CHECK, gateway_app(value=None)),
                                                      "aws_config_conformance_pack.pci")

    @pytest.mark.parametrize("value, tags", [("vpc-0123456789abcdef0", None), (LOOKUP, {"Name": "aegis-dev-nothing"})])
    def test_an_authorized_list_it_cannot_tie_to_the_app_fails_as_not_judged(self, value, tags):
        assert "not judged" in fails_on(run(CHECK, gateway_app(value=value, lookup_tags=tags)),
                                        "aws_config_conformance_pack.pci")


def rds_app(identifier: str, *, cluster: dict, instance: dict | None = None) -> dict:
    rule = {"source": {"owner": "AWS", "source_identifier": identifier}}
    platform = {"provider": PROVIDER, "resource": {
        "aws_rds_cluster": {"store": {"engine": "aurora-postgresql", **cluster}},
        "aws_rds_cluster_instance": {"store": {"cluster_identifier": "${aws_rds_cluster.store.id}",
                                               "instance_class": "db.serverless", **(instance or {})}}}}
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": {"r": rule}}}
    return app("dev", governance=governance, platform=platform)


@pytest.mark.parametrize("identifier, good, bad, fragment", [
    ("RDS_CLUSTER_DELETION_PROTECTION_ENABLED", {"deletion_protection": True}, {"deletion_protection": False},
     "deletion_protection"),
    ("RDS_CLUSTER_IAM_AUTHENTICATION_ENABLED", {"iam_database_authentication_enabled": True}, {},
     "iam_database_authentication_enabled"),
    ("RDS_STORAGE_ENCRYPTED", {"storage_encrypted": True}, {"storage_encrypted": False}, "storage_encrypted"),
])
def test_cluster_settings_the_rules_require(identifier, good, bad, fragment):
    ok = run(CHECK, rds_app(identifier, cluster=good))
    assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
    assert fragment in fails_on(run(CHECK, rds_app(identifier, cluster=bad)), "aws_config_config_rule.r")


def test_a_publicly_accessible_instance_fails_and_a_private_one_passes():
    assert verdict(run(CHECK, rds_app("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", cluster={},
                                      instance={"publicly_accessible": False})), "aws_config_config_rule.r")
    assert "publicly_accessible" in fails_on(
        run(CHECK, rds_app("RDS_INSTANCE_PUBLIC_ACCESS_CHECK", cluster={}, instance={"publicly_accessible": True})),
        "aws_config_config_rule.r")


def backup_app(identifier: str, *, cluster_tags: dict, resources: list[str]) -> dict:
    stacks = rds_app(identifier, cluster={"cluster_identifier": "aegis-dev-training-store", "tags": cluster_tags})
    stacks["dev-governance"]["resource"]["aws_backup_selection"] = {"tagged": {
        "plan_id": "${aws_backup_plan.plan.id}", "iam_role_arn": "r", "name": "aegis-dev-tagged", "resources": resources,
        "condition": [{"string_equals": [{"key": "aws:ResourceTag/Backup", "value": "aegis-dev"}]}]}}
    return stacks


CLUSTERS = "arn:aws:rds:eu-west-1:{account}:cluster:*"


@pytest.mark.parametrize("identifier", ["AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "RDS_IN_BACKUP_PLAN"])
def test_a_cluster_the_backup_selection_picks_passes_and_an_untagged_or_unlisted_one_fails(identifier):
    clusters = CLUSTERS.format(account=config("dev").account_id)
    ok = run(CHECK, backup_app(identifier, cluster_tags={"Backup": "aegis-dev"}, resources=[clusters]))
    assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
    for tags, listed in (({}, [clusters]), ({"Backup": "aegis-dev"}, ["arn:aws:dynamodb:eu-west-1:1:table/*"])):
        bad = run(CHECK, backup_app(identifier, cluster_tags=tags, resources=listed))
        assert "no AWS Backup selection" in fails_on(bad, "aws_config_config_rule.r")


def alarm_app(*, alarmed: str | None, resource_type: str = "AWS::RDS::DBCluster") -> dict:
    stacks = rds_app("CLOUDWATCH_ALARM_RESOURCE_CHECK", cluster={"cluster_identifier": "aegis-dev-training-store"})
    rule = stacks["dev-governance"]["resource"]["aws_config_config_rule"]["r"]
    rule["input_parameters"] = json.dumps({"resourceType": resource_type, "metricName": "ACUUtilization"})
    if alarmed is not None:
        stacks["dev-access"] = {"provider": PROVIDER, "resource": {"aws_cloudwatch_metric_alarm": {"capacity": {
            "metric_name": "ACUUtilization", "namespace": "AWS/RDS", "dimensions": {"DBClusterIdentifier": alarmed}}}}}
    return stacks


def test_a_cluster_with_an_alarm_on_the_metric_passes_and_one_without_fails():
    ok = run(CHECK, alarm_app(alarmed="aegis-dev-training-store"))
    assert verdict(ok, "aws_config_config_rule.r"), failures(ok)
    for alarmed in (None, "aegis-dev-other-cluster"):
        assert "no alarm on ACUUtilization" in fails_on(run(CHECK, alarm_app(alarmed=alarmed)), "aws_config_config_rule.r")
    assert "not judged" in fails_on(run(CHECK, alarm_app(alarmed="x", resource_type="AWS::S3::Bucket")),
                                    "aws_config_config_rule.r")


def bucket_app(*, tags: dict, resources: list[str], resource_tags: str | None = '{"Backup": "aegis-dev"}') -> dict:
    rule = {"source": {"owner": "AWS", "source_identifier": "S3_RESOURCES_PROTECTED_BY_BACKUP_PLAN"}}
    if resource_tags is not None:
        rule["input_parameters"] = json.dumps({"resourceTags": resource_tags})
    data = {"provider": PROVIDER, "resource": {"aws_s3_bucket": {
        "datasets": {"bucket": "aegis-dev-datasets", "tags": tags},
        "logs": {"bucket": "aegis-dev-access-logs", "tags": {}}}}}
    governance = {"provider": PROVIDER, "resource": {"aws_config_config_rule": {"r": rule}, "aws_backup_selection": {
        "tagged": {"plan_id": "p", "iam_role_arn": "r", "name": "aegis-dev-tagged", "resources": resources,
                   "condition": [{"string_equals": [{"key": "aws:ResourceTag/Backup", "value": "aegis-dev"}]}]}}}}
    return app("dev", governance=governance, data=data)


class TestS3ResourcesProtectedByBackupPlan:
    def test_tagged_bucket_the_selection_picks_passes(self):
        results = run(CHECK, bucket_app(tags={"Backup": "aegis-dev"}, resources=["arn:aws:s3:::*"]))
        assert verdict(results, "aws_config_config_rule.r"), failures(results)

    def test_tagged_bucket_outside_every_selection_fails(self):
        message = fails_on(run(CHECK, bucket_app(tags={"Backup": "aegis-dev"}, resources=["arn:aws:dynamodb:*"])),
                           "aws_config_config_rule.r")
        assert "aws_s3_bucket.datasets" in message and "aws_s3_bucket.logs" not in message

    def test_without_resource_tags_every_bucket_is_judged(self):
        message = fails_on(run(CHECK, bucket_app(tags={"Backup": "aegis-dev"}, resources=["arn:aws:s3:::*"],
                                                 resource_tags=None)), "aws_config_config_rule.r")
        assert "aws_s3_bucket.logs" in message and "aws_s3_bucket.datasets" not in message
