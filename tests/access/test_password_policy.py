"""The account password policy meets what AWS Config's IAM_PASSWORD_POLICY requires by default."""
from __future__ import annotations


def test_password_policy_meets_the_config_rule_defaults(synthesized, env):
    (policy,) = synthesized.resources(f"{env}-access", "aws_iam_account_password_policy").values()
    assert policy["minimum_password_length"] >= 14 and policy["password_reuse_prevention"] >= 24
    assert 0 < policy["max_password_age"] <= 90
    assert all(policy[f"require_{kind}"] is True
               for kind in ("uppercase_characters", "lowercase_characters", "numbers", "symbols"))


def test_prod_keeps_the_account_password_policy_on_destroy(synthesized, env):
    """One policy per account: destroying prod's access stack would revert the account to IAM's defaults."""
    (policy,) = synthesized.resources(f"{env}-access", "aws_iam_account_password_policy").values()
    kept = (policy.get("lifecycle") or {}).get("prevent_destroy") is True
    assert kept is (env == "prod")
