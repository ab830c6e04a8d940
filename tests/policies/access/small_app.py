"""A small dev app for the effective-access tests: an inference key and bucket, a datasets bucket
(SSE-S3), the data-scientist persona and one model execution role, each piece replaceable."""
from __future__ import annotations

import json
from pathlib import Path

from policies.access import access_of, load_intent
from policies.access.analysis import EnvAccess
from policies.app_checks.view import AppView
from tests.policies.app_checks.helpers import app, config

ACCOUNT, REGION = "111122223333", "eu-west-1"
PREFIX = "aegis-dev"
DS = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-data-scientist"
EXEC = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-fraud-scorer-exec"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
INFERENCE_BUCKET = f"{PREFIX}-inference-{ACCOUNT}-{REGION}"
DATASETS_BUCKET = f"{PREFIX}-datasets-{ACCOUNT}-{REGION}"
KEY_REF = "${aws_kms_key.inference.arn}"  # in the data stack
KEY_LOOKUP = "${data.aws_kms_key.inference.arn}"  # elsewhere, through the alias

INTENT = """
principals:
  data-scientist:
    roles: ["{prefix}-data-scientist"]
    may: [read:datasets]
  model-exec:
    roles: ["{prefix}-*-exec"]
    may: [read:inference, write:inference, use-key:inference, read:datasets]
  helper:
    roles: ["{prefix}-helper"]
    may: [pass-role:model-exec, assume-role:model-exec, read:inference, use-key:inference]
"""


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


ROOT_DELEGATION = {"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
                   "Resource": "*"}
HUMAN_TRUST = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:root"}, "Action": "sts:AssumeRole"}


def service_trust(service: str = "sagemaker.amazonaws.com") -> str:
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


EXEC_GRANTS = (allow("kms:Decrypt", KEY_LOOKUP), allow("s3:GetObject", f"arn:aws:s3:::{INFERENCE_BUCKET}/*"))


def role(name: str, trust: str, *statements: dict, boundary: str | None = None) -> tuple[dict, dict]:
    conf: dict = {"name": f"{PREFIX}-{name}", "assume_role_policy": trust}
    if boundary is not None:
        conf["permissions_boundary"] = boundary
    policy = {"role": f"${{aws_iam_role.{name}.id}}", "name": name, "policy": doc(*statements)} if statements else None
    return conf, policy


def stacks(*, ds: tuple[dict, ...] = (), exec_grants: tuple[dict, ...] = EXEC_GRANTS,
           exec_trust: str | None = None, key_policy: tuple[dict, ...] = (ROOT_DELEGATION,),
           bucket_policy: tuple[dict, ...] | None = None, datasets_policy: tuple[dict, ...] | None = None,
           ds_boundary: str | None = None, boundary_policy: tuple[dict, ...] | None = None,
           scp: tuple[dict, ...] | None = None, scp_attached: bool = True,
           extra_roles: dict[str, tuple[str, tuple[dict, ...]]] | None = None,
           topic_policy: tuple[dict, ...] | None = None) -> dict[str, dict]:
    roles, policies = {}, {}
    specs = {"data-scientist": (doc(HUMAN_TRUST), ds, ds_boundary),
             "fraud-scorer-exec": (exec_trust or service_trust(), exec_grants, None)}
    for name, (trust, statements) in (extra_roles or {}).items():
        specs[name] = (trust, statements, None)
    for name, (trust, statements, boundary) in specs.items():
        roles[name], policy = role(name, trust, *statements, boundary=boundary)
        if policy:
            policies[name] = policy
    data: dict = {
        "aws_kms_key": {"inference": {"description": "inference", "policy": doc(*key_policy)}},
        "aws_kms_alias": {"inference": {"name": f"alias/{PREFIX}-inference",
                                        "target_key_id": "${aws_kms_key.inference.key_id}"}},
        "aws_s3_bucket": {"inference": {"bucket": INFERENCE_BUCKET}, "datasets": {"bucket": DATASETS_BUCKET}},
        "aws_s3_bucket_server_side_encryption_configuration": {
            "inference": {"bucket": "${aws_s3_bucket.inference.id}", "rule": [{"apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms", "kms_master_key_id": KEY_REF}, "bucket_key_enabled": True}]},
            "datasets": {"bucket": "${aws_s3_bucket.datasets.id}", "rule": [{"apply_server_side_encryption_by_default": {
                "sse_algorithm": "AES256"}}]}},
    }
    if bucket_policy is not None:
        data["aws_s3_bucket_policy"] = {"inference": {"bucket": "${aws_s3_bucket.inference.id}",
                                                      "policy": doc(*bucket_policy)}}
    if datasets_policy is not None:
        data.setdefault("aws_s3_bucket_policy", {})["datasets"] = {"bucket": "${aws_s3_bucket.datasets.id}",
                                                                  "policy": doc(*datasets_policy)}
    access: dict = {"aws_iam_role": roles, "aws_iam_role_policy": policies,
                    "aws_sns_topic": {"alerts": {"name": f"{PREFIX}-alerts"}}}
    if topic_policy is not None:
        access["aws_sns_topic_policy"] = {"alerts": {"arn": "${aws_sns_topic.alerts.arn}", "policy": doc(*topic_policy)}}
    if boundary_policy is not None:
        access["aws_iam_policy"] = {"boundary": {"name": f"{PREFIX}-permission-boundary", "policy": doc(*boundary_policy)}}
    if scp is not None:
        access["aws_organizations_policy"] = {"scp": {"name": "scp", "type": "SERVICE_CONTROL_POLICY",
                                                      "content": doc(*scp)}}
        if scp_attached:
            access["aws_organizations_policy_attachment"] = {"scp": {"policy_id": "${aws_organizations_policy.scp.id}",
                                                                     "target_id": ACCOUNT}}
    lookup = {"aws_kms_key": {"inference": {"key_id": f"alias/{PREFIX}-inference"}}}
    return app("dev", data={"resource": data}, access={"resource": access, "data": lookup})


def intent_file(tmp_path: Path, text: str = INTENT) -> Path:
    path = tmp_path / "access_matrix.yaml"
    path.write_text(text)
    return path


def analyze(tmp_path: Path, **kwargs) -> tuple[EnvAccess, AppView]:
    return analyze_with(load_intent(intent_file(tmp_path)), **kwargs)


def analyze_with(intent, **kwargs) -> tuple[EnvAccess, AppView]:
    view = AppView.build(stacks(**kwargs), {"dev": config("dev")})
    return access_of(view, intent)["dev"], view


def cell(access: EnvAccess, role_suffix: str, capability: str):
    found = [r for r in access.results if r.role.name == f"{PREFIX}-{role_suffix}"]
    assert len(found) == 1, [r.role.name for r in access.results]
    return found[0].cells[capability]
