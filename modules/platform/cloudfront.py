"""Optional CloudFront in front of a fleet's ALB.

The ALB stays internal: CloudFront reaches it through a VPC origin, over HTTPS only (TLS 1.2),
using a name on the ALB certificate. Viewers: HTTPS only, TLSv1.2_2021 minimum with the us-east-1
certificate from config, optional geo restriction, a strict security-headers policy, no caching
(inference responses are per request). A CLOUDFRONT-scope WAF web ACL (in us-east-1) guards it.

Logging: CloudFront standard logging v2 (CloudWatch Logs vended delivery) into an encrypted log
group in us-east-1. Legacy standard logging writes through S3 ACLs, which the project's buckets
disable (BucketOwnerEnforced), so the v2 delivery is the one that works with them.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.platform.alb import ModelLoadBalancer
from modules.platform.context import PlatformContext
from modules.platform.edge_key import EDGE_REGION
from modules.platform.log_group import encrypted_log_group
from modules.platform.settings import ModelSettings
from modules.platform.waf import WebAcl
from modules.suppress import suppress

# AWS managed policies (IDs are global constants).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ORIGIN_ID = "alb"
HSTS_SECONDS = 31536000
# An API answers JSON: nothing may be framed, scripted or loaded from its responses.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def security_headers_policy(scope: Construct, construct_id: str, name: str):
    r = aws.cloudfront_response_headers_policy
    s = "CloudfrontResponseHeadersPolicySecurityHeadersConfig"
    return r.CloudfrontResponseHeadersPolicy(
        scope, construct_id, name=f"{name}-security-headers", comment="HSTS, no sniffing, no framing, no referrer",
        security_headers_config=getattr(r, s)(
            strict_transport_security=getattr(r, f"{s}StrictTransportSecurity")(
                access_control_max_age_sec=HSTS_SECONDS, include_subdomains=True, preload=True, override=True),
            content_type_options=getattr(r, f"{s}ContentTypeOptions")(override=True),
            frame_options=getattr(r, f"{s}FrameOptions")(frame_option="DENY", override=True),
            referrer_policy=getattr(r, f"{s}ReferrerPolicy")(referrer_policy="no-referrer", override=True),
            content_security_policy=getattr(r, f"{s}ContentSecurityPolicy")(content_security_policy=API_CSP,
                                                                            override=True)),
        remove_headers_config=r.CloudfrontResponseHeadersPolicyRemoveHeadersConfig(
            items=[r.CloudfrontResponseHeadersPolicyRemoveHeadersConfigItems(header="Server")]))


class CloudFrontFront(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 alb: ModelLoadBalancer, edge_key_arn: str):
        super().__init__(scope, construct_id)
        cf = model.ec2_settings.cloudfront
        assert cf is not None, f"model {model.name} has no cloudfront section"
        n = ctx.naming
        name = n.model_resource(model.name)
        self.web_acl = WebAcl(self, "waf", name=f"{name}-edge", scope_="CLOUDFRONT",
                              rate_limit=cf.rate_limit_per_5_minutes, log_key_arn=edge_key_arn,
                              log_retention_days=ctx.log_retention_days,
                              protected=ctx.deletion_protection, region=EDGE_REGION)
        v = aws.cloudfront_vpc_origin
        self.vpc_origin = v.CloudfrontVpcOrigin(
            self, "vpc-origin", tags={"Model": model.name},
            vpc_origin_endpoint_config=[v.CloudfrontVpcOriginVpcOriginEndpointConfig(
                name=name, arn=alb.load_balancer_arn, http_port=80, https_port=443,
                origin_protocol_policy="https-only",
                origin_ssl_protocols=[v.CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols(
                    items=["TLSv1.2"], quantity=1)])])
        self.headers_policy = security_headers_policy(self, "security-headers", name)
        d = aws.cloudfront_distribution
        geo = (d.CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="whitelist",
                                                                  locations=list(cf.allowed_countries))
               if cf.allowed_countries else d.CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none"))
        self.distribution = d.CloudfrontDistribution(
            self, "distribution", enabled=True, comment=f"{name}: inference API", aliases=list(cf.aliases),
            price_class=cf.price_class, http_version="http2and3", is_ipv6_enabled=True,
            web_acl_id=self.web_acl.arn, wait_for_deployment=False,
            origin=[d.CloudfrontDistributionOrigin(
                origin_id=ORIGIN_ID, domain_name=cf.origin_domain_name,
                vpc_origin_config=d.CloudfrontDistributionOriginVpcOriginConfig(
                    vpc_origin_id=self.vpc_origin.id, origin_keepalive_timeout=5, origin_read_timeout=60))],
            default_cache_behavior=d.CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ORIGIN_ID, viewer_protocol_policy="https-only",
                allowed_methods=["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"],
                cached_methods=["GET", "HEAD"], compress=True, cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST_HEADER,
                response_headers_policy_id=self.headers_policy.id),
            restrictions=d.CloudfrontDistributionRestrictions(geo_restriction=geo),
            viewer_certificate=d.CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=cf.certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021"),
            tags={"Model": model.name})
        # The distribution serves no root object (default_root_object is never set).
        suppress(self.distribution, "CKV_AWS_305",
                 "An inference API, not a website: there is no root document to serve; the model server "
                 "answers every path itself", "2027-11-30")
        if alb.zones >= 2:
            suppress(self.distribution, "CKV_AWS_310",
                     "The single origin is a multi-AZ ALB over an Auto Scaling group in every private subnet; "
                     "a second origin would need a second region's fleet", "2027-11-30")
        self._access_logs(ctx, name, edge_key_arn)

    def _access_logs(self, ctx: PlatformContext, name: str, edge_key_arn: str) -> None:
        group = encrypted_log_group(self, "access-log-group", name=f"/aws/cloudfront/{name}",
                                    kms_key_arn=edge_key_arn, retention_days=ctx.log_retention_days,
                                    protected=ctx.deletion_protection,
                                    region=EDGE_REGION)
        source = aws.cloudwatch_log_delivery_source.CloudwatchLogDeliverySource(
            self, "access-log-source", name=f"{name}-cloudfront", log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn, region=EDGE_REGION)
        dd = aws.cloudwatch_log_delivery_destination
        destination = dd.CloudwatchLogDeliveryDestination(
            self, "access-log-destination", name=f"{name}-cloudfront", output_format="json", region=EDGE_REGION,
            delivery_destination_configuration=[dd.CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                destination_resource_arn=group.arn)])
        self.access_log_delivery = aws.cloudwatch_log_delivery.CloudwatchLogDelivery(
            self, "access-log-delivery", delivery_source_name=source.name,
            delivery_destination_arn=destination.arn, region=EDGE_REGION)
        # Only now that the delivery exists is the reason true.
        suppress(self.distribution, "CKV_AWS_86",
                 "Access logs use CloudFront standard logging v2 (aws_cloudwatch_log_delivery into a KMS-encrypted "
                 "log group), not the legacy logging_config that needs S3 ACLs the project's buckets disable",
                 "2027-11-30")
