"""`python main.py preflight`: read the real account before the first apply.

Read-only AWS calls (boto3, the credential chain terraform uses, as the environment's deployer role)
find what would make the first apply fail or conflict: the wrong account, regions not enabled,
Organizations and Identity Center not as the config assumes, account singletons that already exist
(with the `governance.adopt` / `governance.central` lines to paste), missing service-linked roles,
quotas below what the config asks for, a state bucket or published images and artifacts that are not
there. One module per group of checks under `checks/`; `runner.py` runs them, `report.py` writes them.
"""
