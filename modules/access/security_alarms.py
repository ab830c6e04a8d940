"""Metric filters on the trail's log group and an alarm for each security event (CIS AWS
Foundations 4.x patterns), plus one for every assumption of the break-glass `platform-admin` role.
Every alarm notifies the alert topic."""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.naming import Naming


@dataclass(frozen=True)
class SecurityEvent:
    key: str
    description: str
    pattern: str


def _any_event(names: list[str]) -> str:
    return " || ".join(f'($.eventName = "{n}")' for n in names)


def security_events(naming) -> list[SecurityEvent]:
    admin_role = naming.role_arn("platform-admin")
    return [
        SecurityEvent("unauthorized-api-calls", "API calls denied for missing authorization",
                      '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) '
                      '&& ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'),
        SecurityEvent("console-signin-without-mfa", "Console sign-in without MFA",
                      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") '
                      '&& ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'),
        SecurityEvent("root-account-use", "Use of the root account",
                      '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                      '&& $.eventType != "AwsServiceEvent" }'),
        SecurityEvent("iam-policy-changes", "IAM policy changes",
                      "{ " + _any_event([
                          "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy",
                          "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion",
                          "DeletePolicyVersion", "SetDefaultPolicyVersion", "AttachRolePolicy", "DetachRolePolicy",
                          "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy",
                          "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary",
                          "UpdateAssumeRolePolicy"]) + " }"),
        SecurityEvent("cloudtrail-changes", "CloudTrail configuration changes",
                      "{ " + _any_event(["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging",
                                         "PutEventSelectors", "PutInsightSelectors"]) + " }"),
        SecurityEvent("kms-key-disable-or-deletion", "KMS key disabled or scheduled for deletion",
                      '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "DisableKey") '
                      '|| ($.eventName = "ScheduleKeyDeletion")) }'),
        SecurityEvent("s3-bucket-policy-changes", "S3 bucket policy or ACL changes",
                      '{ ($.eventSource = "s3.amazonaws.com") && (' + _any_event([
                          "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
                          "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
                          "DeleteBucketReplication", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"])
                      + ") }"),
        SecurityEvent("security-group-changes", "Security group changes",
                      "{ " + _any_event(["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress",
                                         "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress",
                                         "CreateSecurityGroup", "DeleteSecurityGroup",
                                         "ModifySecurityGroupRules"]) + " }"),
        SecurityEvent("nacl-changes", "Network ACL changes",
                      "{ " + _any_event(["CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl",
                                         "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry",
                                         "ReplaceNetworkAclAssociation"]) + " }"),
        SecurityEvent("platform-admin-assumed", "Break-glass platform-admin role assumed",
                      '{ ($.eventSource = "sts.amazonaws.com") && ($.eventName = "AssumeRole*") '
                      f'&& ($.requestParameters.roleArn = "{admin_role}") }}'),
    ]


def metric_namespace(naming) -> str:
    return f"Aegis/{naming.env}/Security"


@dataclass(frozen=True)
class SecurityAlarmsProps:
    """- `env_name`: named in every alarm's description;
    - `topic_arn`: the alert topic every alarm notifies."""

    naming: Naming
    env_name: str
    topic_arn: str


class SecurityAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: SecurityAlarmsProps, *, log_group):
        """`log_group`: the trail's `EncryptedLogGroup`, which the metric filters read."""
        super().__init__(scope, construct_id)
        naming = props.naming
        f = aws.cloudwatch_log_metric_filter
        self.alarms = {}
        self.alarm_names = {}
        for event in security_events(naming):
            metric = "".join(w.capitalize() for w in event.key.split("-"))
            metric_filter = f.CloudwatchLogMetricFilter(
                self, f"{event.key}-filter", name=naming.resource(event.key), log_group_name=log_group.name,
                pattern=event.pattern, depends_on=[log_group.log_group],
                metric_transformation=f.CloudwatchLogMetricFilterMetricTransformation(
                    name=metric, namespace=metric_namespace(naming), value="1", default_value="0"))
            self.alarm_names[event.key] = naming.alarm("security", event.key)
            self.alarms[event.key] = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
                self, f"{event.key}-alarm", alarm_name=self.alarm_names[event.key],
                alarm_description=f"{event.description} in {props.env_name} (CloudTrail metric filter)",
                namespace=metric_namespace(naming), metric_name=metric, statistic="Sum", period=300,
                evaluation_periods=1, threshold=1, comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching", alarm_actions=[props.topic_arn],
                depends_on=[metric_filter])
