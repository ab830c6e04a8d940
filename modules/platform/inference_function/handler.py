"""Lambda entry point: batch inference for objects that land under the input prefix.

Batch (event-driven): for every S3 `ObjectCreated` record, read the object (bounded), validate the
whole request, run the verified reference model in memory, then write ONE result object under the
output prefix with SSE-KMS and the inference key. Any bad input produces one error record instead,
never a partial result. A model whose digest does not match is refused: a security event is logged, an error
record is written for each input, and the invocation fails (so it lands in the DLQ for replay).
Synchronous (function URL with AWS_IAM auth, or a direct invoke): the same checks, answered inline.

Environment (set by modules/platform/lambda_inference.py):
  MODEL_NAME, MODEL_VERSION, MODEL_BUCKET, MODEL_KEY, INFERENCE_BUCKET, INPUT_PREFIX,
  OUTPUT_PREFIX, OUTPUT_KMS_KEY_ARN, MAX_INPUT_BYTES, METRICS_NAMESPACE
"""
from __future__ import annotations

import base64
import json
import os
import urllib.parse
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError

from .model import (DIGEST_METADATA_KEY, MAX_MODEL_BYTES, InputError, ModelFormatError, ModelIntegrityError,
                    ReferenceModel, parse_request, verify_digest)
from .telemetry import Telemetry

RESULT_SCHEMA = "aegis.inference.result.v1"
ERROR_SCHEMA = "aegis.inference.error.v1"
RESULT_SUFFIX = ".result.json"
ERROR_SUFFIX = ".error.json"
# S3 errors worth a retry (the invocation fails and Lambda retries); any other read error is final.
RETRYABLE = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "Throttling",
                       "ThrottlingException", "RequestLimitExceeded", "KMS.ThrottlingException"})


@dataclass(frozen=True)
class Settings:
    model_name: str
    model_version: str
    model_bucket: str
    model_key: str
    inference_bucket: str
    input_prefix: str
    output_prefix: str
    output_kms_key_arn: str
    max_input_bytes: int
    metrics_namespace: str

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "Settings":
        return cls(
            model_name=env["MODEL_NAME"], model_version=env["MODEL_VERSION"],
            model_bucket=env["MODEL_BUCKET"], model_key=env["MODEL_KEY"],
            inference_bucket=env["INFERENCE_BUCKET"], input_prefix=env["INPUT_PREFIX"],
            output_prefix=env["OUTPUT_PREFIX"], output_kms_key_arn=env["OUTPUT_KMS_KEY_ARN"],
            max_input_bytes=int(env["MAX_INPUT_BYTES"]), metrics_namespace=env["METRICS_NAMESPACE"])


@dataclass(frozen=True)
class LoadedModel:
    model: ReferenceModel
    sha256: str
    version_id: str | None


_S3 = None
_MODELS: dict[tuple[str, str], LoadedModel] = {}  # verified models, kept for the container's lifetime


def _s3():
    global _S3
    if _S3 is None:
        _S3 = boto3.client("s3")
    return _S3


def reset() -> None:
    """Forget the client and the verified models (tests; a new container starts empty anyway)."""
    global _S3
    _S3 = None
    _MODELS.clear()


def handler(event: dict, context: Any) -> dict:
    settings = Settings.from_env(dict(os.environ))
    telemetry = Telemetry(settings.model_name, settings.metrics_namespace,
                          getattr(context, "aws_request_id", "") or "")
    if isinstance(event, dict) and "Records" in event:
        return process_event(event, _s3(), settings, telemetry)
    return process_sync(event, _s3(), settings, telemetry)


def process_sync(event: Any, s3, settings: Settings, telemetry: Telemetry) -> dict:
    """Synchronous inference: a function-URL request (IAM-authenticated) or a direct invocation
    whose event is the request document itself. Same schema, limits and model check as batch."""
    is_url = isinstance(event, dict) and "requestContext" in event
    try:
        data = _sync_body(event, is_url, settings.max_input_bytes)
        loaded = load_model(s3, settings, telemetry)
        rows = parse_request(data, len(loaded.model.features))
        predictions = loaded.model.predict(rows)
    except ModelIntegrityError as exc:
        telemetry.security_event(
            "model_integrity_violation", action="refused", model_bucket=settings.model_bucket,
            model_key=settings.model_key, recorded_sha256=exc.recorded, actual_sha256=exc.actual)
        telemetry.metrics(ModelIntegrityFailures=1, RequestsFailed=1)
        return _sync_response(is_url, 503, {"error": "model_integrity",
                                            "message": "the model artifact failed its integrity check"})
    except InputError as exc:
        telemetry.log("ERROR", "request.rejected", error=exc.code)
        telemetry.metrics(RequestsFailed=1)
        status = 413 if exc.code == "payload_too_large" else 400
        return _sync_response(is_url, status, {"error": exc.code, "message": exc.message})
    telemetry.log("INFO", "request.scored", instances=len(predictions))
    telemetry.metrics(RequestsSucceeded=1, InstancesScored=len(predictions))
    return _sync_response(is_url, 200, {
        "schema": RESULT_SCHEMA, "model": settings.model_name, "model_version": settings.model_version,
        "model_sha256": loaded.sha256, "count": len(predictions), "predictions": predictions})


def _sync_body(event: Any, is_url: bool, limit: int) -> bytes:
    if is_url:
        body = event.get("body") or ""
        data = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
    else:
        data = json.dumps(event).encode("utf-8")
    if len(data) > limit:
        raise InputError("payload_too_large", f"the request has {len(data)} bytes; the limit is {limit}")
    return data


def _sync_response(is_url: bool, status: int, body: dict) -> dict:
    if not is_url:
        return {"status": status, **body}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, sort_keys=True, separators=(",", ":"))}


