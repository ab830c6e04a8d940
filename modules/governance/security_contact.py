"""The account's security alternate contact (AWS Account Management), set when the environment names one:
AWS sends security notifications about the account to it, and the PCI DSS pack's
security-account-information-provided rule checks that it exists."""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.settings import SecurityContactSettings


class SecurityContact(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: SecurityContactSettings):
        super().__init__(scope, construct_id)
        self.contact = aws.account_alternate_contact.AccountAlternateContact(
            self, "security", alternate_contact_type="SECURITY", name=settings.name, title=settings.title,
            email_address=settings.email, phone_number=settings.phone)
