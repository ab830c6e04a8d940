"""Compliance evidence of one environment, for an auditor: per framework and control, the checks that
evidence it, every resource they judged with its result and location, the suppressions with reason,
owner, approver and expiry, the AWS Config rules that watch the control at runtime, and where AWS's own
side of shared responsibility is evidenced (AWS Artifact). Written as JSON (the record), CSV (one row per
control × check × resource) and a self-contained HTML page, signed with HMAC-SHA256 when
AEGIS_ATTESTATION_KEY is set (policies/signing.py, as plan attestations), verifiable with `evidence --verify`.

record.py builds the record from a gate result; files.py writes and signs the three files; verify.py
checks them.
"""
