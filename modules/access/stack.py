"""`<env>-access`: the Access Control and Monitoring pillar.

Persona roles, the account's IAM password policy, the CloudTrail trail with its log group, security metric filters and alarms,
per-model alarms, the alert topic and its archive queue, the dashboard, GuardDuty and, when configured, Organizations
SCPs. Resources of earlier stacks are found by naming convention (bucket names, key aliases, the
boundary ARN, model resource names), never by cross-stack reference.
"""
from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.access.alert_archive import AlertArchive
from modules.access.alert_topic import AlertTopic, AlertTopicProps
from modules.access.approval_events import ApprovalEvents, ApprovalEventsProps
from modules.access.dashboard import Dashboard, DashboardProps
from modules.access.data_store_alarm import DataStoreCapacityAlarm
from modules.access.guardduty import ThreatDetection, ThreatDetectionProps
from modules.access.model_alarms import ModelAlarms, ModelAlarmsProps
from modules.access.password_policy import AccountPasswordPolicy
from modules.access.personas import PersonaRoles
from modules.access.scps import ScpProps, ServiceControlPolicies
from modules.access.security_alarms import SecurityAlarms, SecurityAlarmsProps
from modules.access.trail import Trail, TrailProps
from modules.config import EnvConfig
from modules.pillar_stack import PillarStack
from modules.training import DATA_STORE, package_group


class AccessStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "access")
        naming, settings = self.naming, config.access
        self.personas = PersonaRoles(self, "personas", config=config)
        self.password_policy = AccountPasswordPolicy(self, "password-policy",
                                                     prevent_destroy=config.tier == "prod")
        self.alerts = AlertTopic(self, "alerts", AlertTopicProps(naming, config.name, settings.alerts,
                                                                 settings.logs.retention_days, config.tier))
        topic = self.alerts.arn
        self.alert_archive = AlertArchive(self, "alert-archive", naming=naming, topic_arn=topic)
        self.trail = Trail(self, "trail", TrailProps.of(config))
        self.security_alarms = SecurityAlarms(self, "security-alarms", SecurityAlarmsProps(naming, config.name, topic),
                                              log_group=self.trail.logs)
        self.trail.watched_by(self.security_alarms.alarms.get("cloudtrail-changes"))
        self.model_alarms = {p.model_name: ModelAlarms(self, f"model-{p.model_name}", p)
                             for p in ModelAlarmsProps.per_model(config, topic)}
        training = config.platform.training
        self.data_store_alarm = DataStoreCapacityAlarm(
            self, "data-store-alarm", naming=naming, cluster_identifier=naming.resource(DATA_STORE), topic_arn=topic) \
            if training.enabled and training.data_store.enabled else None
        self.threat_detection = ThreatDetection(
            self, "guardduty", ThreatDetectionProps.of(config, topic),
            topic_dependency=self.alerts.policy,
            dr_provider=self.dr_provider if config.data.replication.enabled else None)
        groups = tuple(package_group(naming, m.name) for m in config.platform.models) \
            if config.platform.training.enabled else ()
        self.approval_events = ApprovalEvents(self, "model-approvals", ApprovalEventsProps(naming, groups, topic),
                                              topic_dependency=self.alerts.policy) if groups else None
        if settings.organization.manage_scps:
            self.scps = ServiceControlPolicies(self, "scps", ScpProps.of(config))

        alarm_arns = [naming.alarm_arn(n) for n in self.security_alarms.alarm_names.values()]
        alarm_arns += [naming.alarm_arn(m.composite_name) for m in self.model_alarms.values()]
        if self.approval_events:
            alarm_arns.append(naming.alarm_arn(self.approval_events.alarm_name))
        self.dashboard = Dashboard(self, "dashboard", DashboardProps(
            naming, config.name, config.tier, alarm_arns=tuple(alarm_arns),
            models=tuple(m.metrics for m in self.model_alarms.values()),
            guardduty_rule=self.threat_detection.rule_name, training=config.platform.training.enabled,
            data_store=naming.resource(DATA_STORE) if config.platform.training.enabled
            and config.platform.training.data_store.enabled else None))

        TerraformOutput(self, "alert-topic-arn", value=topic, description="SNS topic every alarm notifies")
        TerraformOutput(self, "trail-arn", value=self.trail.trail.arn)
        for persona, role in self.personas.roles.items():
            TerraformOutput(self, f"role-{persona}-arn", value=role.arn, description=f"{persona} persona role")
