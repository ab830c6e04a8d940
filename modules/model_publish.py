"""`model publish`: put a model version's artifact where `<env>-platform` verifies it, optionally
register it in the model's package group, and say what to write in the environment file.

The artifact goes to `models/<model>/<version>/<model.tar.gz | model.json>` of the environment's
model-artifacts bucket exactly as modules/platform/published.py verifies it at plan time:

- one PutObject with its SHA-256 (`ChecksumSHA256`): S3 recomputes it, refuses the upload on a
  mismatch and keeps it as the object's full-object checksum. A multipart upload would keep a
  checksum of its parts, which the plan refuses, so artifacts are uploaded in one part (S3 takes up
  to 5 GiB that way) and a larger one is refused before anything is sent. A single PUT is atomic:
  S3 never shows a partial object, and a failed upload leaves nothing behind;
- binary content type (Terraform would read a text body into the plan) and metadata `sha256=<hex>`
  (the Lambda reference function checks it before serving `model.json`);
- the environment's object lock (`data.object_lock`: mode and retention), set on the object itself;
- never over an existing version: the version's folder must be empty, and the PUT is conditional
  (`If-None-Match: *`), so a concurrent publish of the same version fails instead of overwriting.

Registration (`--register`) creates a version in the model's package group, PendingManualApproval,
with the image by digest and the artifact's URI; only the model-approver persona can approve it.
Every refusal is a `PublishError` with one line; nothing is left half-done.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from modules.config import EnvConfig
from modules.naming import Naming
from modules.serving import KINDS
from modules.training import package_group

SINGLE_PUT_LIMIT = 5 * 1024 ** 3  # S3's largest single-part upload
CONTENT_TYPE = "application/octet-stream"
IMAGE = re.compile(r"^(?P<registry>[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com)/(?P<repository>[a-z0-9._/-]+)"
                   r"@(?P<digest>sha256:[0-9a-f]{64})$")
VERSION = re.compile(r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$")
CHUNK = 8 * 1024 * 1024


class PublishError(Exception):
    """A refusal, in one line."""


@dataclass(frozen=True)
class PublishRequest:
    config: EnvConfig
    model: str
    version: str
    artifact: Path
    image: str | None = None
    register: bool = False


@dataclass(frozen=True)
class Published:
    bucket: str
    key: str
    sha256: str  # hex, as sha256sum prints it
    image_digest: str | None
    package_arn: str | None
    retain_until: datetime

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class _Progress:
    """A file object for the PUT body that reports bytes sent (the progress bar of large uploads)."""

    def __init__(self, handle, total: int, report: Callable[[int, int], None] | None):
        self._handle, self._total, self._report, self._sent = handle, total, report, 0

    def read(self, size: int = -1) -> bytes:
        block = self._handle.read(size)
        self._sent += len(block)
        if self._report is not None:
            self._report(self._sent, self._total)
        return block

    def __getattr__(self, name: str) -> Any:  # seek, tell: botocore rewinds the body on a retry
        return getattr(self._handle, name)


def _validate(request: PublishRequest) -> tuple[Any, str]:
    """The configured model and its image repository; refusals before anything touches AWS."""
    config = request.config
    model = next((m for m in config.platform.models if m.name == request.model), None)
    if model is None:
        names = ", ".join(m.name for m in config.platform.models) or "none"
        raise PublishError(f"model '{request.model}' is not in environments/{config.name}.yaml (models: {names})")
    if not VERSION.match(request.version):
        raise PublishError(f"version '{request.version}' is not a semantic version like 1.4.0 (the image tag and "
                           "the artifact folder)")
    path = request.artifact
    if not path.is_file():
        raise PublishError(f"{path}: no such file (the artifact to publish)")
    kind = KINDS[model.serving]
    if path.name != kind.artifact:
        raise PublishError(f"{path}: a {model.serving} model serves {kind.artifact}; publish a file of that name")
    if path.stat().st_size > SINGLE_PUT_LIMIT:
        raise PublishError(f"{path}: larger than 5 GiB; S3 keeps a full-object SHA-256 (which the plan verifies) "
                           "only for single-part uploads, which S3 limits to 5 GiB")
    naming = Naming.of(config)
    repository = naming.model_repository(model.name)
    if request.image is not None:
        match = IMAGE.match(request.image)
        if not match:
            raise PublishError(f"image '{request.image}' is not <registry>/<repository>@sha256:<64 hex digits>")
        if match["registry"] != naming.registry or match["repository"] != repository:
            raise PublishError(f"image '{request.image}' is not in {naming.registry}/{repository}, the repository "
                               f"{config.name}-data created for model {model.name}")
        if not kind.image:
            raise PublishError(f"a {model.serving} model runs no image of its own: leave out --image")
    if request.register and request.image is None:
        raise PublishError("--register needs --image: a model package names the image it runs, by digest")
    return model, repository


def publish(request: PublishRequest, session: Any, progress: Callable[[int, int], None] | None = None) -> Published:
    """Upload (and register) one model version with a boto3 `session`; raises PublishError."""
    from botocore.exceptions import BotoCoreError, ClientError

    model, _ = _validate(request)
    config, naming = request.config, Naming.of(request.config)
    try:
        return _publish(request, session, progress, model, naming)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PublishError(f"{exc.operation_name}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(
            ": ") + f" ({config.name}, account {config.account_id})") from None
    except BotoCoreError as exc:
        raise PublishError(f"AWS: {exc}") from None


def _publish(request: PublishRequest, session: Any, progress, model, naming: Naming) -> Published:
    from botocore.exceptions import ClientError

    config = request.config
    account = session.client("sts", region_name=config.region).get_caller_identity()["Account"]
    if account != config.account_id:
        raise PublishError(f"the credentials are of account {account}, but environment {config.name} is account "
                           f"{config.account_id}: assume its ml-engineer or deployer role first")
    s3 = session.client("s3", region_name=config.region)
    bucket = naming.bucket("model-artifacts")
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=config.account_id)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            raise PublishError(f"bucket {bucket} does not exist: apply {config.name}-data first") from None
        raise
    folder = f"{model.artifact_prefix()}{request.version}/"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=folder, MaxKeys=1, ExpectedBucketOwner=config.account_id)
    if listed.get("KeyCount", 0):
        raise PublishError(f"version {request.version} of {model.name} already exists (s3://{bucket}/{folder}): "
                           "versions are immutable; publish a new version")
    sha256 = sha256_of(request.artifact)
    key = f"{folder}{KINDS[model.serving].artifact}"
    lock = config.data.object_lock
    retain_until = (datetime.now(timezone.utc) + timedelta(days=lock.retention_days)).replace(microsecond=0)
    size = request.artifact.stat().st_size
    with request.artifact.open("rb") as handle:
        s3.put_object(
            Bucket=bucket, Key=key, Body=_Progress(handle, size, progress), ContentLength=size,
            ChecksumAlgorithm="SHA256", ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
            ContentType=CONTENT_TYPE,
            Metadata={"sha256": sha256, "model": model.name, "version": request.version},
            ObjectLockMode=lock.mode, ObjectLockRetainUntilDate=retain_until, IfNoneMatch="*",
            ExpectedBucketOwner=config.account_id)
    digest = IMAGE.match(request.image)["digest"] if request.image else None  # type: ignore[index]
    package_arn = None
    if request.register:
        package_arn = _register(request, session, model, naming, f"s3://{bucket}/{key}", sha256)
    return Published(bucket, key, sha256, digest, package_arn, retain_until)


def _register(request: PublishRequest, session: Any, model, naming: Naming, uri: str, sha256: str) -> str:
    sagemaker = session.client("sagemaker", region_name=request.config.region)
    response = sagemaker.create_model_package(
        ModelPackageGroupName=package_group(naming, model.name),
        ModelPackageDescription=f"{model.name} {request.version}",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": request.image, "ModelDataUrl": uri,
                            "Environment": {"MODEL_NAME": model.name, "MODEL_VERSION": request.version}}],
            "SupportedContentTypes": ["application/json"], "SupportedResponseMIMETypes": ["application/json"]},
        CustomerMetadataProperties={"version": request.version, "artifact_sha256": sha256},
        Tags=[{"Key": "Model", "Value": model.name}, {"Key": "ModelVersion", "Value": request.version}])
    return response["ModelPackageArn"]


def config_lines(request: PublishRequest, published: Published) -> list[str]:
    """What to write on the model's entry in environments/<env>.yaml: the registered version once the
    model-approver approved it (the package pins image and artifact), else the digest and checksum."""
    lines = [f"- name: {request.model}", f"  version: {request.version}"]
    if published.package_arn:
        return [*lines, f"  model_package_version: {published.package_arn.rsplit('/', 1)[1]}"]
    if published.image_digest:
        lines.append(f"  image_digest: {published.image_digest}")
    lines.append(f"  artifact_sha256: {published.sha256}")
    return lines
