"""`model publish` against moto: the artifact lands where the platform plan verifies it (full-object
SHA-256, binary, metadata digest, object lock), versions are never overwritten, registration is pending
approval, and every refusal is one line with exit 2 and nothing uploaded."""
from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from main import cli
from modules.config import load_env
from modules.model_publish import PublishError, PublishRequest, Upload, config_lines, publish
from modules.naming import Naming
from modules.platform.published import COMPOSITE_SHA256, FULL_OBJECT_SHA256

ENV = "dev"
ACCOUNT = "111122223333"  # environments/dev.yaml; moto's default account is 123456789012
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_SESSION_TOKEN", "testing"), ("AWS_DEFAULT_REGION", "eu-west-1")):
        monkeypatch.setenv(key, value)
    with mock_aws():
        config = load_env(ENV)
        naming = Naming.of(config)
        s3 = boto3.client("s3", region_name=config.region)
        s3.create_bucket(Bucket=naming.bucket("model-artifacts"), ObjectLockEnabledForBucket=True,
                         CreateBucketConfiguration={"LocationConstraint": config.region})
        sagemaker = boto3.client("sagemaker", region_name=config.region)
        for model in config.platform.models:
            sagemaker.create_model_package_group(ModelPackageGroupName=naming.model_resource(model.name))
        yield config, naming, s3, sagemaker


def _artifact(tmp_path: Path, name: str = "model.tar.gz", content: bytes = b"\x1f\x8b weights") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _image(naming: Naming, model: str) -> str:
    return f"{naming.registry}/{naming.model_repository(model)}@{DIGEST}"


def test_upload_carries_what_the_plan_verifies(aws, tmp_path):
    config, naming, s3, _ = aws
    path = _artifact(tmp_path)
    published = publish(PublishRequest(config, "fraud-scorer", "1.5.0", path), boto3.session.Session())
    head = s3.head_object(Bucket=published.bucket, Key=published.key, ChecksumMode="ENABLED")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert published.key == "models/fraud-scorer/1.5.0/model.tar.gz"
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(expected)).decode()
    assert re.match(FULL_OBJECT_SHA256, head["ChecksumSHA256"])  # a full-object checksum, not of parts
    assert head["ContentType"] == "application/octet-stream"
    assert head["Metadata"]["sha256"] == expected
    assert head["ObjectLockMode"] == config.data.object_lock.mode
    assert head["ObjectLockRetainUntilDate"] >= published.retain_until.replace(microsecond=0)


def test_an_existing_version_is_never_overwritten(aws, tmp_path):
    config, naming, s3, _ = aws
    first = _artifact(tmp_path, content=b"first")
    publish(PublishRequest(config, "fraud-scorer", "1.5.0", first), boto3.session.Session())
    second = _artifact(tmp_path, content=b"second")
    with pytest.raises(PublishError, match="already exists"):
        publish(PublishRequest(config, "fraud-scorer", "1.5.0", second), boto3.session.Session())
    body = s3.get_object(Bucket=naming.bucket("model-artifacts"), Key="models/fraud-scorer/1.5.0/model.tar.gz")
    assert body["Body"].read() == b"first"


def test_register_creates_a_pending_package_with_image_and_artifact(aws, tmp_path):
    config, naming, _, sagemaker = aws
    request = PublishRequest(config, "fraud-scorer", "1.5.0", _artifact(tmp_path),
                             image=_image(naming, "fraud-scorer"), register=True)
    published = publish(request, boto3.session.Session())
    package = sagemaker.describe_model_package(ModelPackageName=published.package_arn)
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    (container,) = package["InferenceSpecification"]["Containers"]
    assert container["Image"].endswith(f"@{DIGEST}")
    assert container["ModelDataUrl"] == published.uri
    assert published.package_arn.endswith(f"model-package/{naming.resource('fraud-scorer')}/1")
    assert config_lines(request, published) == ["- name: fraud-scorer", "  version: 1.5.0", "  model_package_version: 1"]
    unregistered = PublishRequest(config, "fraud-scorer", "1.6.0", request.artifact, image=request.image)
    assert config_lines(unregistered, publish(unregistered, boto3.session.Session())) == [
        "- name: fraud-scorer", "  version: 1.6.0", f"  image_digest: {DIGEST}",
        f"  artifact_sha256: {published.sha256}"]


