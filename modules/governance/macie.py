"""Amazon Macie: sensitive-data discovery over the datasets and inference buckets.

A scheduled classification job inspects the buckets (new objects after the first full run). The
data keys of both buckets let Macie's service-linked role decrypt (modules/data/key_policy.py).

Managed data identifiers: the job uses Macie's RECOMMENDED set, the AWS-maintained default that
covers credentials (AWS secret keys, SSH/PGP/PKCS private keys) and personal data (national IDs,
passport, driver's licence, tax and bank numbers, payment cards). The AWS provider cannot select
identifiers yet (hashicorp/terraform-provider-aws#21952); when it can, pin the list here.

Results: every discovery result is written to the object-locked audit bucket under `macie/`,
encrypted with the audit key (the bucket and key policies admit only this account's Macie export).

Findings: policy findings are published to Security Hub by Macie's integration (subscribed in
security_hub.py); sensitive-data findings also reach the alert topic through EventBridge
(security_events.py), because the provider has no resource for Macie's publication settings.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import MacieSettings
from modules.governance.singletons import import_existing
from modules.naming import Naming

CLASSIFIED_BUCKETS = ("datasets", "inference")
RESULTS_PREFIX = "macie/"  # the audit bucket policy lets macie.amazonaws.com write here only


class Macie(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, settings: MacieSettings,
                 audit_key_arn: str, adopt: bool = False, central: bool = False):
        """`adopt`: Macie is already enabled; import its session (by the account ID). `central`: an administrator
        account manages Macie for this one; the job and the results repository stay this account's own."""
        super().__init__(scope, construct_id)
        self.account = None
        if not central:
            self.account = aws.macie2_account.Macie2Account(
                self, "account", status="ENABLED",
                finding_publishing_frequency=settings.finding_publishing_frequency)
            import_existing(self.account, naming.account_id if adopt else None)
        enabled = [self.account] if self.account is not None else None
        m = aws.macie2_classification_job
        self.buckets = sorted(naming.bucket(purpose) for purpose in CLASSIFIED_BUCKETS)
        self.job = m.Macie2ClassificationJob(
            self, "classification-job",
            name=naming.resource("sensitive-data"),
            description="Scheduled sensitive-data discovery (PII, credentials) in the datasets and inference buckets",
            job_type="SCHEDULED",
            schedule_frequency=self._schedule(settings),
            initial_run=True,  # the first run classifies what is already stored, later runs new objects
            sampling_percentage=settings.sampling_percentage,
            s3_job_definition=m.Macie2ClassificationJobS3JobDefinition(
                bucket_definitions=[m.Macie2ClassificationJobS3JobDefinitionBucketDefinitions(
                    account_id=naming.account_id, buckets=self.buckets)]),
            depends_on=enabled)
        # Results repository: every discovery result is kept in the object-locked audit bucket,
        # encrypted with the audit key (otherwise Macie keeps results for 90 days only).
        e = aws.macie2_classification_export_configuration
        self.results = e.Macie2ClassificationExportConfiguration(
            self, "results-repository", depends_on=enabled,
            s3_destination=e.Macie2ClassificationExportConfigurationS3Destination(
                bucket_name=naming.bucket("audit"), key_prefix=RESULTS_PREFIX, kms_key_arn=audit_key_arn))

    @staticmethod
    def _schedule(settings: MacieSettings):
        m = aws.macie2_classification_job
        if settings.schedule == "daily":
            return m.Macie2ClassificationJobScheduleFrequency(daily_schedule=True)
        if settings.schedule == "weekly":
            return m.Macie2ClassificationJobScheduleFrequency(weekly_schedule=settings.weekday)
        return m.Macie2ClassificationJobScheduleFrequency(monthly_schedule=settings.day_of_month)
