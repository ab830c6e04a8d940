"""What models serve: images by digest from repositories an earlier stack created, artifacts by
checksum, both verified when `<env>-platform` is planned so a missing or changed one stops the plan
before anything is created (modules/platform/published.py, modules/data/model_repository.py)."""
from __future__ import annotations

import base64
import hashlib
import re

from modules.naming import STACK_ORDER
from modules.platform.published import COMPOSITE_SHA256, FULL_OBJECT_SHA256, METADATA_SHA256, base64_sha256
from modules.serving import KINDS
from tests.platform.conftest import ROOT

DIGEST_LITERAL = re.compile(r"@sha256:[0-9a-f]{64}$")
DIGEST_LOOKUP = re.compile(r"@\$\{data\.aws_ecr_image\.([A-Za-z0-9_-]+)\.image_digest\}$")
PUBLISHING = "README: Publishing a model"


def data_of_model(view, dtype: str, model: str) -> dict[str, dict]:
    return {k: v for k, v in view.data(dtype).items() if f"/model-{model}/" in view.path(v)}


def one_data(view, dtype: str, model: str) -> tuple[str, dict]:
    (hit,) = data_of_model(view, dtype, model).items()
    return hit


def served_images(view) -> dict[str, str]:
    """Model name → the image its serving resource runs (SageMaker container or the fleet's docker run)."""
    out = {}
    for model in view.models():
        if model.serving in ("sagemaker", "sagemaker-serverless"):
            _, sm_model = view.one_of_model("aws_sagemaker_model", model.name)
            out[model.name] = sm_model["primary_container"]["image"]
        elif model.serving == "ec2":
            _, lt = view.one_of_model("aws_launch_template", model.name)
            run = next(line for line in lt["user_data"].split("\\n") if line.startswith("docker run "))
            out[model.name] = run.split()[-1]
    return out


def test_serving_references_images_by_digest_never_a_tag(view):
    images = served_images(view)
    assert set(images) == {m.name for m in view.models() if KINDS[m.serving].image}
    for model in view.models():
        if model.name not in images:
            continue
        image = images[model.name]
        assert image.startswith(f"{view.naming.registry}/{view.naming.model_repository(model.name)}@"), image
        logical, lookup = one_data(view, "aws_ecr_image", model.name)
        assert lookup["repository_name"] == view.naming.model_repository(model.name)
        if view.env == "prod":  # pinned in config: what was reviewed is what runs
            assert DIGEST_LITERAL.search(image) and image.endswith(model.image_digest)
            assert lookup["image_digest"] == model.image_digest and "image_tag" not in lookup
        else:  # the version's (immutable) tag, resolved to its digest when the stack is planned
            assert DIGEST_LOOKUP.search(image).group(1) == logical
            assert lookup["image_tag"] == model.version


def test_model_repositories_exist_before_the_platform_stack_that_pulls_from_them(synthesized, env):
    platform = synthesized.stack(f"{env}-platform")
    assert "aws_ecr_repository" not in platform.get("resource", {})
    assert "aws_ecr_repository." not in str(platform)
    created = {r["name"] for r in synthesized.resources(f"{env}-data", "aws_ecr_repository").values()}
    looked_up = {d["repository_name"] for d in platform["data"]["aws_ecr_image"].values()}
    assert looked_up and looked_up == created
    assert STACK_ORDER.index("data") < STACK_ORDER.index("platform")


