"""Helpers for the checkov check tests: resource confs are written the way CDKTF synthesizes them
and converted with checkov's own terraform_json converter, so the checks see what checkov gives them."""
from __future__ import annotations

import copy
import json

from checkov.common.models.enums import CheckResult
from checkov.terraform_json.parser import hclify

INFERENCE_KEY = "${data.aws_kms_key.kms-inference.arn}"
MODEL_KEY = "${data.aws_kms_key.kms-model.arn}"
AUDIT_KEY = "${data.aws_kms_key.kms-audit.arn}"
TRAINING_KEY = "${data.aws_kms_key.kms-training.arn}"
ACCOUNT = "111122223333"


def scan(check, rtype: str, conf: dict) -> CheckResult:
    """Run a check on one resource conf as checkov would (wrapping, dynamic blocks, entity type)."""
    return check.scan_entity_conf(hclify(copy.deepcopy(conf)), rtype)


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def mutate(conf: dict, path: str, value=None, *, delete: bool = False) -> dict:
    """A deep copy of `conf` with the dotted `path` set (or deleted); list indices are numbers."""
    out = copy.deepcopy(conf)
    parts = path.split(".")
    node = out
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if delete:
        del node[int(last) if isinstance(node, list) else last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return out


PASSED, FAILED, UNKNOWN = CheckResult.PASSED, CheckResult.FAILED, CheckResult.UNKNOWN
