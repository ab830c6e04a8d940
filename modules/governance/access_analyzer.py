"""IAM Access Analyzer: an account analyzer for resources shared outside the account, and (prod by
default) an unused-access analyzer for roles, keys and permissions nobody uses."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import AccessAnalyzerSettings
from modules.naming import Naming


class AccessAnalyzer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: AccessAnalyzerSettings,
                 tier: str):
        super().__init__(scope, construct_id)
        m = aws.accessanalyzer_analyzer
        self.external = m.AccessanalyzerAnalyzer(
            self, "external-access", analyzer_name=naming.resource("external-access"), type="ACCOUNT")
        self.unused = None
        if settings.unused_access_for(tier):
            self.unused = m.AccessanalyzerAnalyzer(
                self, "unused-access", analyzer_name=naming.resource("unused-access"), type="ACCOUNT_UNUSED_ACCESS",
                configuration=m.AccessanalyzerAnalyzerConfiguration(
                    unused_access=m.AccessanalyzerAnalyzerConfigurationUnusedAccess(
                        unused_access_age=settings.unused_access_age_days)))