def test_the_lambda_reference_model_json_carries_its_digest(aws, tmp_path):
    config, naming, s3, _ = aws
    path = _artifact(tmp_path, "model.json", json.dumps({"labels": ["a", "b"]}).encode())
    published = publish(PublishRequest(config, "doc-classifier", "1.1.0", path), boto3.session.Session())
    head = s3.head_object(Bucket=published.bucket, Key=published.key)
    assert published.key == "models/doc-classifier/1.1.0/model.json"
    assert head["Metadata"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert head["ContentType"] == "application/octet-stream"  # never read into the plan


@pytest.mark.parametrize("changes, message", [
    ({"--artifact": "missing/model.tar.gz"}, "no such file"),
    ({"--artifact": "weights.bin"}, "serves model.tar.gz"),
    ({"--version": "latest"}, "not a semantic version"),
    ({"--model": "nope"}, "is not in environments/dev.yaml"),
    ({"--register": None}, "--register needs --image"),
    ({"--image": "nginx:latest"}, "is not <registry>"),
    ({"--image": f"{'2' * 12}.dkr.ecr.eu-west-1.amazonaws.com/other@{DIGEST}"}, "is not in 111122223333.dkr.ecr"),
])
def test_refusals_before_aws_are_one_line_and_exit_2(aws, tmp_path, monkeypatch, changes, message):
    monkeypatch.chdir(tmp_path)
    _artifact(tmp_path)
    _artifact(tmp_path, "weights.bin")
    options = {"--env": ENV, "--model": "fraud-scorer", "--version": "1.5.0", "--artifact": "model.tar.gz", **changes}
    argv = ["model", "publish", *[x for key, value in options.items() for x in ([key] if value is None else [key, value])]]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line, line


def test_wrong_account_is_refused_and_nothing_is_uploaded(aws, tmp_path, monkeypatch):
    config, naming, s3, _ = aws
    other = config.model_copy(update={"account_id": "999988887777"})
    with pytest.raises(PublishError, match="credentials are of account 111122223333"):
        publish(PublishRequest(other, "fraud-scorer", "1.5.0", _artifact(tmp_path)), boto3.session.Session())
    assert s3.list_objects_v2(Bucket=naming.bucket("model-artifacts")).get("KeyCount", 0) == 0


def test_a_missing_bucket_says_to_apply_the_data_stack(aws, tmp_path):
    config, naming, s3, _ = aws
    s3.delete_bucket(Bucket=naming.bucket("model-artifacts"))
    with pytest.raises(PublishError, match=f"bucket {naming.bucket('model-artifacts')} does not exist: apply dev-data"):
        publish(PublishRequest(config, "fraud-scorer", "1.5.0", _artifact(tmp_path)), boto3.session.Session())


def test_the_cli_prints_the_config_lines(aws, tmp_path, monkeypatch):
    _, naming, _, _ = aws
    monkeypatch.chdir(tmp_path)
    path = _artifact(tmp_path)
    result = CliRunner().invoke(cli, ["model", "publish", "--env", ENV, "--model", "fraud-scorer", "--version", "1.5.0",
                                      "--artifact", str(path.name), "--image", _image(naming, "fraud-scorer"),
                                      "--register"])
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"(sha256 {digest}," in result.output
    assert "    model_package_version: 1" in result.output.splitlines()
    assert "PendingManualApproval" in result.output


# --- large artifacts: multipart upload -------------------------------------------------------------

MIB = 1024 ** 2
SMALL_PARTS = Upload(single_put_limit=5 * MIB, part_size=5 * MIB)  # moto's (and S3's) smallest part
KEY = "models/fraud-scorer/2.0.0/model.tar.gz"


def _large(tmp_path: Path, size: int = 11 * MIB) -> Path:
    return _artifact(tmp_path, content=bytes(range(256)) * (size // 256))


def _open_uploads(s3, naming: Naming) -> list:
    return s3.list_multipart_uploads(Bucket=naming.bucket("model-artifacts")).get("Uploads", [])


def _no_object(s3, naming: Naming) -> bool:
    return s3.list_objects_v2(Bucket=naming.bucket("model-artifacts"), Prefix="models/fraud-scorer/2.0.0/")[
        "KeyCount"] == 0


def test_a_large_artifact_goes_up_in_parts_with_their_checksums_and_its_sha256(aws, tmp_path):
    config, naming, s3, _ = aws
    path, seen, started = _large(tmp_path), [], []
    session = boto3.session.Session()
    session.events.register("provide-client-params.s3.CreateMultipartUpload",
                            lambda params, **_: started.append(dict(params)))
    published = publish(PublishRequest(config, "fraud-scorer", "2.0.0", path), session,
                        lambda sent, total: seen.append((sent, total)), SMALL_PARTS)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    head = s3.head_object(Bucket=published.bucket, Key=KEY, ChecksumMode="ENABLED")
    assert published.sha256 == head["Metadata"]["sha256"] == expected
    # S3 keeps the SHA-256 of the parts' SHA-256s, reported as `<base64>-<parts>` (moto leaves the suffix out).
    data = path.read_bytes()
    parts = [data[i:i + 5 * MIB] for i in range(0, len(data), 5 * MIB)]
    composite = base64.b64encode(hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()).decode()
    assert head["ChecksumSHA256"] in (composite, f"{composite}-3")
    assert re.match(COMPOSITE_SHA256, f"{composite}-3") and not re.match(FULL_OBJECT_SHA256, f"{composite}-3")
    assert head["ContentType"] == "application/octet-stream" and head["ContentLength"] == path.stat().st_size
    # The object lock goes on the upload (moto does not keep it for multipart objects).
    (request,) = started
    assert (request["ObjectLockMode"], request["ObjectLockRetainUntilDate"], request["ChecksumAlgorithm"]) == (
        config.data.object_lock.mode, published.retain_until, "SHA256")
    assert s3.get_object(Bucket=published.bucket, Key=KEY)["Body"].read() == path.read_bytes()
    assert seen == [(5 * MIB, 11 * MIB), (10 * MIB, 11 * MIB), (11 * MIB, 11 * MIB)]  # the progress bar
    assert _open_uploads(s3, naming) == []


def _failing_part(number: int, code: str = "BadDigest"):
    """A botocore before-call hook: UploadPart of part `number` fails as S3 would answer it."""
    class Response:
        status_code, headers, raw, content = 400, {}, None, b""

    def hook(params, **_):
        if params.get("query_string", {}).get("partNumber") == number:
            return Response(), {"Error": {"Code": code, "Message": "The Content-SHA256 you specified did not match"},
                                "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None
    return hook


def test_an_error_mid_upload_aborts_it_and_leaves_nothing(aws, tmp_path):
    config, naming, s3, _ = aws
    session = boto3.session.Session()
    session.events.register("before-call.s3.UploadPart", _failing_part(2))
    with pytest.raises(PublishError, match="UploadPart: BadDigest"):
        publish(PublishRequest(config, "fraud-scorer", "2.0.0", _large(tmp_path)), session, None, SMALL_PARTS)
    assert _no_object(s3, naming) and _open_uploads(s3, naming) == []


def test_an_interruption_mid_upload_aborts_it_too(aws, tmp_path):
    config, naming, s3, _ = aws

    def interrupt(sent, total):
        if sent >= 10 * MIB:
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        publish(PublishRequest(config, "fraud-scorer", "2.0.0", _large(tmp_path)), boto3.session.Session(),
                interrupt, SMALL_PARTS)
    assert _no_object(s3, naming) and _open_uploads(s3, naming) == []


def test_a_file_that_changes_while_it_is_uploaded_is_not_published(aws, tmp_path):
    config, naming, s3, _ = aws
    path = _large(tmp_path)

    def tamper(sent, total):
        if sent == 5 * MIB:
            with path.open("r+b") as handle:
                handle.seek(6 * MIB)
                handle.write(b"tampered")
    with pytest.raises(PublishError, match="changed while it was uploaded"):
        publish(PublishRequest(config, "fraud-scorer", "2.0.0", path), boto3.session.Session(), tamper, SMALL_PARTS)
    assert _no_object(s3, naming) and _open_uploads(s3, naming) == []


def test_a_version_published_meanwhile_is_not_overwritten_by_the_completion(aws, tmp_path):
    """Between the folder check and CompleteMultipartUpload another publish wins: If-None-Match refuses."""
    config, naming, s3, _ = aws
    bucket = naming.bucket("model-artifacts")

    def race(sent, total):
        if sent == total:
            s3.put_object(Bucket=bucket, Key=KEY, Body=b"the other publish", IfNoneMatch="*")
    with pytest.raises(PublishError, match="CompleteMultipartUpload: PreconditionFailed"):
        publish(PublishRequest(config, "fraud-scorer", "2.0.0", _large(tmp_path)), boto3.session.Session(), race,
                SMALL_PARTS)
    assert s3.get_object(Bucket=bucket, Key=KEY)["Body"].read() == b"the other publish"
    assert _open_uploads(s3, naming) == []


# --- the Model Monitor baseline: published with the version (how prod gets staging's baseline) ----------

STATISTICS = {"version": 0.0, "dataset": {"item_count": 2}, "features": []}
CONSTRAINTS = {"version": 0.0, "features": [], "monitoring_config": {"evaluate_constraints": "Enabled",
                                                                     "emit_metrics": "Enabled"}}
BASELINE_FOLDER = "models/_baselines/fraud-scorer/1.5.0/"


def _baseline(tmp_path: Path, statistics=STATISTICS, constraints=CONSTRAINTS) -> Path:
    folder = tmp_path / "baseline"
    folder.mkdir(exist_ok=True)
    for name, document in (("statistics.json", statistics), ("constraints.json", constraints)):
        if document is not None:
            (folder / name).write_text(document if isinstance(document, str) else json.dumps(document))
    return folder


def test_the_baseline_goes_with_the_version_checksummed_and_write_once(aws, tmp_path):
    config, naming, s3, _ = aws
    request = PublishRequest(config, "fraud-scorer", "1.5.0", _artifact(tmp_path), baseline=_baseline(tmp_path))
    published = publish(request, boto3.session.Session())
    bucket = naming.bucket("model-artifacts")
    for name in ("statistics.json", "constraints.json"):
        body = (tmp_path / "baseline" / name).read_bytes()
        head = s3.head_object(Bucket=bucket, Key=f"{BASELINE_FOLDER}{name}", ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert head["ContentType"] == "application/octet-stream"  # the plan's data source keeps it out of state
        assert head["ObjectLockMode"] == config.data.object_lock.mode
        assert s3.get_object(Bucket=bucket, Key=f"{BASELINE_FOLDER}{name}")["Body"].read() == body
    assert published.baseline_folder == BASELINE_FOLDER
    assert config_lines(request, published)[-3:] == ["  sagemaker:", "    monitor:", "      baseline_prefix: 1.5.0/"]


def test_the_baseline_puts_are_conditional(aws, tmp_path):
    config, _, _, _ = aws
    session, puts = boto3.session.Session(), []
    session.events.register("provide-client-params.s3.PutObject", lambda params, **_: puts.append(dict(params)))
    publish(PublishRequest(config, "fraud-scorer", "1.5.0", None, baseline=_baseline(tmp_path)), session)
    assert sorted(p["Key"] for p in puts) == [f"{BASELINE_FOLDER}constraints.json", f"{BASELINE_FOLDER}statistics.json"]
    assert all(p["IfNoneMatch"] == "*" and p["ChecksumAlgorithm"] == "SHA256" for p in puts)
    assert all("ServerSideEncryption" not in p and "SSEKMSKeyId" not in p for p in puts)  # the bucket's model key


def test_an_existing_baseline_is_refused_before_anything_is_uploaded(aws, tmp_path):
    config, naming, s3, _ = aws
    bucket = naming.bucket("model-artifacts")
    s3.put_object(Bucket=bucket, Key=f"{BASELINE_FOLDER}statistics.json", Body=b"{}")
    with pytest.raises(PublishError, match="a baseline already exists .* baselines are write-once"):
        publish(PublishRequest(config, "fraud-scorer", "1.5.0", _artifact(tmp_path), baseline=_baseline(tmp_path)),
                boto3.session.Session())
    assert s3.list_objects_v2(Bucket=bucket, Prefix="models/fraud-scorer/").get("KeyCount", 0) == 0  # no artifact
    assert s3.list_objects_v2(Bucket=bucket, Prefix=BASELINE_FOLDER)["KeyCount"] == 1


def test_a_baseline_put_that_loses_a_race_is_refused(aws, tmp_path):
    """Between the folder check and the PUT another publish wins: If-None-Match refuses the overwrite."""
    config, naming, s3, _ = aws
    bucket, session = naming.bucket("model-artifacts"), boto3.session.Session()

    def race(params, **_):
        if params["Key"].endswith("constraints.json"):
            s3.put_object(Bucket=bucket, Key=params["Key"], Body=b"the other publish", IfNoneMatch="*")
    session.events.register("provide-client-params.s3.PutObject", race)
    with pytest.raises(PublishError, match="PutObject: PreconditionFailed"):
        publish(PublishRequest(config, "fraud-scorer", "1.5.0", None, baseline=_baseline(tmp_path)), session)
    assert s3.get_object(Bucket=bucket, Key=f"{BASELINE_FOLDER}constraints.json")["Body"].read() == b"the other publish"


@pytest.mark.parametrize("statistics, constraints, message", [
    (None, CONSTRAINTS, "statistics.json: no such file"),
    (STATISTICS, None, "constraints.json: no such file"),
    ("[1, 2]", CONSTRAINTS, "statistics.json: a JSON object is expected, not list"),
    ('{"version": 0,', CONSTRAINTS, "statistics.json: line 1 not JSON"),
    ('{"a": 1, "a": 2}', CONSTRAINTS, "duplicate key 'a'"),
    (STATISTICS, {"monitoring_config": {"emit_metrics": "Disabled"}}, 'emit_metrics is "Disabled", not "Enabled"'),
    (STATISTICS, {"features": []}, 'emit_metrics is null, not "Enabled"'),
])
def test_a_broken_baseline_is_one_line_exit_2_and_nothing_uploaded(aws, tmp_path, monkeypatch, statistics,
                                                                   constraints, message):
    _, naming, s3, _ = aws
    monkeypatch.chdir(tmp_path)
    _artifact(tmp_path)
    _baseline(tmp_path, statistics, constraints)
    result = CliRunner().invoke(cli, ["model", "publish", "--env", ENV, "--model", "fraud-scorer", "--version", "1.5.0",
                                      "--artifact", "model.tar.gz", "--baseline", "baseline"])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line, line
    assert s3.list_objects_v2(Bucket=naming.bucket("model-artifacts")).get("KeyCount", 0) == 0


@pytest.mark.parametrize("argv, message", [
    (["--model", "fraud-scorer"], "nothing to publish"),
    (["--model", "doc-classifier", "--baseline", "baseline"], "Model Monitor judges real-time endpoints only"),
    (["--model", "fraud-scorer", "--baseline", "missing"], "missing: no such directory"),
])
def test_baseline_option_refusals(aws, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    _baseline(tmp_path)
    result = CliRunner().invoke(cli, ["model", "publish", "--env", ENV, "--version", "1.5.0", *argv])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line, line


def test_the_cli_prints_the_baseline_prefix(aws, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _baseline(tmp_path)
    result = CliRunner().invoke(cli, ["model", "publish", "--env", ENV, "--model", "fraud-scorer", "--version", "1.5.0",
                                      "--baseline", "baseline"])
    assert result.exit_code == 0, result.output
    assert "        baseline_prefix: 1.5.0/" in result.output.splitlines()
    assert "artifact_sha256" not in result.output
