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
conditional PUT of the same key would succeed again; a DeleteObjectVersion of the current version
(once the Object Lock retention has lapsed) does the same: both are denied the same way. S3
Lifecycle is not subject to bucket policies; the bucket's rules only expire noncurrent versions.

Job outputs live under their own prefixes, which model names cannot collide with, and SageMaker
uploads them unconditionally:
- `models/_training/` and `models/_checkpoints/` (modules/training.py TRAINING_JOB_PREFIXES): what
  people's jobs write as the training role, Spot checkpoints rewritten as a job runs. They stay
  rewritable; nothing downstream trusts them.
- `models/_pipelines/` and `models/_baselines/` (PIPELINE_JOB_PREFIXES): the pipelines' training
  output, evaluation code and reports, and the baselines registration, promotion and Model Monitor
  trust. Only the pipeline-jobs role (`aws:PrincipalArn`) writes there unconditionally or deletes;
  for everyone else they are write-once too (the ml-engineer's conditional upload of the evaluation
  code or of a baseline still works, once per key). In a pipeline's `training/`, `evaluation/` and
  `checkpoints/` nobody else may create an object at all, not even conditionally, so an artifact or a
  report there is always one the pipeline made.
"""
from __future__ import annotations

from modules.iam_doc import Statement, statement
from modules.naming import Naming
from modules.training import (
    PIPELINE_JOB_FOLDERS,
    PIPELINE_JOB_PREFIXES,
    PIPELINE_PREFIX,
    TRAINING_JOB_PREFIXES,
    pipeline_jobs_role_arn,
)

# Key prefixes of the model-artifacts bucket that jobs write unconditionally.
JOB_OUTPUT_PREFIXES = TRAINING_JOB_PREFIXES + PIPELINE_JOB_PREFIXES
DELETE_ACTIONS = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
# A create-or-replace request (PutObject, CompleteMultipartUpload, CopyObject) that is not conditional.
UNCONDITIONAL_WRITE = {"Null": {"s3:if-none-match": "true"},
                       "BoolIfExists": {"s3:ObjectCreationOperation": "true"}}


def write_once_statements(naming: Naming, bucket_arn: str) -> list[Statement]:
    """Every object of the bucket outside the job prefixes is write-once, and the pipelines' prefixes are
    for everyone but the pipeline-jobs role (a bucket policy applies only to its own bucket, so
    NotResource stays within it; the role's ARN is built from the naming convention, and a condition
    naming a role that does not exist, where no pipelines run, simply matches every caller)."""
    job_outputs = [f"{bucket_arn}/{prefix}*" for prefix in JOB_OUTPUT_PREFIXES]
    pipeline_outputs = [f"{bucket_arn}/{prefix}*" for prefix in PIPELINE_JOB_PREFIXES]
    # `*` in an S3 ARN spans `/`, so the model segment matches any model name.
    pipeline_made = [f"{bucket_arn}/{PIPELINE_PREFIX}*/{folder}*" for folder in PIPELINE_JOB_FOLDERS]
    not_pipeline_jobs = {"ArnNotEquals": {"aws:PrincipalArn": pipeline_jobs_role_arn(naming)}}
    return [
        statement("DenyOverwritingPublishedModels", "Deny", "s3:PutObject", job_outputs, not_resources=True,
                  principal="*", condition=UNCONDITIONAL_WRITE),
        statement("DenyDeletingPublishedModels", "Deny", DELETE_ACTIONS, job_outputs, not_resources=True,
                  principal="*"),
        statement("DenyOverwritingPipelineOutputs", "Deny", "s3:PutObject", pipeline_outputs, principal="*",
                  condition={**UNCONDITIONAL_WRITE, **not_pipeline_jobs}),
        statement("DenyDeletingPipelineOutputs", "Deny", DELETE_ACTIONS, pipeline_outputs, principal="*",
                  condition=not_pipeline_jobs),
        statement("DenyCreatingPipelineJobOutputs", "Deny", "s3:PutObject", pipeline_made, principal="*",
                  condition=not_pipeline_jobs),
    ]
