"""What the app manages outside the environment's own regions: CloudFront's regional parts.

CloudFront is global, but what it leans on is regional and must live in us-east-1: a CLOUDFRONT-scope
WAF web ACL, the log groups of WAF and standard logging v2 (with the vended log delivery), and the KMS
key those log groups are encrypted with. A region allow-list (the prod SCP, and the permission
boundary's region guard) must admit exactly those services there, or Aegis cannot manage (and its
personas cannot operate) its own edge.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from modules.iam_services import service_of

if TYPE_CHECKING:
    from modules.config import EnvConfig

EDGE_REGION = "us-east-1"
# Every resource type the platform creates in EDGE_REGION for a model behind CloudFront
# (modules/platform/edge_key.py, waf.py, cloudfront.py; a test holds the synthesized output to this list).
EDGE_RESOURCE_TYPES = (
    "aws_cloudwatch_log_delivery", "aws_cloudwatch_log_delivery_destination", "aws_cloudwatch_log_delivery_source",
    "aws_cloudwatch_log_group", "aws_kms_alias", "aws_kms_key", "aws_wafv2_ip_set",
    "aws_wafv2_web_acl", "aws_wafv2_web_acl_logging_configuration",
)


def managed_outside(config: "EnvConfig", allowed_regions: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Region outside `allowed_regions` → the IAM services the app manages resources of there."""
    if EDGE_REGION in allowed_regions or not any(
            m.serving == "ec2" and m.ec2_settings.cloudfront is not None for m in config.platform.models):
        return {}
    services = {service_of(rtype) for rtype in EDGE_RESOURCE_TYPES}
    assert None not in services, "every edge resource type has an IAM service (modules/iam_services.py)"
    return {EDGE_REGION: tuple(sorted(s for s in services if s))}