def process_event(event: dict, s3, settings: Settings, telemetry: Telemetry) -> dict:
    records = [r for r in event.get("Records", []) if isinstance(r, dict) and "s3" in r]
    inputs = [_input_of(r, settings, telemetry) for r in records]
    inputs = [i for i in inputs if i is not None]
    try:
        loaded = load_model(s3, settings, telemetry)
    except ModelIntegrityError as exc:
        telemetry.security_event(
            "model_integrity_violation", action="refused", model_bucket=settings.model_bucket,
            model_key=settings.model_key, recorded_sha256=exc.recorded, actual_sha256=exc.actual)
        for item in inputs:
            _write_error(s3, settings, item, "model_integrity", "the model artifact failed its integrity check")
        telemetry.metrics(ModelIntegrityFailures=1, RecordsFailed=len(inputs))
        raise
    except ModelFormatError as exc:
        telemetry.log("ERROR", "model.invalid", model_key=settings.model_key, reason=str(exc))
        raise
    counts = {"RecordsSucceeded": 0, "RecordsFailed": 0, "InstancesScored": 0}
    for item in inputs:
        scored = _process(s3, settings, loaded, item, telemetry)
        if scored is None:
            counts["RecordsFailed"] += 1
        else:
            counts["RecordsSucceeded"] += 1
            counts["InstancesScored"] += scored
    telemetry.metrics(**counts)
    return {"succeeded": counts["RecordsSucceeded"], "failed": counts["RecordsFailed"]}


def load_model(s3, settings: Settings, telemetry: Telemetry) -> LoadedModel:
    cache_key = (settings.model_bucket, settings.model_key)
    if cache_key in _MODELS:
        return _MODELS[cache_key]
    response = s3.get_object(Bucket=settings.model_bucket, Key=settings.model_key)
    data = response["Body"].read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        raise ModelFormatError(f"model artifact exceeds {MAX_MODEL_BYTES} bytes")
    # Verify before parsing: an unverified artifact is never interpreted.
    digest = verify_digest(data, (response.get("Metadata") or {}).get(DIGEST_METADATA_KEY))
    loaded = LoadedModel(ReferenceModel.from_bytes(data), digest, response.get("VersionId"))
    telemetry.log("INFO", "model.loaded", model_key=settings.model_key, sha256=digest,
                  model_version=settings.model_version, features=len(loaded.model.features))
    _MODELS[cache_key] = loaded
    return loaded


@dataclass(frozen=True)
class Input:
    bucket: str
    key: str
    version_id: str | None
    relative: str  # key below the input prefix

    def source(self) -> dict:
        return {"bucket": self.bucket, "key": self.key, "version_id": self.version_id}


def _input_of(record: dict, settings: Settings, telemetry: Telemetry) -> Input | None:
    s3 = record["s3"]
    bucket = s3.get("bucket", {}).get("name", "")
    obj = s3.get("object", {})
    key = urllib.parse.unquote_plus(obj.get("key", ""))
    if bucket != settings.inference_bucket or not key.startswith(settings.input_prefix) \
            or key == settings.input_prefix or key.endswith("/"):
        telemetry.log("WARNING", "input.ignored", bucket=bucket, key=key, reason="outside the input prefix")
        return None
    return Input(bucket, key, obj.get("versionId"), key[len(settings.input_prefix):])


def _read(s3, item: Input, limit: int) -> bytes:
    args = {"Bucket": item.bucket, "Key": item.key}
    if item.version_id:
        args["VersionId"] = item.version_id
    try:
        response = s3.get_object(**args)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code in RETRYABLE:
            raise
        raise InputError("unreadable_input", f"the object cannot be read ({code})") from None
    size = int(response.get("ContentLength") or 0)
    if size > limit:
        raise InputError("payload_too_large", f"the object has {size} bytes; the limit is {limit}")
    data = response["Body"].read(limit + 1)  # never trust the header alone
    if len(data) > limit:
        raise InputError("payload_too_large", f"the object exceeds the limit of {limit} bytes")
    return data


def _process(s3, settings: Settings, loaded: LoadedModel, item: Input, telemetry: Telemetry) -> int | None:
    try:
        rows = parse_request(_read(s3, item, settings.max_input_bytes), len(loaded.model.features))
        predictions = loaded.model.predict(rows)  # everything in memory first: no partial output
    except InputError as exc:
        _write_error(s3, settings, item, exc.code, exc.message)
        telemetry.log("ERROR", "input.rejected", key=item.key, error=exc.code)
        return None
    body = {
        "schema": RESULT_SCHEMA, "model": settings.model_name, "model_version": settings.model_version,
        "model_sha256": loaded.sha256, "source": item.source(), "count": len(predictions),
        "predictions": predictions,
    }
    key = f"{settings.output_prefix}{item.relative}{RESULT_SUFFIX}"
    _put(s3, settings, key, body)
    telemetry.log("INFO", "input.scored", key=item.key, output_key=key, instances=len(predictions))
    return len(predictions)


def _write_error(s3, settings: Settings, item: Input, code: str, message: str) -> None:
    body = {"schema": ERROR_SCHEMA, "model": settings.model_name, "model_version": settings.model_version,
            "source": item.source(), "error": code, "message": message}
    _put(s3, settings, f"{settings.output_prefix}{item.relative}{ERROR_SUFFIX}", body)


def _put(s3, settings: Settings, key: str, body: dict) -> None:
    s3.put_object(
        Bucket=settings.inference_bucket, Key=key,
        Body=json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8"),
        ContentType="application/json",
        ServerSideEncryption="aws:kms", SSEKMSKeyId=settings.output_kms_key_arn, BucketKeyEnabled=True)
