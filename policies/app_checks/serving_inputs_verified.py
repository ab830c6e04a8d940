"""AEGIS_SERVING_INPUTS_VERIFIED: what a model serves exists before its stack is applied, and the
plan verifies it by digest and checksum.

A serving resource that pulls from an ECR repository created in the same apply can never start:
nothing publishes the image between the two, so the apply fails after creating half the stack.
And an image or artifact nothing verifies fails only when an instance, endpoint or function first
loads it. So, per serving resource (SageMaker model containers, the containers and `s3://`
downloads of a launch template's user data, a Lambda function's `image_uri` and the reference
function's MODEL_BUCKET/MODEL_KEY):
- an image comes from a repository no resource of the same stack creates, by digest, and a
  `data.aws_ecr_image` of the same stack looks that digest up in that repository (by the literal
  digest, or the lookup the image's `@${data.aws_ecr_image.<name>.image_digest}` names);
- an artifact has a `data.aws_s3_object` of the same stack for its bucket and key, with
  `checksum_mode = ENABLED` and a postcondition on `self.checksum_sha256`;
- in prod both are pinned in the synthesized configuration (config `image_digest`,
  `artifact_sha256`): a literal digest, and a postcondition comparing the checksum to a literal;
- a registered model package (a SageMaker container's `model_package_name`) is one version, by its
  literal ARN (`model-package/<group>/<version>`), read by a `data.aws_cloudcontrolapi_resource` of the
  same stack (`AWS::SageMaker::ModelPackage`) whose postcondition requires `ModelApprovalStatus`
  Approved: the package pins its image and artifact, and only the approver can approve it.
User data that cannot be read fails (not judged).
"""
from __future__ import annotations

import re
from typing import Iterator

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, Env, Stack, nested, one, ref
from policies.checks.aegis_user_data import container_runs, script

