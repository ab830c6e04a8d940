"""GuardDuty threat detection and routing of its findings to the alert topic.

The detector turns on every protection plan the architecture needs, as `aws_guardduty_detector_feature`
resources (the detector's `datasources` block is deprecated): S3 data events (datasets, model
artifacts), EBS malware scans (GPU fleet volumes), Lambda network activity (Lambda models) and,
where the region offers it, runtime monitoring with GuardDuty-managed agents for EC2.
An EventBridge rule sends findings at or above the configured severity to the alert topic.
"""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.access.settings import FINDING_SEVERITY
from policies.suppress import suppress

FEATURES = ("S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS")
RUNTIME_FEATURE = "RUNTIME_MONITORING"
RUNTIME_AGENTS = ("EC2_AGENT_MANAGEMENT",)  # the serving fleet runs on EC2; no ECS or EKS here


def findings_pattern(min_severity: str) -> str:
    return json.dumps({
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", FINDING_SEVERITY[min_severity]]}]},
    }, sort_keys=True)


class ThreatDetection(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stack, topic_arn: str, topic_dependency=None):
        super().__init__(scope, construct_id)
        naming, settings = stack.naming, stack.config.access.guardduty
        self.detector = aws.guardduty_detector.GuarddutyDetector(
            self, "detector", enable=True, finding_publishing_frequency=settings.publishing_frequency)
        suppress(self.detector, "CKV2_AWS_3",
                 "Each environment enables its own detector in its own account and region here, with every "
                 "protection plan; organisation-wide auto-enable belongs to the GuardDuty delegated "
                 "administrator account, outside this project", "2027-12-31")
        f = aws.guardduty_detector_feature
        self.features = {
            name: f.GuarddutyDetectorFeature(self, name.lower().replace("_", "-"), detector_id=self.detector.id,
                                             name=name, status="ENABLED")
            for name in FEATURES
        }
        if settings.runtime_monitoring:
            self.features[RUNTIME_FEATURE] = f.GuarddutyDetectorFeature(
                self, "runtime-monitoring", detector_id=self.detector.id, name=RUNTIME_FEATURE, status="ENABLED",
                additional_configuration=[f.GuarddutyDetectorFeatureAdditionalConfiguration(name=a, status="ENABLED")
                                          for a in RUNTIME_AGENTS])
        self.rule_name = naming.resource("guardduty-findings")
        self.rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "findings-rule", name=self.rule_name,
            description=f"GuardDuty findings of severity {settings.finding_min_severity} or above to the alert topic",
            event_pattern=findings_pattern(settings.finding_min_severity), state="ENABLED")
        self.target = aws.cloudwatch_event_target.CloudwatchEventTarget(
            self, "findings-to-alerts", rule=self.rule.name, target_id="alert-topic", arn=topic_arn,
            depends_on=[topic_dependency] if topic_dependency is not None else None)
