"""Grant helpers: what each statement allows or denies, and that the workload roles of the platform
still carry them (one copy in the code, the same statements in every role that needs them)."""
from __future__ import annotations

import fnmatch
import json

from modules import grants

REPO = "arn:aws:ecr:eu-west-1:111111111111:repository/p-dev-m"
BUCKET = "arn:aws:s3:::p-dev-model-artifacts-111111111111-eu-west-1"


def test_model_artifacts_are_read_and_listed_under_the_models_prefix_only():
    read, listing = grants.read_own_model_artifacts(BUCKET, "models/m/")
    assert (read["Sid"], read["Action"], read["Resource"]) == ("ReadOwnModelArtifacts", "s3:GetObject",
                                                               f"{BUCKET}/models/m/*")
    assert listing["Resource"] == BUCKET
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "models/m/*"}}


def test_image_pulls_name_one_repository_and_only_the_token_is_on_every_resource():
    pull, token = grants.pull_own_image(REPO)
    assert pull["Resource"] == REPO and all(a.startswith("ecr:") and "Put" not in a for a in pull["Action"])
    assert (token["Action"], token["Resource"]) == ("ecr:GetAuthorizationToken", "*")


def test_log_stream_writes_cannot_create_or_reconfigure_log_groups():
    st = grants.write_log_streams("WriteOwnLogs", "arn:aws:logs:eu-west-1:111111111111:log-group:/x")
    assert st["Sid"] == "WriteOwnLogs" and st["Resource"].endswith(":log-group:/x:log-stream:*")
    assert not any(fnmatch.fnmatch("logs:CreateLogGroup", a) or fnmatch.fnmatch("logs:PutRetentionPolicy", a)
                   for a in st["Action"])


def test_insecure_transport_is_denied_to_everyone():
    st = grants.deny_insecure_transport("sqs:*", "arn:q")
    assert (st["Effect"], st["Principal"], st["Condition"]) == ("Deny", "*", {"Bool": {"aws:SecureTransport": "false"}})
    assert grants.deny_insecure_transport("elasticfilesystem:*", "arn:fs", principal={"AWS": "*"})["Principal"] == {
        "AWS": "*"}


def test_key_administrators_cannot_use_the_key():
    _, admins = grants.key_administration("arn:aws:iam::111111111111:root", "arn:aws:iam::111111111111:role/deployer")
    uses = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo")
    assert not [u for u in uses for a in admins["Action"] if fnmatch.fnmatch(u, a)]


def test_logs_encrypt_only_this_accounts_log_groups_of_its_region():
    st = grants.logs_may_encrypt("us-east-1", "111111111111")
    assert st["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert st["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        "arn:aws:logs:us-east-1:111111111111:log-group:*")


def test_every_image_pulling_workload_role_carries_the_same_grants(synthesized):
    """SageMaker execution roles and GPU fleet instance roles: both pull their own image and read
    their own artifacts, through the one copy of those statements."""
    policies = synthesized.resources("prod-platform", "aws_iam_role_policy").values()
    docs = [json.loads(p["policy"]) for p in policies if not p["policy"].startswith("${")]
    carrying = [d for d in docs if any(s["Sid"] == "PullOwnImage" for s in d["Statement"])]
    assert len(carrying) >= 2
    for doc in carrying:
        sids = [s["Sid"] for s in doc["Statement"]]
        assert {"ReadOwnModelArtifacts", "ListOwnModelArtifacts", "EcrAuthorizationToken"} <= set(sids)
        assert sids.index("PullOwnImage") + 1 == sids.index("EcrAuthorizationToken")
