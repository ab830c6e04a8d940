"""The Aegis checkov pack: custom Python checks (`CKV_AEGIS_<n>`, one per file) and YAML graph
policies (`CKV2_AEGIS_<n>`) in this folder.

It is a plain checkov external-checks folder, usable without Aegis:

    checkov -d cdktf.out --framework terraform_json --external-checks-dir policies/checks

checkov executes every `.py` file here as a top-level module, so check files import their shared
helpers as `aegis_checklib` when loaded that way and as `policies.checks.aegis_checklib` inside Aegis.
Severities, compliance controls and remediation live in policies/catalog.yaml (`custom:`).
"""
