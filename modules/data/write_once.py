"""Published model versions are write-once: the model-artifacts bucket's policy refuses, to every
principal (the deployer and administrators included), any write that could replace an object.

Object Lock keeps an overwritten version, but the new current version is what the platform reads, so
a second PUT to `models/<model>/<version>/…` would swap a published, possibly approved artifact.
S3 enforces conditional writes by bucket policy (S3 user guide, "Enforce conditional writes on Amazon
S3 buckets"): a PutObject or CompleteMultipartUpload without `If-None-Match: *` is denied, so an
upload succeeds only while the key does not exist (in a versioned bucket: while it has no current
version). CreateMultipartUpload, UploadPart and UploadPartCopy take no conditional header; S3 marks
them `s3:ObjectCreationOperation` = false, so the deny lets the parts through and judges the
completion (`BoolIfExists`: a request without the key is judged too). CopyObject into the bucket is
refused as a consequence (S3 answers 403 without the header, 501 with it).

A DeleteObject without a version id leaves a delete marker as the current version, after which a
conditional PUT of the same key would succeed again: deleting is denied the same way. S3 Lifecycle
is not subject to bucket policies; the bucket's rules only expire noncurrent versions.

Jobs write their output, Spot checkpoints (overwritten as a job runs), and the pipelines' evaluation
reports and baselines under their own prefixes (modules/training.py JOB_OUTPUT_PREFIXES), which model
names cannot collide with, with uploads SageMaker does not make conditional: those stay writable by
the training role.
"""
from __future__ import annotations

from modules.iam_doc import Statement, statement
from modules.training import JOB_OUTPUT_PREFIXES

# Key prefixes of the model-artifacts bucket that jobs write (and training rewrites).
REWRITTEN_PREFIXES = JOB_OUTPUT_PREFIXES
# A create-or-replace request (PutObject, CompleteMultipartUpload, CopyObject) that is not conditional.
UNCONDITIONAL_WRITE = {"Null": {"s3:if-none-match": "true"},
                       "BoolIfExists": {"s3:ObjectCreationOperation": "true"}}


def write_once_statements(bucket_arn: str) -> list[Statement]:
    """Every object of the bucket outside the training prefixes is write-once (a bucket policy applies
    only to its own bucket, so NotResource stays within it)."""
    rewritable = [f"{bucket_arn}/{prefix}*" for prefix in REWRITTEN_PREFIXES]
    return [
        statement("DenyOverwritingPublishedModels", "Deny", "s3:PutObject", rewritable, not_resources=True,
                  principal="*", condition=UNCONDITIONAL_WRITE),
        statement("DenyDeletingPublishedModels", "Deny", "s3:DeleteObject", rewritable, not_resources=True,
                  principal="*"),
    ]
