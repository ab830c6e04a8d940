"""Amazon Inspector v2: vulnerability scanning of EC2 instances (GPU fleet), ECR images, Lambda
functions and Lambda code. Findings reach Security Hub through its Inspector integration."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.naming import Naming

RESOURCE_TYPES = ("EC2", "ECR", "LAMBDA", "LAMBDA_CODE")


class Inspector(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming):
        super().__init__(scope, construct_id)
        self.enabler = aws.inspector2_enabler.Inspector2Enabler(
            self, "enabler", account_ids=[naming.account_id], resource_types=list(RESOURCE_TYPES))
