"""The account's IAM password policy.

People reach Aegis through federated personas, not IAM users, yet an account without a password
policy keeps the weak IAM default for any console user someone creates later, and AWS Config's
IAM_PASSWORD_POLICY (in the HIPAA, NIST and PCI packs) reports the default policy NON_COMPLIANT. The
values are the rule's documented defaults, which the packs also pass: 14 characters of all four
classes, no reuse of the last 24, expiry after 90 days. The gate (AEGIS_CONFIG_RULE_KNOWN_VIOLATION)
compares this policy with every deployed IAM_PASSWORD_POLICY rule.

An account has one password policy: applying replaces whatever was there, and destroying the access
stack reverts the account to IAM's defaults, so prod keeps it with `prevent_destroy`.
"""
from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws

MINIMUM_LENGTH = 14
REUSE_PREVENTION = 24
MAX_AGE_DAYS = 90


class AccountPasswordPolicy(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prevent_destroy: bool = False):
        super().__init__(scope, construct_id)
        self.policy = aws.iam_account_password_policy.IamAccountPasswordPolicy(
            self, "policy", minimum_password_length=MINIMUM_LENGTH, require_uppercase_characters=True,
            require_lowercase_characters=True, require_numbers=True, require_symbols=True,
            password_reuse_prevention=REUSE_PREVENTION, max_password_age=MAX_AGE_DAYS,
            allow_users_to_change_password=True,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None)
