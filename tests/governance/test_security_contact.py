"""The account's security alternate contact: deployed from governance.security_contact where the environment
sets it (prod, which lists pci-dss), absent elsewhere; the values reach AWS unchanged."""
from __future__ import annotations

from modules.config import load_env


def test_prod_names_its_security_contact_as_configured(synthesized):
    contacts = synthesized.resources("prod-governance", "aws_account_alternate_contact")
    (contact,) = contacts.values()
    wanted = load_env("prod").governance.security_contact
    assert wanted is not None
    assert contact["alternate_contact_type"] == "SECURITY"
    assert (contact["name"], contact["title"], contact["email_address"], contact["phone_number"]) == \
        (wanted.name, wanted.title, wanted.email, wanted.phone)
    assert "account_id" not in contact  # the environment's own account, not another one of the organization


def test_environments_without_a_contact_deploy_none(synthesized):
    for env in ("dev", "staging"):
        assert load_env(env).governance.security_contact is None
        assert synthesized.resources(f"{env}-governance", "aws_account_alternate_contact") == {}
