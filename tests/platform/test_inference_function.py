"""The reference inference function against moto (S3, KMS): the happy path and every failure path.

Properties: the model is verified (SHA-256 recorded with the artifact) before it is used, a
mismatch is refused with a security event; results are written with SSE-KMS and the inference key
under the output prefix; bad input (unreadable object, wrong schema, oversized payload) yields one
clear error record and no result (no partial output); logs never contain payload data.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import urllib.parse

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from modules.platform.inference_function import handler as fn
from modules.platform.inference_function.model import MODEL_FORMAT, REQUEST_SCHEMA, ModelIntegrityError

REGION = "eu-west-1"
MODEL_BUCKET = "aegis-test-model-artifacts-111122223333-eu-west-1"
INFERENCE_BUCKET = "aegis-test-inference-111122223333-eu-west-1"
MODEL_KEY = "models/doc-classifier/1.0.0/model.json"
INPUT = "batch/doc-classifier/input/"
OUTPUT = "batch/doc-classifier/output/"
MAX_BYTES = 4096
# A value that must never show up in logs: it only exists inside payloads.
MARKER = 8675309.25
MODEL = {"format": MODEL_FORMAT, "features": ["amount", "age", "score"], "weights": [0.002, -0.5, 1.5],
         "bias": -0.25, "threshold": 0.5}


def model_bytes(doc=None) -> bytes:
    return json.dumps(doc or MODEL, sort_keys=True).encode()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        kms = boto3.client("kms", region_name=REGION)
        key_arn = kms.create_key(Description="inference")["KeyMetadata"]["Arn"]
        for bucket in (MODEL_BUCKET, INFERENCE_BUCKET):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=INFERENCE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        env = {"MODEL_NAME": "doc-classifier", "MODEL_VERSION": "1.0.0", "MODEL_BUCKET": MODEL_BUCKET,
               "MODEL_KEY": MODEL_KEY, "INFERENCE_BUCKET": INFERENCE_BUCKET, "INPUT_PREFIX": INPUT,
               "OUTPUT_PREFIX": OUTPUT, "OUTPUT_KMS_KEY_ARN": key_arn, "MAX_INPUT_BYTES": str(MAX_BYTES),
               "METRICS_NAMESPACE": "Aegis/test/Inference"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        fn.reset()
        yield type("Aws", (), {"s3": s3, "key_arn": key_arn})
        fn.reset()


def publish_model(s3, data: bytes | None = None, digest: str | None = "auto") -> None:
    data = data if data is not None else model_bytes()
    metadata = {} if digest is None else {"sha256": hashlib.sha256(data).hexdigest() if digest == "auto" else digest}
    s3.put_object(Bucket=MODEL_BUCKET, Key=MODEL_KEY, Body=data, Metadata=metadata)


def put_input(s3, name: str, body) -> dict:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = s3.put_object(Bucket=INFERENCE_BUCKET, Key=INPUT + name, Body=data)
    return {"s3": {"bucket": {"name": INFERENCE_BUCKET},
                   "object": {"key": urllib.parse.quote_plus(INPUT + name), "versionId": response.get("VersionId")}}}


def request(rows) -> dict:
    return {"schema": REQUEST_SCHEMA, "instances": rows}


def invoke(records: list[dict]):
    return fn.handler({"Records": records}, type("Context", (), {"aws_request_id": "req-1"}))


def keys(s3, prefix=OUTPUT) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=INFERENCE_BUCKET, Prefix=prefix).get("Contents", []))


def read(s3, key: str) -> tuple[dict, dict]:
    obj = s3.get_object(Bucket=INFERENCE_BUCKET, Key=key)
    return json.loads(obj["Body"].read()), obj


def log_lines(captured) -> list[dict]:
    return [json.loads(line) for line in captured.out.splitlines() if line.strip()]


def expected_score(row) -> float:
    z = MODEL["bias"] + sum(w * x for w, x in zip(MODEL["weights"], row, strict=True))  # only valid rows are scored
    return round(1 / (1 + math.exp(-z)), 6)


def test_happy_path_scores_and_encrypts_with_the_inference_key(aws, capsys):
    publish_model(aws.s3)
    rows = [[120.0, 3, 0.9], [MARKER, 1, 0.0]]
    summary = invoke([put_input(aws.s3, "2026/day one.json", request(rows))])
    assert summary == {"succeeded": 1, "failed": 0}
    assert keys(aws.s3) == [OUTPUT + "2026/day one.json.result.json"]
    body, obj = read(aws.s3, OUTPUT + "2026/day one.json.result.json")
    assert obj["ServerSideEncryption"] == "aws:kms"
    assert obj["SSEKMSKeyId"] == aws.key_arn
    assert body["model_sha256"] == hashlib.sha256(model_bytes()).hexdigest()
    assert [p["score"] for p in body["predictions"]] == [expected_score(r) for r in rows]
    assert [p["label"] for p in body["predictions"]] == [int(expected_score(r) >= 0.5) for r in rows]
    assert body["source"]["key"] == INPUT + "2026/day one.json"
    lines = log_lines(capsys.readouterr())
    emf = [line for line in lines if "_aws" in line]
    assert emf and emf[-1]["RecordsSucceeded"] == 1 and emf[-1]["InstancesScored"] == 2
    assert emf[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Aegis/test/Inference"
    assert any(line.get("event") == "model.loaded" for line in lines)


def test_logs_never_contain_payload_data(aws, capsys):
    publish_model(aws.s3)
    records = [put_input(aws.s3, "ok.json", request([[MARKER, 1, 2]])),
               put_input(aws.s3, "bad.json", request([[MARKER, 1]])),
               put_input(aws.s3, "nan.json", b'{"schema": "aegis.inference.v1", "instances": [[8675309.25, NaN, 1]]}')]
    invoke(records)
    fn.process_sync({"requestContext": {}, "body": json.dumps(request([[MARKER, 2, 3]]))}, fn._s3(),
                    fn.Settings.from_env(dict(__import__("os").environ)), fn.Telemetry("m", "ns"))
    out = capsys.readouterr().out
    assert out and "8675309" not in out
    for key in keys(aws.s3):
        if key.endswith(".error.json"):
            assert "8675309" not in json.dumps(read(aws.s3, key)[0])


def test_digest_mismatch_is_refused_with_a_security_event(aws, capsys):
    publish_model(aws.s3, digest="0" * 64)
    record = put_input(aws.s3, "a.json", request([[1, 2, 3]]))
    with pytest.raises(ModelIntegrityError):
        invoke([record])  # the invocation fails: Lambda retries, then the DLQ keeps the event
    assert keys(aws.s3) == [OUTPUT + "a.json.error.json"]  # no result
    error, _ = read(aws.s3, OUTPUT + "a.json.error.json")
    assert error["error"] == "model_integrity"
    (event,) = [line for line in log_lines(capsys.readouterr()) if line.get("security_event")]
    assert event["level"] == "CRITICAL" and event["event"] == "security.model_integrity_violation"
    assert event["recorded_sha256"] == "0" * 64
    assert event["actual_sha256"] == hashlib.sha256(model_bytes()).hexdigest()


def test_tampered_artifact_is_refused(aws, capsys):
    honest = model_bytes()
    tampered = model_bytes(dict(MODEL, weights=[9.0, 9.0, 9.0]))
    publish_model(aws.s3, data=tampered, digest=hashlib.sha256(honest).hexdigest())
    with pytest.raises(ModelIntegrityError):
        invoke([put_input(aws.s3, "a.json", request([[1, 2, 3]]))])
    assert not [k for k in keys(aws.s3) if k.endswith(".result.json")]
    assert any(line.get("event") == "security.model_integrity_violation" for line in log_lines(capsys.readouterr()))


def test_missing_digest_is_refused(aws):
    publish_model(aws.s3, digest=None)
    with pytest.raises(ModelIntegrityError):
        invoke([put_input(aws.s3, "a.json", request([[1, 2, 3]]))])
    assert keys(aws.s3) == [OUTPUT + "a.json.error.json"]


def test_unreadable_object_gives_an_error_record(aws):
    publish_model(aws.s3)
    record = {"s3": {"bucket": {"name": INFERENCE_BUCKET}, "object": {"key": INPUT + "gone.json"}}}
    assert invoke([record]) == {"succeeded": 0, "failed": 1}
    assert keys(aws.s3) == [OUTPUT + "gone.json.error.json"]
    error, obj = read(aws.s3, OUTPUT + "gone.json.error.json")
    assert error["error"] == "unreadable_input" and "NoSuchKey" in error["message"]
    assert obj["SSEKMSKeyId"] == aws.key_arn


def test_throttled_read_is_retried_not_recorded(aws, monkeypatch):
    publish_model(aws.s3)
    record = put_input(aws.s3, "a.json", request([[1, 2, 3]]))
    fn.load_model(fn._s3(), fn.Settings.from_env(dict(__import__("os").environ)), fn.Telemetry("m", "ns"))
    client = fn._s3()

    def slow_down(**kwargs):
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "reduce your request rate"}}, "GetObject")
    monkeypatch.setattr(client, "get_object", slow_down)
    with pytest.raises(ClientError):
        invoke([record])
    assert keys(aws.s3) == []


@pytest.mark.parametrize("name, body, code", [
    ("wrong-feature-count.json", request([[1, 2, 3], [1, 2]]), "invalid_schema"),
    ("wrong-schema-tag.json", {"schema": "other", "instances": [[1, 2, 3]]}, "invalid_schema"),
    ("not-a-number.json", request([[1, "2", 3]]), "invalid_schema"),
    ("boolean.json", request([[1, True, 3]]), "invalid_schema"),
    ("empty.json", request([]), "invalid_schema"),
    ("extra-keys.json", dict(request([[1, 2, 3]]), debug=True), "invalid_schema"),
    ("not-json.json", b"instances: [1, 2, 3]", "invalid_json"),
    ("nan.json", b'{"schema": "aegis.inference.v1", "instances": [[1, NaN, 3]]}', "invalid_json"),
    ("latin1.json", "{\"schema\": \"caf\u00e9\"}".encode("latin-1"), "invalid_json"),
])
def test_bad_input_gives_one_error_record_and_no_result(aws, name, body, code):
    publish_model(aws.s3)
    assert invoke([put_input(aws.s3, name, body)]) == {"succeeded": 0, "failed": 1}
    assert keys(aws.s3) == [OUTPUT + name + ".error.json"]
    error, _ = read(aws.s3, OUTPUT + name + ".error.json")
    assert error["error"] == code and error["message"]


def test_oversized_payload_is_rejected_before_reading(aws):
    publish_model(aws.s3)
    rows = [[1.0, 2.0, 3.0]] * 400  # well over MAX_BYTES
    body = json.dumps(request(rows)).encode()
    assert len(body) > MAX_BYTES
    invoke([put_input(aws.s3, "big.json", body)])
    assert keys(aws.s3) == [OUTPUT + "big.json.error.json"]
    assert read(aws.s3, OUTPUT + "big.json.error.json")[0]["error"] == "payload_too_large"


def test_no_partial_output_when_a_late_row_is_bad(aws):
    publish_model(aws.s3)
    rows = [[float(i), 1.0, 2.0] for i in range(50)] + [[1.0, 2.0]]
    good = put_input(aws.s3, "good.json", request([[1, 2, 3]]))
    late_bad = put_input(aws.s3, "late-bad.json", request(rows))
    assert invoke([good, late_bad]) == {"succeeded": 1, "failed": 1}
    assert keys(aws.s3) == [OUTPUT + "good.json.result.json", OUTPUT + "late-bad.json.error.json"]
    error, _ = read(aws.s3, OUTPUT + "late-bad.json.error.json")
    assert "instances[50]" in error["message"]


def test_objects_outside_the_input_prefix_are_ignored(aws, capsys):
    publish_model(aws.s3)
    aws.s3.put_object(Bucket=INFERENCE_BUCKET, Key="elsewhere/a.json", Body=b"{}")
    stray = {"s3": {"bucket": {"name": INFERENCE_BUCKET}, "object": {"key": "elsewhere/a.json"}}}
    other_bucket = {"s3": {"bucket": {"name": "someone-else"}, "object": {"key": INPUT + "a.json"}}}
    assert invoke([stray, other_bucket]) == {"succeeded": 0, "failed": 0}
    assert keys(aws.s3, prefix="") == ["elsewhere/a.json"]
    assert sum(line.get("event") == "input.ignored" for line in log_lines(capsys.readouterr())) == 2


def test_model_is_verified_once_per_container(aws, monkeypatch):
    publish_model(aws.s3)
    invoke([put_input(aws.s3, "a.json", request([[1, 2, 3]]))])
    publish_model(aws.s3, digest="f" * 64)  # a later change is not picked up mid-container…
    invoke([put_input(aws.s3, "b.json", request([[1, 2, 3]]))])
    assert keys(aws.s3) == [OUTPUT + "a.json.result.json", OUTPUT + "b.json.result.json"]
    fn.reset()  # …a new container verifies again and refuses it
    with pytest.raises(ModelIntegrityError):
        invoke([put_input(aws.s3, "c.json", request([[1, 2, 3]]))])


def test_function_url_request(aws):
    publish_model(aws.s3)
    ok = fn.handler({"requestContext": {"http": {"method": "POST"}}, "body": json.dumps(request([[1, 2, 3]])),
                     "isBase64Encoded": False}, None)
    assert ok["statusCode"] == 200
    assert json.loads(ok["body"])["predictions"][0]["score"] == expected_score([1, 2, 3])
    bad = fn.handler({"requestContext": {}, "body": "not json"}, None)
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["error"] == "invalid_json"
    big = fn.handler({"requestContext": {}, "body": "x" * (MAX_BYTES + 1)}, None)
    assert big["statusCode"] == 413
    encoded = fn.handler({"requestContext": {}, "isBase64Encoded": True,
                          "body": __import__("base64").b64encode(json.dumps(request([[1, 2, 3]])).encode()).decode()},
                         None)
    assert encoded["statusCode"] == 200
    assert keys(aws.s3, prefix="") == []  # synchronous answers are not stored


def test_direct_invoke_and_integrity_refusal(aws):
    publish_model(aws.s3)
    assert fn.handler(request([[1, 2, 3]]), None)["status"] == 200
    fn.reset()
    publish_model(aws.s3, digest="0" * 64)
    refused = fn.handler(request([[1, 2, 3]]), None)
    assert refused["status"] == 503 and refused["error"] == "model_integrity"


def test_runtime_imports_are_stdlib_and_boto3_only():
    import ast
    import sys
    from pathlib import Path

    folder = Path(fn.__file__).parent
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore"}
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module.split(".")[0]]
            else:
                continue
            assert set(names) <= allowed, (path.name, names)


def test_telemetry_truncates_and_never_serialises_objects():
    from modules.platform.inference_function.telemetry import MAX_FIELD_CHARS, Telemetry

    stream = io.StringIO()
    Telemetry("m", "ns", stream=stream).log("INFO", "x", key="k" * 2000, rows=[1, 2, 3])
    line = json.loads(stream.getvalue())
    assert len(line["key"]) == MAX_FIELD_CHARS and line["rows"] == "[1, 2, 3]"