IMAGE = re.compile(r"^(?P<registry>[^/\s]+)/(?P<repository>[^@:\s]+)@(?P<digest>\S+)$")
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]+)/([^\s\"']+)")
PACKAGE_VERSION = re.compile(r"^arn:aws:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package/[A-Za-z0-9-]+/[0-9]+$")
APPROVED_CONDITION = re.compile(r'\.ModelApprovalStatus\s*==\s*"Approved"')
PINNED_CHECKSUM = re.compile(r'self\.checksum_sha256\s*==\s*"[A-Za-z0-9+/]{43}="')


@app_check("AEGIS_SERVING_INPUTS_VERIFIED",
           "Served images and artifacts exist before their stack is applied and the plan verifies them by digest and checksum")
def serving_inputs_verified(app: AppView):
    for env in app.envs:
        for stack in env.stacks.values():
            for address, images, artifacts, unreadable, packages in _served(stack):
                problems = [unreadable] + [p for image in images for p in _image_problems(env, stack, image)]
                problems += [p for package in packages for p in _package_problems(stack, package)]
                problems += [p for bucket, key in artifacts for p in _artifact_problems(env, stack, bucket, key)]
                yield judge(stack.name, address, problems,
                            "its images and artifacts are published beforehand and verified when the stack is planned")


def _served(stack: Stack) -> Iterator[tuple[str, list[str], list[tuple[str, str]], str, list]]:
    """(address, images, artifacts as (bucket, key), a reason it cannot be judged or "", model packages)
    per serving resource."""
    for name, conf in sorted(stack.resources("aws_sagemaker_model").items()):
        containers = nested(conf, "primary_container") + nested(conf, "container")
        images = [c["image"] for c in containers if isinstance(c.get("image"), str)]
        uris = [c.get("model_data_url") for c in containers]
        uris += [s3.get("s3_uri") for c in containers for source in nested(c, "model_data_source")
                 for s3 in nested(source, "s3_data_source")]
        packages = [c["model_package_name"] for c in containers if c.get("model_package_name") is not None]
        yield f"aws_sagemaker_model.{name}", images, _locations(uris), "", packages
    for name, conf in sorted(stack.resources("aws_launch_template").items()):
        if conf.get("user_data") is None:
            continue
        text = script(conf.get("user_data"))
        if text is None:
            yield (f"aws_launch_template.{name}", [], [],
                   "user_data is not a literal script: what it pulls and downloads cannot be judged", [])
            continue
        images = [run.image for run in container_runs(text) if run.image]
        if images or S3_URI.search(text):
            yield f"aws_launch_template.{name}", images, _locations([text]), "", []
    for name, conf in sorted(stack.resources("aws_lambda_function").items()):
        variables = (one(conf, "environment") or {}).get("variables") or {}
        artifacts = []
        if isinstance(variables.get("MODEL_BUCKET"), str) and isinstance(variables.get("MODEL_KEY"), str):
            artifacts = [(variables["MODEL_BUCKET"], variables["MODEL_KEY"])]
        images = [conf["image_uri"]] if isinstance(conf.get("image_uri"), str) else []
        if images or artifacts:
            yield f"aws_lambda_function.{name}", images, artifacts, "", []


def _package_problems(stack: Stack, package) -> Iterator[str]:
    if not isinstance(package, str) or not PACKAGE_VERSION.match(package):
        yield f"model package {package!r} is not one registered version by its ARN (model-package/<group>/<version>)"
        return
    reads = [c for c in stack.data("aws_cloudcontrolapi_resource").values()
             if c.get("type_name") == "AWS::SageMaker::ModelPackage" and c.get("identifier") == package]
    conditions = [str(c.get("condition", "")) for lookup in reads
                  for c in nested(one(lookup, "lifecycle") or {}, "postcondition")]
    if not any(APPROVED_CONDITION.search(c) for c in conditions):
        yield (f"model package {package} is not verified Approved when the stack is planned (a "
               "data.aws_cloudcontrolapi_resource of AWS::SageMaker::ModelPackage with a postcondition on "
               "ModelApprovalStatus == \"Approved\")")


def _locations(values: list) -> list[tuple[str, str]]:
    return sorted({m.groups() for v in values if isinstance(v, str) for m in S3_URI.finditer(v)})


def _image_problems(env: Env, stack: Stack, image: str) -> Iterator[str]:
    if "${aws_ecr_repository." in image:
        yield (f"{image} pulls from a repository this stack creates: nothing can publish the image between creating "
               "the repository and this resource; create repositories in an earlier stack (<env>-data)")
        return
    match = IMAGE.match(image)
    if not match:
        yield f"{image} is not an image by digest (<registry>/<repository>@<digest>)"
        return
    repository, digest = match["repository"], match["digest"]
    if DIGEST.match(digest):
        lookups = [c for c in stack.data("aws_ecr_image").values()
                   if c.get("repository_name") == repository and c.get("image_digest") == digest]
    else:
        target = ref(digest)
        lookup = stack.lookup(target[0], target[1]) if target and target[0] == "data.aws_ecr_image" else None
        lookups = [lookup] if lookup and lookup.get("repository_name") == repository else []
        if lookups and env.prod:
            yield (f"{image}: prod pins images by digest in config (image_digest); this one is resolved when "
                   "the stack is planned")
    if not lookups:
        yield (f"{image} is not looked up by a data.aws_ecr_image of repository {repository} in this stack: "
               "a missing image would fail the apply, not the plan")


def _artifact_problems(env: Env, stack: Stack, bucket: str, key: str) -> Iterator[str]:
    uri = f"s3://{bucket}/{key}"
    found = [c for c in stack.data("aws_s3_object").values()
             if c.get("bucket") == bucket and c.get("key") == key and c.get("checksum_mode") == "ENABLED"]
    conditions = [str(c.get("condition", "")) for lookup in found
                  for c in nested(one(lookup, "lifecycle") or {}, "postcondition")]
    if not any("self.checksum_sha256" in c for c in conditions):
        yield (f"artifact {uri} is not verified when the stack is planned (a data.aws_s3_object with checksum_mode "
               "ENABLED and a postcondition on self.checksum_sha256)")
    elif env.prod and not any(PINNED_CHECKSUM.search(c) for c in conditions):
        yield f"artifact {uri}: prod pins artifacts by checksum in config (artifact_sha256); none is compared here"
