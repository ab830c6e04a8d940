"""CKV_AEGIS_40 (images by digest), CKV_AEGIS_41 (no AWS resource handed to a container without
credentials) and CKV_AEGIS_42 (boot failures stop and report), both ways, and each on the broken
shape the generator emitted before (tests/policies/fixtures/broken/)."""
from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from modules.config import load_env
from modules.naming import Naming
from modules.platform.fleet_boot import ModelCache, script
from modules.platform.published import Artifact
from policies.checks.aegis_user_data import container_runs
from policies.checks.aegis_user_data import script as read_script
from policies.checks.container_image_digest import check as image_digest
from policies.checks.launch_template_boot_failures_visible import check as boot_failures
from policies.checks.launch_template_container_credentials import check as container_credentials
from tests.policies.checks.helpers import FAILED, PASSED, UNKNOWN, scan

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
DIGEST = "sha256:" + "ab" * 32
REGISTRY = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
LOOKUP = "${data.aws_ecr_image.model-m_published_image_0A1B2C3D.image_digest}"


def broken(name: str) -> dict[str, dict[str, dict]]:
    return json.loads((BROKEN / name).read_text())["resource"]


def user_data(text: str) -> str:
    """As CDKTF writes it: base64encode of the script, escaped for a Terraform string, with the
    references in it (`${type.name.attr}`) left as they are."""
    def escape(part: str) -> str:
        return part.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    parts = re.split(r"(\$\{[a-z0-9_.-]+[A-Za-z0-9_.-]*\})", text)
    return "${base64encode(\"" + "".join(p if p.startswith("${") else escape(p) for p in parts) + "\")}"


