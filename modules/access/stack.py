"""`<env>-access`: the Access Control and Monitoring pillar.

Persona roles, the CloudTrail trail with its log group, security metric filters and alarms,
per-model alarms, the alert topic, the dashboard, GuardDuty and, when configured, Organizations
SCPs. Resources of earlier stacks are found by naming convention (bucket names, key aliases, the
boundary ARN, model resource names), never by cross-stack reference.
"""
from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.access.alert_topic import AlertTopic
from modules.access.dashboard import Dashboard
from modules.access.guardduty import ThreatDetection
from modules.access.model_alarms import ModelAlarms
from modules.access.personas import PersonaRoles
from modules.access.scps import ServiceControlPolicies
from modules.access.security_alarms import SecurityAlarms
from modules.access.trail import Trail
from modules.config import EnvConfig
from modules.pillar_stack import PillarStack


class AccessStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "access")
        naming = self.naming
        self.personas = PersonaRoles(self, "personas", config=config)
        self.alerts = AlertTopic(self, "alerts", stack=self)
        topic = self.alerts.arn
        self.trail = Trail(self, "trail", stack=self)
        self.security_alarms = SecurityAlarms(self, "security-alarms", stack=self, log_group=self.trail.logs,
                                              topic_arn=topic)
        self.model_alarms = {m.name: ModelAlarms(self, f"model-{m.name}", stack=self, model=m, topic_arn=topic)
                             for m in config.platform.models}
        self.threat_detection = ThreatDetection(self, "guardduty", stack=self, topic_arn=topic,
                                                topic_dependency=self.alerts.policy)
        if config.access.organization.manage_scps:
            self.scps = ServiceControlPolicies(self, "scps", stack=self)

        alarm_arns = [naming.alarm_arn(n) for n in self.security_alarms.alarm_names.values()]
        alarm_arns += [naming.alarm_arn(m.composite_name) for m in self.model_alarms.values()]
        self.dashboard = Dashboard(
            self, "dashboard", stack=self, alarm_arns=alarm_arns, guardduty_rule=self.threat_detection.rule_name,
            lb_suffixes={name: m.lb_suffix for name, m in self.model_alarms.items() if m.lb_suffix})

        TerraformOutput(self, "alert-topic-arn", value=topic, description="SNS topic every alarm notifies")
        TerraformOutput(self, "trail-arn", value=self.trail.trail.arn)
        for persona, role in self.personas.roles.items():
            TerraformOutput(self, f"role-{persona}-arn", value=role.arn, description=f"{persona} persona role")
