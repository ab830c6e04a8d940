"""Amazon Inspector v2: vulnerability scanning of EC2 instances (GPU fleet), ECR images, Lambda
functions and Lambda code. Findings reach Security Hub through its Inspector integration."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.singletons import import_existing
from modules.naming import Naming

RESOURCE_TYPES = ("EC2", "ECR", "LAMBDA", "LAMBDA_CODE")


class Inspector(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, adopt: bool = False):
        """`adopt`: Inspector is already enabled; import the enabler (ID `<account>-<types, sorted, ':'>`)."""
        super().__init__(scope, construct_id)
        self.enabler = aws.inspector2_enabler.Inspector2Enabler(
            self, "enabler", account_ids=[naming.account_id], resource_types=list(RESOURCE_TYPES))
        import_existing(self.enabler, enabler_import_id(naming.account_id) if adopt else None)


def enabler_import_id(account_id: str) -> str:
    return f"{account_id}-{':'.join(sorted(RESOURCE_TYPES))}"
