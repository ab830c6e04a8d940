"""Inspector scans EC2, ECR and Lambda (and Lambda code); Macie classifies the datasets and
inference buckets on the configured schedule; Access Analyzer watches external and unused access."""
from __future__ import annotations

import json

from policies.iam_eval import as_principal, kms_is_allowed


def test_inspector_resource_types(gov):
    _, enabler = gov.one("aws_inspector2_enabler")
    assert sorted(enabler["resource_types"]) == ["EC2", "ECR", "LAMBDA", "LAMBDA_CODE"]
    assert enabler["account_ids"] == [gov.config.account_id]


def test_macie_job_targets_the_datasets_and_inference_buckets(gov):
    account_name, account = gov.one("aws_macie2_account")
    assert account["status"] == "ENABLED"
    _, job = gov.one("aws_macie2_classification_job")
    definitions = job["s3_job_definition"]["bucket_definitions"]
    assert len(definitions) == 1 and definitions[0]["account_id"] == gov.config.account_id
    assert sorted(definitions[0]["buckets"]) == sorted(gov.naming.bucket(p) for p in ("datasets", "inference"))
    assert f"aws_macie2_account.{account_name}" in job["depends_on"]


def test_macie_schedule_from_config(gov):
    _, job = gov.one("aws_macie2_classification_job")
    settings = gov.settings.macie
    assert job["job_type"] == "SCHEDULED" and job["initial_run"] is True
    assert job["sampling_percentage"] == settings.sampling_percentage
    expected = {"daily": {"daily_schedule": True}, "weekly": {"weekly_schedule": settings.weekday},
                "monthly": {"monthly_schedule": settings.day_of_month}}[settings.schedule]
    assert job["schedule_frequency"] == expected
    if gov.config.tier == "prod":
        assert job["schedule_frequency"] == {"daily_schedule": True} and job["sampling_percentage"] == 100


def test_macie_can_decrypt_the_buckets_it_classifies(gov, data_stack):
    """Both buckets use customer-managed keys; without a key grant Macie reports every object unreadable.

    Macie reads through its service-linked role, whose AWS-managed policy grants nothing on customer
    managed keys: the key policy must name the role itself (delegating to the account is not enough)."""
    macie_role = (f"arn:aws:iam::{gov.config.account_id}:role/aws-service-role/macie.amazonaws.com/"
                  "AWSServiceRoleForAmazonMacie")
    aliases = {a["target_key_id"].split(".")[1]: a["name"] for a in data_stack["resource"]["aws_kms_alias"].values()}
    via_s3 = {"kms:ViaService": f"s3.{gov.config.region}.amazonaws.com"}
    for key_class in ("training", "inference"):
        name, key = next((name, k) for name, k in data_stack["resource"]["aws_kms_key"].items()
                         if aliases[name] == gov.naming.kms_alias(key_class))
        policy = json.loads(key["policy"])
        assert kms_is_allowed(policy, [], as_principal(macie_role, "kms:Decrypt", context=via_s3)), key_class
        assert not kms_is_allowed(policy, [], as_principal(macie_role, "kms:Encrypt", context=via_s3)), key_class
        # KMS refuses a policy naming a role that does not exist yet: the key waits for the role.
        (slr,) = [n for n, r in data_stack["resource"]["aws_iam_service_linked_role"].items()
                  if r["aws_service_name"] == "macie.amazonaws.com"]
        assert f"aws_iam_service_linked_role.{slr}" in key["depends_on"], name


def test_macie_results_kept_in_the_audit_bucket_with_the_audit_key(gov, data_stack):
    _, export = gov.one("aws_macie2_classification_export_configuration")
    destination = export["s3_destination"]
    assert destination["bucket_name"] == gov.naming.bucket("audit")
    assert destination["key_prefix"] == "macie/"
    lookup = destination["kms_key_arn"].split(".")[2]  # ${data.aws_kms_key.<id>.arn}
    assert gov.data("aws_kms_key")[lookup]["key_id"] == gov.naming.kms_alias_arn("audit")
    # The audit key lets this account's Macie export (and nothing broader) encrypt with it.
    aliases = {a["target_key_id"].split(".")[1]: a["name"] for a in data_stack["resource"]["aws_kms_alias"].values()}
    audit_key = next(k for name, k in data_stack["resource"]["aws_kms_key"].items()
                     if aliases[name] == gov.naming.kms_alias("audit"))
    (grant,) = [s for s in json.loads(audit_key["policy"])["Statement"] if s["Sid"] == "MacieDiscoveryResults"]
    assert grant["Principal"] == {"Service": "macie.amazonaws.com"}
    assert grant["Condition"]["StringEquals"]["aws:SourceAccount"] == gov.config.account_id
    # Results come from the export configuration and from each classification job (the daily job).
    region, account = gov.naming.region, gov.config.account_id
    assert grant["Condition"]["ArnLike"]["aws:SourceArn"] == [
        f"arn:aws:macie2:{region}:{account}:export-configuration:*",
        f"arn:aws:macie2:{region}:{account}:classification-job/*"]


def test_access_analyzers(gov):
    analyzers = {c["type"]: c for c in gov.res("aws_accessanalyzer_analyzer").values()}
    assert analyzers["ACCOUNT"]["analyzer_name"] == gov.naming.resource("external-access")
    if gov.config.tier == "prod":
        assert set(analyzers) == {"ACCOUNT", "ACCOUNT_UNUSED_ACCESS"}
        unused = analyzers["ACCOUNT_UNUSED_ACCESS"]["configuration"]["unused_access"]
        assert unused["unused_access_age"] == gov.settings.access_analyzer.unused_access_age_days
    else:
        assert set(analyzers) == {"ACCOUNT"}
