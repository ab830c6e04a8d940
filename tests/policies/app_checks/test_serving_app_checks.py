"""AEGIS_SERVING_INPUTS_VERIFIED and AEGIS_S3_ENDPOINT_WORKLOADS, both ways, and each on the
broken shape the generator emitted before (tests/policies/fixtures/broken/)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from modules.config import load_env
from modules.naming import Naming
from modules.platform.aws_owned_buckets import guardduty_agent_buckets, ssm_agent_buckets
from tests.policies.app_checks.helpers import app, doc, failures, resources, run

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
SERVING = "AEGIS_SERVING_INPUTS_VERIFIED"
ENDPOINT = "AEGIS_S3_ENDPOINT_WORKLOADS"
DIGEST = "sha256:" + "cd" * 32
CHECKSUM = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def broken_platform(name: str) -> dict:
    return {"resource": json.loads((BROKEN / name).read_text())["resource"]}


def naming(env: str) -> Naming:
    return Naming.of(load_env(env))


# --- AEGIS_SERVING_INPUTS_VERIFIED ---------------------------------------------------------------------

def serving(env: str, *, pinned: bool, image: str | None = None, artifact_lookup: dict | None = None,
            extra: dict | None = None) -> dict[str, dict]:
    n = naming(env)
    repository, bucket = n.model_repository("m"), n.bucket("model-artifacts")
    key = "models/m/1.0.0/model.tar.gz"
    lookup = {"repository_name": repository, **({"image_digest": DIGEST} if pinned else {"image_tag": "1.0.0"})}
    checks = [{"condition": '${can(regex("^[A-Za-z0-9+/]{43}=$", self.checksum_sha256))}', "error_message": "x"}]
    if pinned:
        checks.append({"condition": f'${{self.checksum_sha256 == "{CHECKSUM}"}}', "error_message": "y"})
    digest = DIGEST if pinned else "${data.aws_ecr_image.img.image_digest}"
    stack = {
        "data": {"aws_ecr_image": {"img": lookup},
                 "aws_s3_object": {"art": artifact_lookup if artifact_lookup is not None else {
                     "bucket": bucket, "key": key, "checksum_mode": "ENABLED",
                     "lifecycle": {"postcondition": checks}}}},
        "resource": {"aws_sagemaker_model": {"m": {"primary_container": {
            "image": image or f"{n.registry}/{repository}@{digest}", "model_data_url": f"s3://{bucket}/{key}"}}},
            **(extra or {})},
    }
    return app(env, platform=stack)


@pytest.mark.parametrize("env, pinned", [("dev", False), ("dev", True), ("prod", True)])
def test_published_and_verified_inputs_pass(env, pinned):
    results = run(SERVING, serving(env, pinned=pinned), env)
    assert results and not failures(results)


def test_the_default_app_serves_only_published_verified_inputs(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names}
    results = run(SERVING, stacks, "dev", "staging", "prod")
    assert len(results) == 12 and not failures(results)  # four models in each of three environments


@pytest.mark.parametrize("case, build, fragment", [
    ("repository-in-the-same-stack", lambda: serving("dev", pinned=True,
                                                      image="${aws_ecr_repository.r.repository_url}:1.0.0"),
     "pulls from a repository this stack creates"),
    ("image-by-tag", lambda: serving("dev", pinned=True, image=f"{naming('dev').registry}/aegis-dev-m:1.0.0"),
     "not an image by digest"),
    ("digest-nobody-looks-up", lambda: serving(
        "dev", pinned=True, image=f"{naming('dev').registry}/aegis-dev-m@sha256:{'ef' * 32}"),
     "not looked up by a data.aws_ecr_image"),
    ("lookup-of-another-repository", lambda: serving(
        "dev", pinned=True, image=f"{naming('dev').registry}/other@{DIGEST}"), "not looked up"),
    ("artifact-not-verified", lambda: serving("dev", pinned=False, artifact_lookup={}), "is not verified"),
    ("checksum-not-read", lambda: serving("dev", pinned=False, artifact_lookup={
        "bucket": naming("dev").bucket("model-artifacts"), "key": "models/m/1.0.0/model.tar.gz",
        "lifecycle": {"postcondition": [{"condition": "${self.checksum_sha256 != \"\"}", "error_message": "x"}]}}),
     "is not verified"),
    ("prod-digest-resolved-at-plan", lambda: serving(
        "prod", pinned=True, image=f"{naming('prod').registry}/aegis-prod-m@${{data.aws_ecr_image.img.image_digest}}"),
     "prod pins images by digest"),
    ("prod-checksum-not-pinned", lambda: serving("prod", pinned=False), "prod pins"),
    ("unreadable-user-data", lambda: serving("dev", pinned=True, extra={
        "aws_launch_template": {"lt": {"user_data": "${filebase64(\"boot.sh\")}"}}}), "cannot be judged"),
])
def test_unpublished_or_unverified_inputs_fail(case, build, fragment):
    stacks = build()
    env = next(iter(stacks)).rsplit("-", 1)[0]
    found = failures(run(SERVING, stacks, env))
    assert found and any(fragment in f for f in found), found


def test_serving_inputs_check_fires_on_what_the_generator_emitted():
    """Each model pulled from a repository created in the same stack, by tag, and nothing verified
    its artifact (the Lambda function's model.json was never uploaded by anything)."""
    results = run(SERVING, app("staging", platform=broken_platform("unpublished_serving_inputs.json")), "staging")
    assert {r.address.split(".")[0] for r in results} == {"aws_sagemaker_model", "aws_launch_template",
                                                          "aws_lambda_function"}
    assert len(results) == 4 and not any(r.passed for r in results)
    by_address = {r.address.split(".")[0]: r.message for r in results}
    assert "pulls from a repository this stack creates" in by_address["aws_launch_template"]
    assert "model.json is not verified" in by_address["aws_lambda_function"]


# --- AEGIS_S3_ENDPOINT_WORKLOADS --------------------------------------------------------------

def endpoint_policy(env: str, *, agents: bool, ecr_condition: bool = False, datasets: bool = True) -> str:
    n = naming(env)
    account = {"StringEquals": {"aws:PrincipalAccount": n.account_id}}
    buckets = [n.bucket_arn(p) for p in ("datasets", "model-artifacts", "inference") if datasets or p != "datasets"]
    statements = [
        {"Sid": "Project", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket", "s3:PutObject"],
         "Resource": buckets + [f"{b}/*" for b in buckets], "Condition": account},
        {"Sid": "Layers", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::prod-{n.region}-starport-layer-bucket/*", **({"Condition": account} if ecr_condition else {})},
    ]
    if agents:
        statements.append({"Sid": "Agents", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": [f"arn:aws:s3:::{b}/*" for b in ssm_agent_buckets(n.region)
                                        + guardduty_agent_buckets(n.region)]})
    return doc(*statements)


def vpc(env: str, policy, *, nat: bool = False, fleet: bool = True) -> dict[str, dict]:
    res = {"aws_vpc_endpoint": {"s3": {"service_name": "com.amazonaws.eu-west-1.s3", "vpc_endpoint_type": "Gateway",
                                       "policy": policy}}}
    if nat:
        res["aws_nat_gateway"] = {"a": {"subnet_id": "${aws_subnet.public.id}"}}
    if fleet:
        res["aws_launch_template"] = {"lt": {"name": f"aegis-{env}-m"}}
    return app(env, platform=resources(**res))


def endpoint_verdict(stacks: dict, env: str) -> tuple[bool, str]:
    (result,) = run(ENDPOINT, stacks, env)
    return result.passed, result.message


@pytest.mark.parametrize("env, nat, fleet, agents", [
    ("staging", False, True, True),  # instances: their agents' buckets too
    ("dev", True, True, True),  # a NAT gateway changes nothing: in-region S3 takes the endpoint's route
    ("dev", True, False, False),  # no instances, no agents
    ("staging", False, False, False),
])
def test_an_endpoint_that_admits_what_the_vpc_needs_passes(env, nat, fleet, agents):
    passed, message = endpoint_verdict(vpc(env, endpoint_policy(env, agents=agents), nat=nat, fleet=fleet), env)
    assert passed, message


def test_the_default_app_endpoints_admit_what_their_vpcs_need(synthesized):
    stacks = {name: synthesized.stack(name) for name in synthesized.stack_names}
    results = run(ENDPOINT, stacks, "dev", "staging", "prod")
    assert len(results) == 3 and not failures(results)


@pytest.mark.parametrize("case, stacks, fragment", [
    ("no-datasets", lambda: vpc("dev", endpoint_policy("dev", agents=False, datasets=False), nat=True),
     "aegis-dev-datasets-111122223333-eu-west-1"),
    ("ecr-layers-for-this-account-only", lambda: vpc("dev", endpoint_policy("dev", agents=False, ecr_condition=True),
                                                     nat=True), "starport-layer-bucket/* for anyone"),
    ("no-nat-no-agent-buckets", lambda: vpc("staging", endpoint_policy("staging", agents=False)),
     "amazon-ssm-eu-west-1"),
    ("nat-no-agent-buckets", lambda: vpc("dev", endpoint_policy("dev", agents=False), nat=True),
     "694911143906-eu-west-1-guardduty-agent-deb-artifacts"),
    ("a-deny", lambda: vpc("dev", json.dumps({**json.loads(endpoint_policy("dev", agents=False)), "Statement": [
        *json.loads(endpoint_policy("dev", agents=False))["Statement"],
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::aegis-dev-datasets-*"}]}),
        nat=True), "a Deny statement refuses"),
    ("no-literal-policy", lambda: vpc("dev", "${data.aws_iam_policy_document.p.json}", nat=True),
     "no literal policy document"),
])
def test_an_endpoint_that_blocks_what_the_vpc_needs_fails(case, stacks, fragment):
    env = next(iter(stacks())).rsplit("-", 1)[0]
    passed, message = endpoint_verdict(stacks(), env)
    assert not passed and fragment in message, message


def test_endpoint_check_fires_on_what_the_generator_emitted():
    """Staging's endpoint (no NAT gateway, a GPU fleet) admitted neither the datasets training reads,
    nor image layers (its ECR statement required this account, but ECR presigns), nor the agents' buckets."""
    stacks = app("staging", platform=broken_platform("s3_endpoint_without_workload_buckets.json"))
    passed, message = endpoint_verdict(copy.deepcopy(stacks), "staging")
    assert not passed
    for missing in ("aegis-staging-datasets-444455556666-eu-west-1/*", "prod-eu-west-1-starport-layer-bucket/*",
                    "amazon-ssm-eu-west-1/*", "694911143906-eu-west-1-guardduty-agent-deb-artifacts/*"):
        assert missing in message
