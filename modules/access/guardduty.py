"""GuardDuty threat detection and routing of its findings to the alert topic.

The detector turns on every protection plan the architecture needs, as `aws_guardduty_detector_feature`
resources (the detector's `datasources` block is deprecated): S3 data events (datasets, model
artifacts), EBS malware scans (GPU fleet volumes), Lambda network activity (Lambda models) and,
where the region offers it, runtime monitoring with GuardDuty-managed agents for EC2.
An EventBridge rule sends findings at or above the configured severity to the alert topic.

GuardDuty is regional. When the environment uses its DR region (replication on), a second
detector watches the replicas there, and a rule forwards its findings to the primary region's
default event bus, where the same rule routes them to the alert topic (SNS targets must be in
the rule's region).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.access.settings import FINDING_SEVERITY, GuardDutySettings
from modules.boundary import boundary_arn
from modules.governance.singletons import import_existing
from modules.iam_doc import document, statement
from modules.naming import Naming
from modules.suppress import suppress

FEATURES = ("S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "LAMBDA_NETWORK_LOGS")
RUNTIME_FEATURE = "RUNTIME_MONITORING"
RUNTIME_AGENTS = ("EC2_AGENT_MANAGEMENT",)  # the serving fleet runs on EC2; no ECS or EKS here


def findings_pattern(min_severity: str) -> str:
    return json.dumps({
        "source": ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        "detail": {"severity": [{"numeric": [">=", FINDING_SEVERITY[min_severity]]}]},
    }, sort_keys=True)


def forwarder_trust(naming, rule_arn: str) -> str:
    return document(statement(
        "TrustEventBridgeForTheDrRule", "Allow", "sts:AssumeRole", principal={"Service": "events.amazonaws.com"},
        condition={"StringEquals": {"aws:SourceAccount": naming.account_id, "aws:SourceArn": rule_arn}}))


def forwarder_policy(bus_arn: str) -> str:
    return document(statement("PutEventsOnThePrimaryBus", "Allow", "events:PutEvents", bus_arn))


@dataclass(frozen=True)
class ThreatDetectionProps:
    """- `settings`: severity threshold, publishing frequency, runtime monitoring (`access.guardduty`);
    - `topic_arn`: the alert topic findings go to;
    - `existing_detector_ids`: region ("" primary, "-dr") → ID of a detector to adopt (`governance.adopt`);
    - `central`: an organisation manages GuardDuty for the account (`governance.central`): no detector here,
      the finding rules still route what GuardDuty publishes in this account."""

    naming: Naming
    settings: GuardDutySettings
    topic_arn: str
    existing_detector_ids: tuple[tuple[str, str], ...] = ()
    central: bool = False

    @classmethod
    def of(cls, config, topic_arn: str) -> "ThreatDetectionProps":
        adopt = config.governance.adopt
        existing = (("", adopt.guardduty_detector), ("-dr", adopt.guardduty_detector_dr))
        return cls(Naming.of(config), config.access.guardduty, topic_arn,
                   tuple((suffix, i) for suffix, i in existing if i is not None),
                   config.governance.is_central("guardduty"))


class ThreatDetection(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ThreatDetectionProps, *,
                 topic_dependency=None, dr_provider=None):
        """`topic_dependency`: what must exist before findings can be published to the topic (its
        policy). `dr_provider`: the DR region's provider; given when the environment uses its DR
        region (replication on), a second detector watches the replicas there."""
        super().__init__(scope, construct_id)
        naming, settings, topic_arn = props.naming, props.settings, props.topic_arn
        self.settings = settings
        self.existing = dict(props.existing_detector_ids)
        self.detector = self.dr_detector = None
        self.features: dict = {}
        if not props.central:
            self.detector, self.features = self._detector("")
        self.rule_name = naming.resource("guardduty-findings")
        self.rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "findings-rule", name=self.rule_name,
            description=f"GuardDuty findings of severity {settings.finding_min_severity} or above to the alert topic",
            event_pattern=findings_pattern(settings.finding_min_severity), state="ENABLED")
        self.target = aws.cloudwatch_event_target.CloudwatchEventTarget(
            self, "findings-to-alerts", rule=self.rule.name, target_id="alert-topic", arn=topic_arn,
            depends_on=[topic_dependency] if topic_dependency is not None else None)
        if dr_provider is not None:
            self._dr_region(naming, dr_provider, props.central)

    def _detector(self, suffix: str, provider=None):
        detector = aws.guardduty_detector.GuarddutyDetector(
            self, f"detector{suffix}", enable=True, finding_publishing_frequency=self.settings.publishing_frequency,
            provider=provider)
        import_existing(detector, self.existing.get(suffix), provider)
        f = aws.guardduty_detector_feature
        features = {
            name: f.GuarddutyDetectorFeature(self, name.lower().replace("_", "-") + suffix, detector_id=detector.id,
                                             name=name, status="ENABLED", provider=provider)
            for name in FEATURES
        }
        if self.settings.runtime_monitoring:
            features[RUNTIME_FEATURE] = f.GuarddutyDetectorFeature(
                self, f"runtime-monitoring{suffix}", detector_id=detector.id, name=RUNTIME_FEATURE, status="ENABLED",
                additional_configuration=[f.GuarddutyDetectorFeatureAdditionalConfiguration(name=a, status="ENABLED")
                                          for a in RUNTIME_AGENTS], provider=provider)
        # The reason names the protection plans this detector really enables (not EKS or RDS: none here).
        suppress(detector, "CKV2_AWS_3",
                 "Each environment enables its own detector in its own account and regions here, with the "
                 f"{', '.join(sorted(features))} protection plans; organisation-wide auto-enable belongs to the "
                 "GuardDuty delegated administrator account, outside this project", "2027-11-30")
        return detector, features

    def _dr_region(self, naming: Naming, provider, central: bool) -> None:
        if not central:
            self.dr_detector, self.dr_features = self._detector("-dr", provider)
        self.dr_rule_name = naming.resource("guardduty-findings-dr")
        rule_arn = f"arn:aws:events:{naming.dr_region}:{naming.account_id}:rule/{self.dr_rule_name}"
        self.primary_bus_arn = f"arn:aws:events:{naming.region}:{naming.account_id}:event-bus/default"
        self.forwarder = aws.iam_role.IamRole(
            self, "forwarder-role", name=naming.role("guardduty-forwarder"),
            description=f"EventBridge forwards {naming.dr_region} GuardDuty findings to {naming.region}",
            assume_role_policy=forwarder_trust(naming, rule_arn), permissions_boundary=boundary_arn(naming))
        policy = aws.iam_role_policy.IamRolePolicy(
            self, "forwarder-policy", name="put-events-primary-bus", role=self.forwarder.id,
            policy=forwarder_policy(self.primary_bus_arn))
        self.dr_rule = aws.cloudwatch_event_rule.CloudwatchEventRule(
            self, "findings-rule-dr", name=self.dr_rule_name, provider=provider,
            description=f"GuardDuty findings of {naming.dr_region} to the {naming.region} bus (and the alert topic)",
            event_pattern=findings_pattern(self.settings.finding_min_severity), state="ENABLED")
        aws.cloudwatch_event_target.CloudwatchEventTarget(
            self, "findings-to-primary-bus", rule=self.dr_rule.name, target_id="primary-bus",
            arn=self.primary_bus_arn, role_arn=self.forwarder.arn, provider=provider, depends_on=[policy])
