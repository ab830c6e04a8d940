"""The AWS Config rules an app deploys, as AWS will evaluate them: standalone `aws_config_config_rule`s and the
rules of `aws_config_conformance_pack` templates, with their scope (resource types, tag, resource id), region
and parameters (pack parameters resolved to their defaults and input values), and which of the app's
resources each rule evaluates. Shared by the checks that judge deployed rules against the app's resources.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from policies.app_checks.lookups import effective_tags, region_of
from policies.app_checks.view import Env, Stack, nested, one
from policies.checks.aegis_values import as_list, document

GLOBAL_TYPES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"}  # recorded once, in the home region
CFN_TYPES = {"aws_iam_role": "AWS::IAM::Role", "aws_iam_user": "AWS::IAM::User", "aws_iam_group": "AWS::IAM::Group",
             "aws_sagemaker_model": "AWS::SageMaker::Model", "aws_s3_bucket": "AWS::S3::Bucket",
             "aws_backup_vault": "AWS::Backup::BackupVault", "aws_vpc": "AWS::EC2::VPC",
             "aws_default_security_group": "AWS::EC2::SecurityGroup",
             "aws_lb": "AWS::ElasticLoadBalancingV2::LoadBalancer", "aws_backup_plan": "AWS::Backup::BackupPlan",
             "aws_cloudwatch_metric_alarm": "AWS::CloudWatch::Alarm", "aws_rds_cluster": "AWS::RDS::DBCluster",
             "aws_rds_cluster_instance": "AWS::RDS::DBInstance", "aws_db_instance": "AWS::RDS::DBInstance",
             "aws_internet_gateway": "AWS::EC2::InternetGateway",
             "aws_internet_gateway_attachment": "AWS::EC2::InternetGateway", "aws_sns_topic": "AWS::SNS::Topic",
             "aws_cloudwatch_log_group": "AWS::Logs::LogGroup"}


@dataclass(frozen=True)
class DeployedRule:
    identifier: str
    region: str | None
    resource_types: tuple[str, ...] = ()
    tag_key: str | None = None
    tag_value: str | None = None
    resource_id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    stack: Stack | None = field(default=None, compare=False)  # where the rule is deployed (resolves its references)


@dataclass(frozen=True)
class Target:
    stack: Stack
    rtype: str
    name: str
    conf: dict

    @property
    def label(self) -> str:
        return f"{self.stack.name}/{self.rtype}.{self.name}"


# ---- reading the deployed rules ----------------------------------------------------------------

def standalone_rule(stack: Stack, conf: dict) -> DeployedRule:
    source = one(conf, "source") or {}
    scope = one(conf, "scope") or {}
    parameters = document(conf.get("input_parameters")) or {}
    return DeployedRule(str(source.get("source_identifier", "")), region_of(stack, conf),
                        tuple(as_list(scope.get("compliance_resource_types"))), scope.get("tag_key"),
                        scope.get("tag_value"), scope.get("compliance_resource_id"), parameters, stack)


def pack_rules(stack: Stack, conf: dict) -> tuple[list[DeployedRule], str | None]:
    try:
        template = yaml.safe_load(conf.get("template_body") or "")
    except yaml.YAMLError:
        template = None
    if not isinstance(template, dict) or "${" in str(conf.get("template_body")):
        return [], "template_body is not a literal template: its rules are not judged"
    defaults = {k: (v or {}).get("Default") for k, v in (template.get("Parameters") or {}).items()}
    for given in nested(conf, "input_parameter"):
        defaults[given.get("parameter_name")] = given.get("parameter_value")
    region = region_of(stack, conf)
    rules = []
    for resource in (template.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Config::ConfigRule":
            continue
        props = resource.get("Properties") or {}
        scope = props.get("Scope") or {}
        parameters = {k: defaults.get(v["Ref"]) if isinstance(v, dict) and "Ref" in v else v
                      for k, v in (props.get("InputParameters") or {}).items()}
        rules.append(DeployedRule(str((props.get("Source") or {}).get("SourceIdentifier", "")), region,
                                  tuple(as_list(scope.get("ComplianceResourceTypes"))), scope.get("TagKey"),
                                  scope.get("TagValue"), scope.get("ComplianceResourceId"), parameters, stack))
    return rules, None


# ---- which resources a rule evaluates ------------------------------------------------------------

def in_scope(rule: DeployedRule, target: Target) -> bool:
    cfn = CFN_TYPES.get(target.rtype, "")
    if rule.resource_types and cfn not in rule.resource_types:
        return False
    if cfn not in GLOBAL_TYPES and region_of(target.stack, target.conf) != rule.region:
        return False
    if not tags_in_scope(rule, effective_tags(target.stack, target.conf)):
        return False
    if rule.resource_id is not None:
        return rule.resource_id in (target.conf.get("name"), target.conf.get("bucket"))
    return True


def targets(env: Env, rtypes: tuple[str, ...], rule: DeployedRule) -> Iterator[Target]:
    for rtype in rtypes:
        for stack, name, conf in env.resources(rtype):
            target = Target(stack, rtype, name, conf)
            if in_scope(rule, target):
                yield target


def tags_in_scope(rule: DeployedRule, tags: dict) -> bool:
    """Whether a resource with these tags is within the rule's tag scope (TagKey, TagValue)."""
    if rule.tag_key is None:
        return True
    return rule.tag_key in tags and (rule.tag_value is None or tags[rule.tag_key] == rule.tag_value)


def wanted_tags(rule: DeployedRule) -> dict[str, str] | None:
    """The rule's `resourceTags` parameter (a JSON map of tags the resources it checks carry); {} when not given,
    None when it is not a literal map of strings."""
    raw = rule.parameters.get("resourceTags")
    wanted = document(raw) if raw is not None else {}
    if not isinstance(wanted, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in wanted.items()):
        return None
    return wanted
