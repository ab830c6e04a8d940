"""What a model serves, verified when the platform stack is planned: its image by digest and its
artifact by checksum.

Nothing in this stack creates them. The model's image repository comes from `<env>-data`, and the
image and the artifact are published between that stack and this one (README "Publishing a
model"). Terraform data sources read them when this stack is planned, and lifecycle conditions stop
the plan, before anything is created, with a message naming what is missing and how to publish it:

- the image: `data.aws_ecr_image` by the digest in config (`image_digest`, required in prod) or,
  without one, by the version's tag (tags are immutable in the repository). The repository must
  exist and list the image, and a configured digest must carry the version's tag (a digest of
  another version is refused). Serving resources pull `<registry>/<repository>@<digest>`, never a
  tag, so what runs is what was verified.
- the artifact: `data.aws_s3_object` with `checksum_mode = ENABLED` (reading the checksum of a
  KMS-encrypted object takes kms:Decrypt). The object must exist and carry a full-object SHA-256
  (S3 verifies it on upload), equal to `artifact_sha256` when configured (required in prod), and
  be stored as binary so Terraform never reads its body into the plan. An artifact over 5 GiB,
  uploaded in parts, carries S3's composite SHA-256 of its parts instead (each part verified by S3)
  and the whole file's SHA-256 in its `sha256` metadata, which S3 does not verify: it is accepted only
  where `artifact_sha256` is configured and equal to that metadata (the object is write-once, so it
  stays the one published). `Artifact.checksum` is that
  SHA-256 in base64 (the configured one, or the one S3 reported at plan time) for consumers that
  verify their download themselves.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass

from cdktf import Postcondition, Precondition, TerraformResourceLifecycle
from constructs import Construct

from modules import aws
from modules.lookups import ecr_repository_names_ref
from modules.platform.context import PlatformContext
from modules.platform.settings import ModelSettings
from modules.serving import KINDS

PUBLISHING = "README: Publishing a model"
# A full-object SHA-256 checksum in base64; a multipart upload's checksum of parts ends in `-<parts>`.
FULL_OBJECT_SHA256 = "^[A-Za-z0-9+/]{43}=$"
COMPOSITE_SHA256 = "^[A-Za-z0-9+/]{43}=-[0-9]+$"
# User metadata keys come back lower-cased or canonicalized depending on the path; compare them lower-cased.
METADATA_SHA256 = 'lookup({for k, v in self.metadata : lower(k) => v}, "sha256", "")'


def base64_sha256(hex_digest: str) -> str:
    """The base64 form S3 reports (`x-amz-checksum-sha256`) of a hex SHA-256 (`sha256sum`)."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


