"""AEGIS_PUBLISHED_MODELS_WRITE_ONCE: nobody can replace or delete a published model version.

A version published to `models/<model>/<version>/` of the model-artifacts bucket is what the registry
approves and the platform serves. Object Lock keeps an overwritten object version, but a second PUT
becomes the current version, which is what gets served; a DeleteObject leaves a delete marker after
which the key is free again. So the bucket's policy must deny (modules/data/write_once.py), to every
principal, the deployer included:

- a PutObject or CompleteMultipartUpload without `If-None-Match` (S3's conditional-write enforcement
  by the `s3:if-none-match` condition key), whether or not the request carries
  `s3:ObjectCreationOperation`, and a DeleteObject of a published key;

- a DeleteObjectVersion of a published key (once the Object Lock retention lapses, removing the
  current version would free the key as well);
- to every principal but the pipeline-jobs role (`aws:PrincipalArn`), an unconditional PutObject and
  any delete under `models/_pipelines/` and `models/_baselines/`, where the pipelines write what
  promotion and Model Monitor trust (the training output of a registered version, the evaluation
  code and reports, the data-quality baselines): the training role, the ml-engineer and the deployer
  are tried; and to them any PutObject at all, conditional or not, under a pipeline's `training/`,
  `evaluation/` and `checkpoints/`, so an artifact or report there is always pipeline-made;

while still letting through what publishing and training need: a conditional PutObject
(`If-None-Match: *`, also of a baseline or of evaluation code by the ml-engineer), the parts of a
multipart upload (`s3:ObjectCreationOperation` false: those APIs take no conditional header), and
what jobs write with SageMaker's unconditional uploads: the training role's output and Spot
checkpoints (rewritten as a job runs) under `models/_training/` and `models/_checkpoints/`, and the
pipeline-jobs role's training output, evaluation reports and baselines (a pipeline whose baseline
step is denied registers nothing).

Judged with policies/iam_eval.py on the literal bucket policy of each model-artifacts bucket (primary
and DR replica). A bucket without a policy, or a policy that is not literal JSON or cannot be
evaluated, fails.
"""
from __future__ import annotations

from typing import Iterator

from modules.training import (
    BASELINE_PREFIX,
    CHECKPOINT_PREFIX,
    PIPELINE_JOBS_ROLE,
    PIPELINE_PREFIX,
    TRAINING_OUTPUT_PREFIX,
    TRAINING_ROLE,
)
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.view import AppView, Env
from policies.checks.aegis_values import policy_document
from policies.iam_eval import DENY, UnsupportedPolicy, as_principal, evaluate

BUCKET = "model-artifacts"
PUBLISHED_KEY = "models/example-model/1.0.0/model.tar.gz"
CREATE = {"s3:ObjectCreationOperation": True}
PART = {"s3:ObjectCreationOperation": False}
CONDITIONAL = {"s3:if-none-match": "*"}
OTHER_WRITERS = (TRAINING_ROLE, "ml-engineer")  # besides the deployer: who else writes under models/


@app_check("AEGIS_PUBLISHED_MODELS_WRITE_ONCE",
           "Published model versions are write-once: no unconditional PUT or delete for anyone")
def published_models_write_once(app: AppView):
    for env in app.envs:
        n = env.naming
        names = {n.bucket(BUCKET)} | ({n.bucket(BUCKET, n.dr_region)} if env.config.data.replication.enabled else set())
        policies = _policies_by_bucket(env)
        for stack, address, bucket_name in _buckets(env, names):
            found = policies.get(bucket_name)
            if found is None:
                yield fail(stack, address, f"{bucket_name} has no bucket policy: published versions can be replaced")
                continue
            policy_stack, policy_address, raw = found
            yield judge(policy_stack, policy_address, _problems(env, bucket_name, raw),
                        f"{bucket_name}: published versions cannot be overwritten or deleted; publishing and "
                        "training still write")


def _buckets(env: Env, names: set[str]) -> Iterator[tuple[str, str, str]]:
    for stack, name, conf in env.resources("aws_s3_bucket"):
        if conf.get("bucket") in names:
            yield stack.name, f"aws_s3_bucket.{name}", conf["bucket"]


def _policies_by_bucket(env: Env) -> dict[str, tuple[str, str, object]]:
    found = {}
    for stack, name, conf in env.resources("aws_s3_bucket_policy"):
        bucket = stack.resolve(conf.get("bucket"))
        if isinstance(bucket, str):
            found[bucket] = (stack.name, f"aws_s3_bucket_policy.{name}", conf.get("policy"))
    return found


