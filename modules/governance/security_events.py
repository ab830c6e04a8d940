"""EventBridge rules that send what needs a human to the alert topic (created by `<env>-access`):
Security Hub findings at HIGH or CRITICAL (except those of services routed directly), AWS Config
non-compliance, Macie findings, and failed AWS Backup jobs.

The topic is addressed by its conventional ARN. Its policy must let events.amazonaws.com publish
for rules named `<prefix>-*` in this account; the audit key already lets EventBridge encrypt.
"""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.naming import Naming

SEVERITIES = ("CRITICAL", "HIGH")
# Findings these services send to the alert topic directly (GuardDuty: `<env>-access`, Macie: below);
# Security Hub imports them too, and alerting twice would train people to ignore alerts.
ROUTED_DIRECTLY = ("GuardDuty", "Macie")

# Rule name suffix → (description, event pattern).
PATTERNS: dict[str, tuple[str, dict]] = {
    "securityhub-high-findings": (
        "New Security Hub findings of HIGH or CRITICAL severity",
        {"source": ["aws.securityhub"], "detail-type": ["Security Hub Findings - Imported"],
         "detail": {"findings": {"Severity": {"Label": list(SEVERITIES)},
                                 "ProductName": [{"anything-but": list(ROUTED_DIRECTLY)}],
                                 "Workflow": {"Status": ["NEW"]}, "RecordState": ["ACTIVE"]}}}),
    "config-noncompliant": (
        "AWS Config rules that find a resource NON_COMPLIANT",
        {"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"],
         "detail": {"messageType": ["ComplianceChangeNotification"],
                    "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}}),
    "macie-findings": (
        "Macie findings (sensitive data found in the datasets or inference buckets)",
        {"source": ["aws.macie"], "detail-type": ["Macie Finding"]}),
    "backup-failures": (
        "AWS Backup and copy jobs that did not complete",
        {"source": ["aws.backup"], "detail-type": ["Backup Job State Change", "Copy Job State Change"],
         # PARTIAL: some of the resource was not copied or backed up (both job types have it).
         "detail": {"state": ["FAILED", "ABORTED", "EXPIRED", "PARTIAL"]}}),
}


def rule_name(naming: Naming, suffix: str) -> str:
    return naming.resource(suffix)


class SecurityEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming):
        super().__init__(scope, construct_id)
        topic = naming.alert_topic_arn()
        t = aws.cloudwatch_event_target
        self.rules = {}
        for suffix, (description, pattern) in PATTERNS.items():
            rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
                self, suffix, name=rule_name(naming, suffix), description=description,
                event_pattern=json.dumps(pattern, sort_keys=True), state="ENABLED")
            aws.cloudwatch_event_target.CloudwatchEventTarget(
                self, f"{suffix}-alert", rule=rule.name, target_id="alert-topic", arn=topic,
                retry_policy=t.CloudwatchEventTargetRetryPolicy(
                    maximum_event_age_in_seconds=86400, maximum_retry_attempts=185))
            self.rules[suffix] = rule