def test_plan_stops_early_when_an_image_or_artifact_is_missing(view):
    for model in view.models():
        what = f"{view.env} model {model.name} {model.version}"
        if KINDS[model.serving].image:
            repository = view.naming.model_repository(model.name)
            _, listing = one_data(view, "aws_ecr_images", model.name)
            (exists,) = listing["lifecycle"]["precondition"]
            # One repository listing per stack, shared by every model (the same answer for each).
            (repositories_logical,) = view.data("aws_ecr_repositories")
            assert exists["condition"] == (f'${{contains(data.aws_ecr_repositories.{repositories_logical}.names, '
                                           f'"{repository}")}}')
            assert f"Apply {view.env}-data first" in exists["error_message"]
            _, lookup = one_data(view, "aws_ecr_image", model.name)
            (listed,) = lookup["lifecycle"]["precondition"]
            assert "data.aws_ecr_images." in listed["condition"]
            assert (model.image_digest or model.version) in listed["condition"]
            assert listed["error_message"].startswith(what) and PUBLISHING in listed["error_message"]
            assert f"docker push {view.naming.registry}/{repository}:{model.version}" in listed["error_message"]
            if model.image_digest:  # a digest of another version is refused
                (tagged,) = lookup["lifecycle"]["postcondition"]
                assert tagged["condition"] == f'${{contains(self.image_tags, "{model.version}")}}'
        key = f"models/{model.name}/{model.version}/{KINDS[model.serving].artifact}"
        bucket = view.naming.bucket("model-artifacts")
        listing_logical, listing = one_data(view, "aws_s3_objects", model.name)
        assert (listing["bucket"], listing["prefix"]) == (bucket, key)
        _, artifact = one_data(view, "aws_s3_object", model.name)
        assert (artifact["bucket"], artifact["key"], artifact["checksum_mode"]) == (bucket, key, "ENABLED")
        (present,) = artifact["lifecycle"]["precondition"]
        assert present["condition"] == f'${{contains(data.aws_s3_objects.{listing_logical}.keys, "{key}")}}'
        assert f"s3://{bucket}/{key} does not exist" in present["error_message"]
        conditions = [c["condition"] for c in artifact["lifecycle"]["postcondition"]]
        assert any("self.checksum_sha256" in c and "regex" in c for c in conditions)  # a full-object SHA-256
        assert "${try(length(self.body), 0) == 0}" in conditions  # never the body in the plan
        pinned = model.artifact_sha256
        if view.env == "prod":
            # The full-object SHA-256 S3 verified, or (uploaded in parts, over 5 GiB) S3's composite checksum
            # with the pinned SHA-256 in the metadata: never the metadata alone.
            in_parts = (f'(can(regex("{COMPOSITE_SHA256}", self.checksum_sha256)) && '
                        f'{METADATA_SHA256} == "{pinned}")')
            assert f'${{self.checksum_sha256 == "{base64_sha256(pinned)}" || {in_parts}}}' in conditions
            assert f'${{can(regex("{FULL_OBJECT_SHA256}", self.checksum_sha256)) || {in_parts}}}' in conditions
        else:  # nothing pinned: only a full-object checksum S3 verified
            assert f'${{can(regex("{FULL_OBJECT_SHA256}", self.checksum_sha256))}}' in conditions
        assert any("self.metadata" in c for c in conditions) == (model.serving == "lambda" or pinned is not None)


def test_artifact_checksum_is_what_s3_reports_for_the_sha256sum():
    data = b"aegis model"
    assert base64_sha256(hashlib.sha256(data).hexdigest()) == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert base64_sha256(hashlib.sha256(b"").hexdigest()) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_reference_function_reads_the_verified_model_json(view):
    (model,) = view.models("lambda")
    _, function = view.one_of_model("aws_lambda_function", model.name)
    variables = function["environment"]["variables"]
    assert (variables["MODEL_BUCKET"], variables["MODEL_KEY"]) == (
        view.naming.bucket("model-artifacts"), f"models/{model.name}/{model.version}/model.json")
    _, artifact = one_data(view, "aws_s3_object", model.name)
    assert artifact["key"] == variables["MODEL_KEY"]
    if view.env == "prod":  # the digest the function verifies at run time is the one in config
        assert any(f'"{model.artifact_sha256}"' in c["condition"] and "self.metadata" in c["condition"]
                   for c in artifact["lifecycle"]["postcondition"])


def test_fleet_verifies_the_artifact_it_stages(view):
    (model,) = view.models("ec2")
    _, lt = view.one_of_model("aws_launch_template", model.name)
    script = lt["user_data"]
    checksum = re.search(r'\[ \\"\$actual\\" = \\"([^"\\]+|\$\{[^}]+\})\\" \]', script).group(1)
    if view.env == "prod":
        assert checksum == base64_sha256(model.artifact_sha256)
    else:
        logical = one_data(view, "aws_s3_object", model.name)[0]  # what S3 reported when the stack was planned
        assert checksum == f"${{data.aws_s3_object.{logical}.checksum_sha256}}"


def test_the_publishing_steps_the_errors_point_to_exist():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Publishing a model\n", 1)[1].split("\n## ", 1)[0]
    for step in ("docker push", "aws ecr describe-images", "aws s3api put-object", "--checksum-sha256",
                 "--content-type application/octet-stream", "--metadata sha256=", "image_digest", "artifact_sha256"):
        assert step in section, step


def test_publishing_builds_a_docker_v2_manifest_because_sagemaker_refuses_oci_indexes():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Publishing a model\n", 1)[1].split("\n## ", 1)[0]
    assert "--provenance=false --output type=docker" in section
    assert "imageManifestMediaType" in section
    assert "application/vnd.docker.distribution.manifest.v2+json" in section


def test_deploy_steps_list_the_prod_prerequisites_and_the_identity_center_session_cap():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying for real\n", 1)[1].split("\n## ", 1)[0]
    for fact in ("enable-policy-type", "SERVICE_CONTROL_POLICY", "organizations:CreatePolicy", "us-east-1",
                 "ACM certificates", "role chaining", "1 hour"):
        assert fact in section, fact
