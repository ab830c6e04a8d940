"""CKV_AEGIS_23: no Security Hub product subscription for an AWS service integration."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.checks.securityhub_aws_product_subscription import check as product
from tests.policies.checks.helpers import FAILED, PASSED, scan

BROKEN = Path(__file__).resolve().parent.parent / "fixtures" / "broken" / "securityhub_aws_product_subscriptions.json"
RTYPE = "aws_securityhub_product_subscription"


@pytest.mark.parametrize("arn", [
    "arn:aws:securityhub:eu-west-1::product/crowdstrike/crowdstrike-falcon",
    "arn:aws:securityhub:eu-west-1:123456789012:product/paloaltonetworks/vm-series",
])
def test_third_party_product_passes(arn):
    assert scan(product, RTYPE, {"product_arn": arn}) == PASSED


@pytest.mark.parametrize("arn", [
    "arn:aws:securityhub:eu-west-1::product/aws/guardduty", "arn:aws:securityhub:us-east-1::product/aws/access-analyzer",
    "${data.aws_securityhub_product.x.arn}", "not-an-arn",
])
def test_aws_integration_or_unjudgeable_arn_fails(arn):
    assert scan(product, RTYPE, {"product_arn": arn}) == FAILED


def test_fires_on_every_subscription_synthesized_before_the_fix():
    subscriptions = json.loads(BROKEN.read_text())["stacks"]["prod-governance"]["resource"][RTYPE]
    assert len(subscriptions) == 4
    for conf in subscriptions.values():
        assert scan(product, RTYPE, conf) == FAILED
