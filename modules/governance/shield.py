"""Shield Advanced for the environment's internet-facing load balancers and CloudFront
distributions, only when the environment enables it.

It costs about 3,000 USD a month per organization with a one-year commitment, so synth prints a
cost note (stderr only: the synthesized JSON stays the same). The protected resources are found at
plan time by the environment's tags (Project, Environment come from the provider's default tags),
so this stack needs no reference into `<env>-platform`: ALBs in the environment's region that are
not internal, and CloudFront distributions (a global service, looked up in us-east-1).
"""
from __future__ import annotations

import sys

from cdktf import TerraformIterator, TerraformLocal, Token
from constructs import Construct

from modules import aws
from modules.naming import Naming

COST_NOTE = ("note: {env}: Shield Advanced is enabled. It costs about 3,000 USD per month per AWS organization "
             "with a one-year commitment (auto-renewed), plus data-transfer fees for protected resources. "
             "Set governance.shield.enabled: false to turn it off.")
CLOUDFRONT_REGION = "us-east-1"


def _tag_filters(naming: Naming, project: str):
    m = aws.data_aws_resourcegroupstaggingapi_resources
    return [m.DataAwsResourcegroupstaggingapiResourcesTagFilter(key="Project", values=[project]),
            m.DataAwsResourcegroupstaggingapiResourcesTagFilter(key="Environment", values=[naming.env])]


def _address(data_source) -> str:
    """The Terraform address of a data source, for use inside a `for` expression."""
    return f"data.{data_source.terraform_resource_type}.{data_source.friendly_unique_id}"


class ShieldAdvanced(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, project: str,
                 protect_load_balancers: bool, protect_cloudfront: bool):
        super().__init__(scope, construct_id)
        print(COST_NOTE.format(env=naming.env), file=sys.stderr)
        self.subscription = aws.shield_subscription.ShieldSubscription(
            self, "subscription", auto_renew="ENABLED",
            skip_destroy=True)  # the commitment cannot be cancelled early: destroy only forgets it
        lookup = aws.data_aws_resourcegroupstaggingapi_resources.DataAwsResourcegroupstaggingapiResources
        self.protections = {}
        if protect_load_balancers:
            tagged = lookup(self, "load-balancers", resource_type_filters=["elasticloadbalancing:loadbalancer"],
                            tag_filter=_tag_filters(naming, project))
            albs = TerraformLocal(self, "application-load-balancers", (
                "${toset([for r in " + _address(tagged) + ".resource_tag_mapping_list : r.resource_arn"
                " if strcontains(r.resource_arn, \":loadbalancer/app/\")])}"))
            each_alb = TerraformIterator.from_list(albs.as_list)
            details = aws.data_aws_lb.DataAwsLb(self, "load-balancer-details", for_each=each_alb,
                                             arn=Token.as_string(each_alb.value))
            internet_facing = TerraformLocal(self, "internet-facing-load-balancers", (
                "${{for arn, lb in " + _address(details) + " : arn => lb.name if !lb.internal}}"))
            self.protections["load-balancer"] = self._protect("load-balancer-protection", internet_facing, "alb")
        if protect_cloudfront:
            tagged = lookup(self, "distributions", resource_type_filters=["cloudfront:distribution"],
                            tag_filter=_tag_filters(naming, project), region=CLOUDFRONT_REGION)
            distributions = TerraformLocal(self, "cloudfront-distributions", (
                "${{for r in " + _address(tagged) + ".resource_tag_mapping_list :"
                " r.resource_arn => element(split(\"/\", r.resource_arn), 1)}}"))
            self.protections["cloudfront"] = self._protect("cloudfront-protection", distributions, "cloudfront")

    def _protect(self, construct_id: str, arn_to_label: TerraformLocal, kind: str):
        """One protection per discovered resource (a map of ARN → short label)."""
        each = TerraformIterator.from_map(arn_to_label.as_string_map)
        return aws.shield_protection.ShieldProtection(
            self, construct_id, for_each=each, resource_arn=Token.as_string(each.key),
            name=f"{kind}-{Token.as_string(each.value)}",
            depends_on=[self.subscription])
