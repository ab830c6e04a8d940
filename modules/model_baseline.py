"""`model publish --baseline DIR`: carry a Model Monitor baseline into an environment with its model.

Prod gets its models by promotion from staging, and prod's roles cannot read staging's buckets, so a
baseline that staging's pipeline made has to be republished into prod like the artifact: otherwise a
fresh prod account could never plan `<env>-platform`, which reads the baseline at plan time and whose
pipelines are what would make one. The two files go to `models/_baselines/<model>/<version>/` of the
model-artifacts bucket (where the monitoring schedule reads them: `baseline_prefix: <version>/`):

- both `statistics.json` and `constraints.json`, each a JSON object; `constraints.json` must carry
  `monitoring_config.emit_metrics: Enabled` (SageMaker Model Monitor, "Schema for Constraints"), or
  the analyzer publishes no `feature_baseline_drift_*` metric and the drift alarm never sees one;
- never over an existing baseline: the folder must be empty and each PUT is conditional
  (`If-None-Match: *`, which the bucket policy requires of everyone but the pipelines' own role);
- with its SHA-256 as the full-object checksum (S3 refuses a body that does not match), the bucket's
  default encryption (the model key) and the environment's object lock, like the artifact;
- a binary content type: the plan reads both objects with `data "aws_s3_object"`, which would copy a
  JSON body (the baseline's feature distributions) into the Terraform state.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.strict_json import DuplicateKeyError, unique_object
from modules.training import BASELINE_PREFIX

BASELINE_FILES = ("statistics.json", "constraints.json")
CONTENT_TYPE = "application/octet-stream"


class BaselineError(Exception):
    """A baseline that cannot be published, in one line."""


@dataclass(frozen=True)
class Baseline:
    """The two files of a baseline, read and checked before anything touches AWS."""

    directory: Path
    bodies: dict[str, bytes]  # file name → content

    @staticmethod
    def read(directory: Path) -> "Baseline":
        if not directory.is_dir():
            raise BaselineError(f"{directory}: no such directory (the baseline: statistics.json, constraints.json)")
        bodies = {}
        for name in BASELINE_FILES:
            path = directory / name
            if not path.is_file():
                raise BaselineError(f"{path}: no such file (a baseline holds statistics.json and constraints.json)")
            bodies[name] = path.read_bytes()
            document = _json_object(path, bodies[name])
            if name == "constraints.json":
                monitoring = document.get("monitoring_config")
                emit = monitoring.get("emit_metrics") if isinstance(monitoring, dict) else None
                if emit != "Enabled":
                    raise BaselineError(f"{path}: monitoring_config.emit_metrics is {json.dumps(emit)}, not "
                                        "\"Enabled\": the analyzer would publish no drift metric for the alarm")
        return Baseline(directory, bodies)


def _json_object(path: Path, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=unique_object)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = f" line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise BaselineError(f"{path}:{line} not JSON ({exc.args[0] if exc.args else exc})") from None
    except DuplicateKeyError as exc:
        raise BaselineError(f"{path}: {exc}") from None
    if not isinstance(document, dict):
        raise BaselineError(f"{path}: a JSON object is expected, not {type(document).__name__}")
    return document


def baseline_folder(model: str, version: str) -> str:
    return f"{BASELINE_PREFIX}{model}/{version}/"


def config_line(version: str) -> str:
    """The model's `sagemaker.monitor.baseline_prefix`, relative to `models/_baselines/<model>/`."""
    return f"baseline_prefix: {version}/"


def refuse_existing(s3, bucket: str, folder: str, account: str) -> None:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=folder, MaxKeys=1, ExpectedBucketOwner=account)
    if listed.get("KeyCount", 0):
        raise BaselineError(f"a baseline already exists in s3://{bucket}/{folder}: baselines are write-once; "
                            "publish it with a new version")


def upload(s3, bucket: str, folder: str, baseline: Baseline, lock: dict[str, Any], account: str) -> list[str]:
    """PUT both files, each conditional and with its SHA-256; returns their keys."""
    keys = []
    for name in BASELINE_FILES:
        body = baseline.bodies[name]
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        s3.put_object(Bucket=bucket, Key=f"{folder}{name}", Body=body, ContentType=CONTENT_TYPE,
                      ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum, IfNoneMatch="*",
                      Metadata={"sha256": hashlib.sha256(body).hexdigest()}, ExpectedBucketOwner=account, **lock)
        keys.append(f"{folder}{name}")
    return keys
