"""The IAM service (action prefix) that manages each Terraform AWS resource type.

An SCP or a boundary allows or denies by action prefix (`kms:*`); Terraform speaks in resource types
(`aws_kms_key`). The longest matching type prefix decides; a type none of them covers has no known
service (None), so a judge built on this fails closed instead of guessing.
"""
from __future__ import annotations

# Resource type prefix → IAM action prefix. Longer prefixes win (aws_cloudwatch_log_ before aws_cloudwatch_).
_PREFIXES = {
    "aws_accessanalyzer_": "access-analyzer", "aws_account_": "account", "aws_appautoscaling_": "application-autoscaling",
    "aws_autoscaling_": "autoscaling", "aws_backup_": "backup", "aws_budgets_": "budgets", "aws_ce_": "ce",
    "aws_cloudfront_": "cloudfront", "aws_cloudtrail": "cloudtrail", "aws_cloudwatch_": "cloudwatch",
    "aws_cloudwatch_event_": "events", "aws_cloudwatch_log_": "logs", "aws_config_": "config",
    "aws_default_": "ec2", "aws_dynamodb_": "dynamodb", "aws_ebs_": "ec2", "aws_ec2_": "ec2", "aws_ecr_": "ecr",
    "aws_efs_": "elasticfilesystem", "aws_eip": "ec2", "aws_flow_log": "ec2", "aws_guardduty_": "guardduty",
    "aws_iam_": "iam", "aws_inspector2_": "inspector2", "aws_internet_gateway": "ec2", "aws_kms_": "kms",
    "aws_lambda_": "lambda", "aws_launch_template": "ec2", "aws_lb": "elasticloadbalancing",
    "aws_macie2_": "macie2", "aws_nat_gateway": "ec2", "aws_organizations_": "organizations",
    "aws_route": "ec2", "aws_route53": "route53", "aws_acm_": "acm", "aws_s3_": "s3", "aws_sagemaker_": "sagemaker", "aws_securityhub_": "securityhub",
    "aws_security_group": "ec2", "aws_shield_": "shield", "aws_signer_": "signer", "aws_sns_": "sns",
    "aws_sqs_": "sqs", "aws_ssm_": "ssm", "aws_subnet": "ec2", "aws_vpc": "ec2", "aws_wafv2_": "wafv2",
    "aws_ami": "ec2", "aws_availability_zones": "ec2", "aws_caller_identity": "sts", "aws_region": "ec2",
    "aws_xray_": "xray", "aws_db_": "rds", "aws_rds_": "rds",
}


def service_of(resource_type: str) -> str | None:
    """`aws_kms_key` → `kms`; a data source type works the same (without its `data.`)."""
    found = [prefix for prefix in _PREFIXES if resource_type.startswith(prefix)]
    return _PREFIXES[max(found, key=len)] if found else None
