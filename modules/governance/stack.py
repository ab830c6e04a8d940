"""`<env>-governance`: the Continuous Security Enhancement pillar.

Compliance evaluation (AWS Config recorder, managed rules, conformance packs), security posture
(Security Hub, Inspector, Macie, Access Analyzer, optional Shield Advanced, alert routing), cost
guardrails (budget, cost anomaly detection) and backup. Applied last: it refers to the audit
bucket and keys of `<env>-data` and the alert topic of `<env>-access` by their conventional names.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.governance.access_analyzer import AccessAnalyzer
from modules.governance.backup import Backup
from modules.governance.budgets import CostBudget
from modules.governance.config_recorder import ConfigRecorder
from modules.governance.config_rules import ManagedConfigRules
from modules.governance.conformance_packs import ConformancePacks
from modules.governance.cost_anomaly import CostAnomalyDetection
from modules.governance.inspector import Inspector
from modules.governance.macie import Macie
from modules.governance.security_contact import SecurityContact
from modules.governance.security_events import SecurityEvents
from modules.governance.security_hub import SecurityHub
from modules.governance.shield import ShieldAdvanced
from modules.lookups import data_key_arn
from modules.pillar_stack import PillarStack
from modules.training import studio_personas

AUDIT = "audit"  # Config delivery and the backup vault use the audit key class


class GovernanceStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "governance")
        settings, naming, tier = config.governance, self.naming, config.tier
        audit_key = data_key_arn(self, AUDIT)

        adopt = settings.adopt
        # Services an organisation manages for this account (governance.central) are not created here.
        self.config_recorder = None
        recording = None
        if not settings.is_central("config"):
            self.config_recorder = ConfigRecorder(self, "config", naming=naming, settings=settings.recorder,
                                                  audit_key_arn=audit_key, adopt=adopt)
            recording = [self.config_recorder.status]
        frequency = settings.rules.periodic_frequency
        self.config_rules = ManagedConfigRules(self, "config-rules", naming=naming, tier=tier,
                                               periodic_frequency=frequency, depends_on=recording)
        self.conformance_packs = ConformancePacks(self, "conformance", naming=naming,
                                                  frameworks=list(config.compliance),
                                                  periodic_frequency=frequency, depends_on=recording)

        self.inspector = None
        if not settings.is_central("inspector"):
            self.inspector = Inspector(self, "inspector", naming=naming, adopt=bool(adopt.inspector))
        self.macie = Macie(self, "macie", naming=naming, settings=settings.macie, audit_key_arn=audit_key,
                           adopt=bool(adopt.macie_account), central=settings.is_central("macie"))
        self.security_hub = None
        if not settings.is_central("securityhub"):
            self.security_hub = SecurityHub(self, "security-hub", naming=naming, frameworks=list(config.compliance),
                                            adopt=bool(adopt.securityhub_account))
        self.access_analyzer = AccessAnalyzer(self, "access-analyzer", naming=naming,
                                              settings=settings.access_analyzer, tier=tier,
                                              existing_name=adopt.access_analyzer)
        self.shield = None
        if settings.shield.enabled:
            self.shield = ShieldAdvanced(self, "shield", naming=naming, project=config.project,
                                         protect_load_balancers=settings.shield.protect_load_balancers,
                                         protect_cloudfront=settings.shield.protect_cloudfront)
        self.security_events = SecurityEvents(self, "security-events", naming=naming)
        self.security_contact = SecurityContact(self, "security-contact", settings=settings.security_contact) \
            if settings.security_contact is not None else None

        self.budget = CostBudget(self, "budget", naming=naming, settings=settings.budget, tier=tier)
        self.cost_anomaly = CostAnomalyDetection(self, "cost-anomaly", naming=naming, settings=settings.cost_anomaly)

        copies = settings.backup.copies_to_dr(tier)
        self.backup = Backup(self, "backup", naming=naming, settings=settings.backup, tier=tier,
                             vault_key_arn=audit_key, dr_vault_key_arn=self._dr_vault_key() if copies else None,
                             dr_provider=self.dr_provider if copies else None,
                             studio_home=bool(studio_personas(config)))

    def _dr_vault_key(self) -> str:
        """ARN of the DR-region audit key, created by `<env>-data` with replication (settings.py makes
        DR copies require it, so every DR key has one owner). AWS Backup needs the key ARN, not an alias."""
        return aws.data_aws_kms_key.DataAwsKmsKey(
            self, f"kms-{AUDIT}-dr", key_id=self.naming.kms_alias_arn(AUDIT, self.config.dr_region),
            provider=self.dr_provider).arn