def _problems(env: Env, bucket_name: str, raw) -> Iterator[str]:
    doc = policy_document(raw)
    if doc is None:
        yield "the policy is not a literal JSON document: not judged"
        return
    n, arn = env.naming, f"arn:aws:s3:::{bucket_name}"
    deployer, jobs = env.config.deployer_role_arn, n.role_arn(PIPELINE_JOBS_ROLE)
    published, training = f"{arn}/{PUBLISHED_KEY}", f"{arn}/{TRAINING_OUTPUT_PREFIX}job-1/output/model.tar.gz"
    checkpoint = f"{arn}/{CHECKPOINT_PREFIX}job-1/checkpoint-1.pt"
    pipeline_model = f"{arn}/{PIPELINE_PREFIX}model-a/training/pipelines-1-Train/output/model.tar.gz"
    evaluation = f"{arn}/{PIPELINE_PREFIX}model-a/evaluation/run-1/evaluation.json"
    code = f"{arn}/{PIPELINE_PREFIX}model-a/code/evaluate.py"
    pipeline_checkpoint = f"{arn}/{PIPELINE_PREFIX}model-a/checkpoints/run-1/checkpoint-1.pt"
    baseline = f"{arn}/{BASELINE_PREFIX}model-a/run-1/constraints.json"
    transport = {"aws:SecureTransport": True, "s3:TlsVersion": "1.3"}

    def denied(principal: str, action: str, key: str, context: dict) -> bool:
        request = as_principal(principal, action, key, {**transport, **context})
        return evaluate([doc], request) == DENY

    must_deny = [("an unconditional PutObject or CompleteMultipartUpload", deployer, "s3:PutObject", published, CREATE),
                 ("a PutObject that carries no s3:ObjectCreationOperation", deployer, "s3:PutObject", published, {}),
                 ("a DeleteObject (a delete marker frees the key)", deployer, "s3:DeleteObject", published, {}),
                 ("a DeleteObjectVersion (removing the current version frees the key)", deployer,
                  "s3:DeleteObjectVersion", published, {})]
    for writer in (*(n.role_arn(p) for p in OTHER_WRITERS), deployer):
        name = writer.rsplit("/", 1)[-1]
        must_deny += [(f"{name} an unconditional PutObject of pipeline output", writer, "s3:PutObject", key, CREATE)
                      for key in (pipeline_model, code, baseline)]
        must_deny += [(f"{name} a {action.split(':')[1]} of pipeline output", writer, action, baseline, {})
                      for action in ("s3:DeleteObject", "s3:DeleteObjectVersion")]
        must_deny += [(f"{name} a new (conditional) object where only pipeline jobs write", writer, "s3:PutObject",
                       key, {**CREATE, **CONDITIONAL}) for key in (pipeline_model, evaluation, pipeline_checkpoint)]
    must_pass = [("a conditional PutObject (If-None-Match: *)", deployer, "s3:PutObject", published,
                  {**CREATE, **CONDITIONAL}),
                 ("the parts of a multipart upload", deployer, "s3:PutObject", published, PART),
                 ("training output", n.role_arn(TRAINING_ROLE), "s3:PutObject", training, CREATE),
                 ("Spot checkpoints", n.role_arn(TRAINING_ROLE), "s3:PutObject", checkpoint, CREATE),
                 ("a pipeline's training output", jobs, "s3:PutObject", pipeline_model, CREATE),
                 ("a pipeline's evaluation report", jobs, "s3:PutObject", evaluation, CREATE),
                 ("a pipeline's data-quality baseline", jobs, "s3:PutObject", baseline, CREATE),
                 ("a pipeline's Spot checkpoints", jobs, "s3:PutObject", pipeline_checkpoint, CREATE),
                 ("the ml-engineer's conditional upload of evaluation code", n.role_arn("ml-engineer"),
                  "s3:PutObject", code, {**CREATE, **CONDITIONAL}),
                 ("the ml-engineer's conditional upload of a baseline", n.role_arn("ml-engineer"), "s3:PutObject",
                  baseline, {**CREATE, **CONDITIONAL})]
    try:
        for what, principal, action, key, context in must_deny:
            if not denied(principal, action, key, context):
                yield f"the policy does not deny {what} ({key.removeprefix(arn + '/')})"
        for what, principal, action, key, context in must_pass:
            if denied(principal, action, key, context):
                yield f"the policy denies {what} ({key.removeprefix(arn + '/')})"
    except UnsupportedPolicy as exc:
        yield f"the policy cannot be judged: {exc}"
