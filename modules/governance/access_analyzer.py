"""IAM Access Analyzer: an account analyzer for resources shared outside the account, and (prod by
default) an unused-access analyzer for roles, keys and permissions nobody uses."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import AccessAnalyzerSettings
from modules.governance.singletons import import_existing
from modules.naming import Naming


class AccessAnalyzer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: AccessAnalyzerSettings,
                 tier: str, existing_name: str | None = None):
        """`existing_name`: the account's external-access analyzer to adopt (an account has one per region);
        its name is kept, since an analyzer cannot be renamed."""
        super().__init__(scope, construct_id)
        m = aws.accessanalyzer_analyzer
        self.external = m.AccessanalyzerAnalyzer(
            self, "external-access", analyzer_name=existing_name or naming.resource("external-access"), type="ACCOUNT")
        import_existing(self.external, existing_name)
        self.unused = None
        if settings.unused_access_for(tier):
            self.unused = m.AccessanalyzerAnalyzer(
                self, "unused-access", analyzer_name=naming.resource("unused-access"), type="ACCOUNT_UNUSED_ACCESS",
                configuration=m.AccessanalyzerAnalyzerConfiguration(
                    unused_access=m.AccessanalyzerAnalyzerConfigurationUnusedAccess(
                        unused_access_age=settings.unused_access_age_days)))