def boot(**overrides) -> str:
    """The GPU fleet's boot script as the generator writes it (a cache mount only when asked)."""
    (model,) = [m for m in load_env("dev").platform.models if m.serving == "ec2"]
    args = dict(region="eu-west-1", registry=REGISTRY, image=f"{REGISTRY}/aegis-dev-m@{DIGEST}", port=8443,
                log_group="/aegis/dev/models/m", model=model,
                artifact=Artifact("b", "models/m/1.0.0/model.tar.gz", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
                cache=None)
    return script(**{**args, **overrides})


def template(text: str, hops: int = 1, endpoint: str = "enabled") -> dict:
    return {"user_data": user_data(text), "metadata_options": {
        "http_endpoint": endpoint, "http_tokens": "required", "http_put_response_hop_limit": hops}}


# --- reading user data -----------------------------------------------------------------------------

def test_user_data_reads_back_exactly_what_the_generator_wrote():
    text = boot(cache=ModelCache("${aws_efs_file_system.fs.id}", "${aws_efs_access_point.ap.id}"))
    assert read_script(user_data(text)) == text
    assert read_script(base64.b64encode(text.encode()).decode()) == text
    assert read_script("${filebase64(\"boot.sh\")}") is None
    (run,) = container_runs(text)
    assert run.image == f"{REGISTRY}/aegis-dev-m@{DIGEST}" and not run.host_network
    assert run.option_values("--publish") == ["8443:8443"]


def test_the_generated_boot_script_is_valid_bash(tmp_path):
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    path = tmp_path / "boot.sh"
    path.write_text(boot(cache=ModelCache("fs-1", "fsap-1")))
    result = subprocess.run([bash, "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_synthesized_user_data_is_the_boot_script(synthesized):
    """Through CDKTF's escaping and back: the launch template carries the script fleet_boot wrote."""
    for env in ("dev", "staging", "prod"):
        (conf,) = synthesized.resources(f"{env}-platform", "aws_launch_template").values()
        text = read_script(conf["user_data"])
        assert text is not None and text.startswith("#!/bin/bash\n")
        assert "set -Eeuo pipefail" in text and "trap 'fail " in text
        assert "docker run --detach" in text and f"{Naming.of(load_env(env)).registry}/" in text


# --- CKV_AEGIS_40 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("image", [f"{REGISTRY}/aegis-dev-m@{DIGEST}", f"{REGISTRY}/aegis-dev-m@{LOOKUP}"])
def test_images_by_digest_pass(image):
    assert scan(image_digest, "aws_sagemaker_model", {"primary_container": {"image": image}}) == PASSED
    assert scan(image_digest, "aws_lambda_function", {"image_uri": image}) == PASSED
    assert scan(image_digest, "aws_launch_template", template(boot(image=image))) == PASSED


@pytest.mark.parametrize("image", [f"{REGISTRY}/aegis-dev-m:1.0.0", f"{REGISTRY}/aegis-dev-m",
                                   "${aws_ecr_repository.r.repository_url}:1.0.0", f"{REGISTRY}/m@sha256:abc",
                                   f"{REGISTRY}/aegis-dev-m@${{data.aws_ecr_images.x.id}}"])
def test_images_by_tag_or_anything_else_fail(image):
    assert scan(image_digest, "aws_sagemaker_model", {"primary_container": {"image": image}}) == FAILED
    assert scan(image_digest, "aws_lambda_function", {"image_uri": image, "package_type": "Image"}) == FAILED
    assert scan(image_digest, "aws_launch_template", template(boot(image=image))) == FAILED


def test_images_not_judged_where_there_are_none_and_unreadable_user_data_fails():
    assert scan(image_digest, "aws_lambda_function", {"filename": "f.zip"}) == UNKNOWN
    assert scan(image_digest, "aws_launch_template", {"image_id": "ami-1"}) == UNKNOWN
    assert scan(image_digest, "aws_launch_template", template("#!/bin/bash\necho no containers\n")) == UNKNOWN
    assert scan(image_digest, "aws_launch_template", {"user_data": "${filebase64(\"boot.sh\")}"}) == FAILED


def test_image_digest_check_fires_on_the_images_by_tag_the_generator_emitted():
    resources = broken("serving_images_by_tag.json")
    results = [scan(image_digest, rtype, conf) for rtype, by_name in resources.items() for conf in by_name.values()]
    assert results and set(results) == {FAILED}
    assert {"aws_sagemaker_model", "aws_launch_template"} <= set(resources)


# --- CKV_AEGIS_41 ------------------------------------------------------------------------------------

BROKEN_RUN = (f"#!/bin/bash\nset -euo pipefail\ndocker run --detach --publish 8443:8443 "
              f"--env MODEL_URI=s3://b/models/m/1.0.0/ {REGISTRY}/aegis-dev-m@{DIGEST}\n")


def test_a_container_that_needs_no_credentials_passes():
    assert scan(container_credentials, "aws_launch_template", template(boot())) == PASSED


def test_a_container_handed_s3_on_the_bridge_network_at_hop_limit_1_fails():
    assert scan(container_credentials, "aws_launch_template", template(BROKEN_RUN)) == FAILED
    assert "cannot reach the instance role's credentials" in container_credentials.details[0]
    arn_run = BROKEN_RUN.replace("s3://b/models/m/1.0.0/", "arn:aws:s3:::b")
    assert scan(container_credentials, "aws_launch_template", template(arn_run)) == FAILED
    assert scan(container_credentials, "aws_launch_template", template(BROKEN_RUN, endpoint="disabled")) == FAILED
    unset = {"user_data": user_data(BROKEN_RUN)}  # EC2's default hop limit is 1
    assert scan(container_credentials, "aws_launch_template", unset) == FAILED


@pytest.mark.parametrize("fix", ["host network", "hop limit 2"])
def test_a_container_that_can_reach_the_credentials_may_fetch_them_itself(fix):
    text = BROKEN_RUN.replace("docker run", "docker run --network host") if fix == "host network" else BROKEN_RUN
    assert scan(container_credentials, "aws_launch_template", template(text, hops=2 if fix == "hop limit 2" else 1)) \
        == PASSED


def test_container_credentials_not_judged_without_containers_and_unreadable_fails():
    assert scan(container_credentials, "aws_launch_template", template("#!/bin/bash\nset -e\n")) == UNKNOWN
    assert scan(container_credentials, "aws_launch_template", {"image_id": "ami-1"}) == UNKNOWN
    assert scan(container_credentials, "aws_launch_template", {"user_data": "${templatefile(\"x\", {})}"}) == FAILED


def test_container_credentials_check_fires_on_the_gpu_fleet_the_generator_emitted():
    (conf,) = broken("gpu_fleet_launch_template.json")["aws_launch_template"].values()
    assert conf["metadata_options"]["http_put_response_hop_limit"] == 1
    assert scan(container_credentials, "aws_launch_template", conf) == FAILED
    assert "MODEL_URI=s3://" in container_credentials.details[0]


# --- CKV_AEGIS_42 ------------------------------------------------------------------------------------

def test_a_boot_script_that_traps_and_checks_efs_utils_passes():
    assert scan(boot_failures, "aws_launch_template", template(boot())) == PASSED
    cached = boot(cache=ModelCache("fs-1", "fsap-1"))
    assert cached.index("command -v mount.efs") < cached.index("mount -t efs")
    assert scan(boot_failures, "aws_launch_template", template(cached)) == PASSED


@pytest.mark.parametrize("text, fragment", [
    ("#!/bin/bash\ndocker run img@" + DIGEST + "\n", "carries on after a failed step"),
    ("#!/bin/bash\nset -euo pipefail\ndocker run img@" + DIGEST + "\n", "without a word"),
    ("#!/bin/bash\nset -Eeuo pipefail\ntrap 'echo failed' ERR\nmount -t efs -o tls,iam fs-1:/ /mnt\n"
     "command -v mount.efs\n", "without first checking"),
])
def test_a_boot_script_that_fails_silently_or_mounts_efs_unchecked_fails(text, fragment):
    assert scan(boot_failures, "aws_launch_template", template(text)) == FAILED
    assert fragment in boot_failures.details[0]


def test_boot_failures_not_judged_for_cloud_config_and_unreadable_fails():
    assert scan(boot_failures, "aws_launch_template", template("#cloud-config\npackages: []\n")) == UNKNOWN
    assert scan(boot_failures, "aws_launch_template", {"user_data": "${file(\"boot.sh\")}"}) == FAILED


def test_boot_failures_check_fires_on_the_gpu_fleet_the_generator_emitted():
    (conf,) = broken("gpu_fleet_launch_template.json")["aws_launch_template"].values()
    assert scan(boot_failures, "aws_launch_template", conf) == FAILED
    assert "without a word" in boot_failures.details[0]
    # And its EFS mount was unchecked too, which the check reports once the failure is trapped.
    text = read_script(conf["user_data"]).replace("set -euo pipefail", "set -euo pipefail\ntrap 'echo x' ERR")
    assert scan(boot_failures, "aws_launch_template", {"user_data": user_data(text)}) == FAILED
    assert "mount.efs" in boot_failures.details[0]