@dataclass(frozen=True)
class Artifact:
    bucket: str
    key: str
    checksum: str  # base64 SHA-256: a literal, or a reference resolved at plan time

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class PublishedModel(Construct):
    """`image` (None for kinds without an image of their own) and `artifact` of one model version.
    `metadata_digest`: the artifact must also carry the `sha256` metadata its consumer verifies."""

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 metadata_digest: bool = False):
        super().__init__(scope, construct_id)
        self.ctx, self.model = ctx, model
        self.what = f"{ctx.naming.env} model {model.name} {model.version}"
        self.image = self._image() if KINDS[model.serving].image else None
        self.artifact = self._artifact(metadata_digest)

    def _image(self) -> str:
        naming, model = self.ctx.naming, self.model
        repository = naming.model_repository(model.name)
        push = f"docker push {naming.registry}/{repository}:{model.version}"
        listed = aws.data_aws_ecr_images.DataAwsEcrImages(
            self, "images", repository_name=repository, lifecycle=TerraformResourceLifecycle(precondition=[Precondition(
                condition=f'${{contains({ecr_repository_names_ref(self)}, "{repository}")}}',
                error_message=f"{self.what}: ECR repository {repository} does not exist. Apply {naming.env}-data "
                              f"first (it creates the model repositories), then publish the image ({PUBLISHING}).")]))
        digest = model.image_digest
        if digest is None:
            image = aws.data_aws_ecr_image.DataAwsEcrImage(
                self, "image", repository_name=repository, image_tag=model.version,
                lifecycle=TerraformResourceLifecycle(precondition=[Precondition(
                    condition=(f"${{contains([for i in {listed.fqn}.image_ids : i.image_tag if i.image_tag != null], "
                               f'"{model.version}")}}'),
                    error_message=f"{self.what}: ECR repository {repository} has no image tagged {model.version}. "
                                  f"Publish it: {push} ({PUBLISHING}).")]))
            return f"{naming.registry}/{repository}@{image.image_digest}"
        aws.data_aws_ecr_image.DataAwsEcrImage(
            self, "image", repository_name=repository, image_digest=digest,
            lifecycle=TerraformResourceLifecycle(
                precondition=[Precondition(
                    condition=f'${{contains([for i in {listed.fqn}.image_ids : i.image_digest], "{digest}")}}',
                    error_message=f"{self.what}: image {digest} is not in ECR repository {repository}. Publish it "
                                  f"({push}) and set image_digest in environments/{naming.env}.yaml to the digest "
                                  f"ECR reports ({PUBLISHING}).")],
                postcondition=[Postcondition(
                    condition=f'${{contains(self.image_tags, "{model.version}")}}',
                    error_message=f"{self.what}: image {digest} in {repository} is not tagged {model.version}: "
                                  f"image_digest names an image of another version ({PUBLISHING}).")]))
        return f"{naming.registry}/{repository}@{digest}"

    def _artifact(self, metadata_digest: bool) -> Artifact:
        naming, model = self.ctx.naming, self.model
        bucket, key = self.ctx.bucket("model-artifacts"), model.artifact_key()
        uri = f"s3://{bucket}/{key}"
        upload = (f"aws s3api put-object --bucket {bucket} --key {key} --checksum-algorithm SHA256 "
                  "--content-type application/octet-stream --if-none-match '*'")
        listing = aws.data_aws_s3_objects.DataAwsS3Objects(self, "artifact-listing", bucket=bucket, prefix=key)
        pinned = model.artifact_sha256
        # Uploaded in parts (over 5 GiB): S3's composite checksum, and the pinned SHA-256 in the metadata.
        in_parts = (f' || (can(regex("{COMPOSITE_SHA256}", self.checksum_sha256)) && {METADATA_SHA256} == "{pinned}")'
                    if pinned is not None else "")
        checks = [
            Postcondition(
                condition=f'${{can(regex("{FULL_OBJECT_SHA256}", self.checksum_sha256)){in_parts}}}',
                error_message=f"{self.what}: artifact {uri} has no full-object SHA-256 checksum. Upload it in one "
                              f"part with its checksum: {upload}; or, over 5 GiB, with `model publish` and set "
                              f"artifact_sha256 to the SHA-256 it prints ({PUBLISHING})."),
            Postcondition(
                condition="${try(length(self.body), 0) == 0}",
                error_message=f"{self.what}: artifact {uri} is stored with a text or JSON content type, so Terraform "
                              "reads its body into the plan. Upload it with --content-type application/octet-stream."),
        ]
        if pinned is not None:
            checks.append(Postcondition(
                condition=f'${{self.checksum_sha256 == "{base64_sha256(pinned)}"{in_parts}}}',
                error_message=f"{self.what}: the SHA-256 of artifact {uri} is not artifact_sha256 ({pinned}) of "
                              f"environments/{naming.env}.yaml: the object was replaced, or the checksum in config "
                              f"is of another file ({PUBLISHING})."))
        if metadata_digest:
            checks.append(Postcondition(
                condition=(f'${{{METADATA_SHA256} == "{pinned}"}}' if pinned is not None
                           else f'${{can(regex("^[0-9a-f]{{64}}$", {METADATA_SHA256}))}}'),
                error_message=f"{self.what}: artifact {uri} lacks the metadata sha256=<its sha256sum> that its "
                              f"consumer verifies. Upload it with --metadata sha256=<hex digest> ({PUBLISHING})."))
        obj = aws.data_aws_s3_object.DataAwsS3Object(
            self, "artifact", bucket=bucket, key=key, checksum_mode="ENABLED",
            lifecycle=TerraformResourceLifecycle(
                precondition=[Precondition(
                    condition=f'${{contains({listing.fqn}.keys, "{key}")}}',
                    error_message=f"{self.what}: artifact {uri} does not exist. Upload it with its checksum: "
                                  f"{upload} --body <file> ({PUBLISHING}).")],
                postcondition=checks))
        return Artifact(bucket, key, base64_sha256(pinned) if pinned is not None else obj.checksum_sha256)
