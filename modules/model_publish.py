"""`model publish`: put a model version's artifact where `<env>-platform` verifies it, optionally
register it in the model's package group, and say what to write in the environment file.

The artifact goes to `models/<model>/<version>/<model.tar.gz | model.json>` of the environment's
model-artifacts bucket exactly as modules/platform/published.py verifies it at plan time:

- up to 5 GiB (S3's single-PUT limit), one PutObject with its SHA-256 (`ChecksumSHA256`): S3
  recomputes it, refuses the upload on a mismatch and keeps it as the object's full-object checksum,
  which the plan compares with `artifact_sha256`. A single PUT is atomic: S3 never shows a partial
  object, and a failed upload leaves nothing behind;
- larger artifacts, a multipart upload. S3 keeps a full-object checksum of a multipart upload only
  for CRC algorithms (`ChecksumType` FULL_OBJECT); with SHA-256 it keeps a composite one, the SHA-256
  of the parts' SHA-256s, suffixed `-<parts>` (S3 user guide, "Checking object integrity"). So each
  part carries its SHA-256, which S3 verifies on UploadPart and again in the composite on completion,
  and the whole file's SHA-256 goes in the `sha256` metadata, computed here before the upload and
  again over the parts as they are sent (a file that changes meanwhile is refused). S3 does not verify
  that metadata; the plan accepts such an object only when it equals `artifact_sha256`. Any error or
  interruption aborts the upload (AbortMultipartUpload): nothing half-uploaded stays, and no object
  appears before CompleteMultipartUpload;
- binary content type (Terraform would read a text body into the plan) and metadata `sha256=<hex>`
  (the Lambda reference function checks it before serving `model.json`);
- the environment's object lock (`data.object_lock`: mode and retention), set on the object itself;
- never over an existing version: the version's folder must be empty, and the PUT or the completion
  is conditional (`If-None-Match: *`), so a concurrent publish of the same version fails instead of
  overwriting; the bucket policy refuses any other write there (modules/data/write_once.py).

A Model Monitor baseline (`--baseline DIR`, modules/model_baseline.py) goes with the version to
`models/_baselines/<model>/<version>/`, the same way: write-once, checksummed, object-locked. It is how
prod, which cannot read staging's buckets, gets the baseline staging's pipeline made for a promoted
version; `--baseline` without `--artifact` publishes the baseline of a version published before.

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
from modules.model_baseline import Baseline, BaselineError, baseline_folder, config_line, refuse_existing
from modules.model_baseline import upload as upload_baseline
from modules.naming import Naming
from modules.serving import KINDS
from modules.training import package_group

SINGLE_PUT_LIMIT = 5 * 1024 ** 3  # S3's largest single-part upload
PART_SIZE = 64 * 1024 ** 2  # multipart: parts of 64 MiB (S3: 5 MiB to 5 GiB each, at most 10,000 parts)
MAX_PARTS = 10_000
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
    artifact: Path | None
    image: str | None = None
    register: bool = False
    baseline: Path | None = None  # a folder with statistics.json and constraints.json


@dataclass(frozen=True)
class Published:
    bucket: str
    key: str | None  # None: only a baseline was published
    sha256: str | None  # hex, as sha256sum prints it
    image_digest: str | None
    package_arn: str | None
    retain_until: datetime
    baseline_folder: str | None = None

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


def _validate(request: PublishRequest) -> tuple[Any, Baseline | None]:
    """The configured model and its image repository; refusals before anything touches AWS."""
    config = request.config
    model = next((m for m in config.platform.models if m.name == request.model), None)
    if model is None:
        names = ", ".join(m.name for m in config.platform.models) or "none"
        raise PublishError(f"model '{request.model}' is not in environments/{config.name}.yaml (models: {names})")
    if not VERSION.match(request.version):
        raise PublishError(f"version '{request.version}' is not a semantic version like 1.4.0 (the image tag and "
                           "the artifact folder)")
    path, kind = request.artifact, KINDS[model.serving]
    if path is None and request.baseline is None:
        raise PublishError("nothing to publish: give --artifact, --baseline or both")
    if path is not None and not path.is_file():
        raise PublishError(f"{path}: no such file (the artifact to publish)")
    if path is not None and path.name != kind.artifact:
        raise PublishError(f"{path}: a {model.serving} model serves {kind.artifact}; publish a file of that name")
    baseline = None
    if request.baseline is not None:
        if model.serving != "sagemaker":
            raise PublishError(f"--baseline: Model Monitor judges real-time endpoints only, and {model.name} is "
                               f"served as {model.serving}")
        try:
            baseline = Baseline.read(request.baseline)
        except BaselineError as exc:
            raise PublishError(str(exc)) from None
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
    if request.register and path is None:
        raise PublishError("--register needs --artifact: a model package names the artifact it serves")
    return model, baseline


@dataclass(frozen=True)
class Upload:
    """How the artifact is sent: in one PUT up to `single_put_limit` bytes, else in parts of `part_size`."""

    single_put_limit: int = SINGLE_PUT_LIMIT
    part_size: int = PART_SIZE


def publish(request: PublishRequest, session: Any, progress: Callable[[int, int], None] | None = None,
            upload: Upload = Upload()) -> Published:
    """Upload (and register) one model version with a boto3 `session`; raises PublishError."""
    from botocore.exceptions import BotoCoreError, ClientError

    model, baseline = _validate(request)
    config, naming = request.config, Naming.of(request.config)
    try:
        return _publish(request, session, progress, model, baseline, naming, upload)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PublishError(f"{exc.operation_name}: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(
            ": ") + f" ({config.name}, account {config.account_id})") from None
    except BotoCoreError as exc:
        raise PublishError(f"AWS: {exc}") from None


def _publish(request: PublishRequest, session: Any, progress, model, baseline: Baseline | None, naming: Naming,
             upload: Upload) -> Published:
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
    baselines = baseline_folder(model.name, request.version) if baseline is not None else None
    # Both refusals before any upload: a baseline that exists must not leave a new artifact behind.
    if request.artifact is not None:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=folder, MaxKeys=1, ExpectedBucketOwner=config.account_id)
        if listed.get("KeyCount", 0):
            raise PublishError(f"version {request.version} of {model.name} already exists (s3://{bucket}/{folder}): "
                               "versions are immutable; publish a new version")
    if baselines is not None:
        try:
            refuse_existing(s3, bucket, baselines, config.account_id)
        except BaselineError as exc:
            raise PublishError(str(exc)) from None
    lock = config.data.object_lock
    retain_until = (datetime.now(timezone.utc) + timedelta(days=lock.retention_days)).replace(microsecond=0)
    locked = {"ObjectLockMode": lock.mode, "ObjectLockRetainUntilDate": retain_until}
    key = sha256 = None
    if request.artifact is not None:
        sha256 = sha256_of(request.artifact)
        key = f"{folder}{KINDS[model.serving].artifact}"
        size = request.artifact.stat().st_size
        common = dict(Bucket=bucket, Key=key, ContentType=CONTENT_TYPE,
                      Metadata={"sha256": sha256, "model": model.name, "version": request.version},
                      **locked, ExpectedBucketOwner=config.account_id)
        if size > upload.single_put_limit:
            _multipart(s3, request.artifact, size, sha256, common, progress, upload.part_size)
        else:
            with request.artifact.open("rb") as handle:
                s3.put_object(**common, Body=_Progress(handle, size, progress), ContentLength=size,
                              ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(sha256), IfNoneMatch="*")
    if baseline is not None and baselines is not None:
        try:
            upload_baseline(s3, bucket, baselines, baseline, locked, config.account_id)
        except ClientError as exc:
            if key is None:
                raise
            error = exc.response.get("Error", {})
            raise PublishError(f"the artifact s3://{bucket}/{key} is published, its baseline is not "
                               f"({exc.operation_name}: {error.get('Code', 'error')}): publish the baseline alone "
                               "with --baseline and without --artifact") from None
    digest = IMAGE.match(request.image)["digest"] if request.image else None  # type: ignore[index]
    package_arn = None
    if request.register and key is not None and sha256 is not None:
        package_arn = _register(request, session, model, naming, f"s3://{bucket}/{key}", sha256)
    return Published(bucket, key, sha256, digest, package_arn, retain_until, baselines)


def _b64(hex_digest: str) -> str:
    """A hex digest in the base64 form S3's checksum headers take."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _multipart(s3, path: Path, size: int, sha256: str, common: dict, progress, part_size: int) -> None:
    """Upload in parts, each with its SHA-256; complete only if no object exists yet (If-None-Match) and
    the file is still the one whose SHA-256 the metadata names; abort on any error or interruption."""
    part_size = max(part_size, -(-size // MAX_PARTS))  # at most 10,000 parts
    started = s3.create_multipart_upload(**common, ChecksumAlgorithm="SHA256")
    target = {"Bucket": common["Bucket"], "Key": common["Key"], "UploadId": started["UploadId"],
              "ExpectedBucketOwner": common["ExpectedBucketOwner"]}
    try:
        parts, whole, sent = [], hashlib.sha256(), 0
        with path.open("rb") as handle:
            for number in range(1, -(-size // part_size) + 1):
                body = handle.read(part_size)
                whole.update(body)
                checksum = _b64(hashlib.sha256(body).hexdigest())  # S3 recomputes it and refuses a mismatch
                response = s3.upload_part(**target, PartNumber=number, Body=body, ChecksumAlgorithm="SHA256",
                                          ChecksumSHA256=checksum)
                parts.append({"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum})
                sent += len(body)
                if progress is not None:
                    progress(sent, size)
            if sent != size or handle.read(1) or whole.hexdigest() != sha256:
                raise PublishError(f"{path} changed while it was uploaded: nothing was published; publish it again")
        s3.complete_multipart_upload(**target, MultipartUpload={"Parts": parts}, IfNoneMatch="*")
    except BaseException:
        try:
            s3.abort_multipart_upload(**target)
        except Exception:  # the first error is the one to report; the bucket's lifecycle rule aborts it later
            raise PublishError(f"the upload failed and aborting it failed too: upload {started['UploadId']} of "
                               f"{common['Key']} stays open until the bucket's abort-incomplete-uploads rule "
                               "removes it (nothing was published)") from None
        raise


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
        lines.append(f"  model_package_version: {published.package_arn.rsplit('/', 1)[1]}")
    else:
        if published.image_digest:
            lines.append(f"  image_digest: {published.image_digest}")
        if published.sha256:
            lines.append(f"  artifact_sha256: {published.sha256}")
    if published.baseline_folder:
        lines += ["  sagemaker:", "    monitor:", f"      {config_line(request.version)}"]
    return lines
