"""The GPU fleet's boot script (EC2 user data): stage the model on the host, verified, then serve it
from a container that needs no AWS credentials.

With IMDSv2 at hop limit 1 a container on Docker's bridge network cannot reach the instance role's
credentials, by design (CKV_AEGIS_5). So the host does everything that needs AWS: it downloads the
version's artifact, refuses it unless its SHA-256 is the approved one (`Artifact.checksum`), unpacks
it into /opt/ml/model (SageMaker's layout, so one image serves both kinds), logs in to ECR and runs
the image by digest with the model mounted read-only. The container gets no S3 location to read.

Failures are visible: every step runs under `set -Eeuo pipefail` with an ERR trap that writes the
failed line to the console, the journal and a `boot-<host>` stream of the model's log group; the
instance then never passes the load balancer's health check and Auto Scaling replaces it. Tools the
script needs are checked first by name, amazon-efs-utils only when the shared model cache is on.

The script goes into Terraform as `base64encode("<script>")`, with references (EFS IDs, a digest or
checksum resolved at plan time) interpolated: its literal text is escaped for a Terraform string and
may not contain `${` or `%{`.
"""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn

from modules.platform.published import Artifact
from modules.platform.settings import ModelSettings

MODEL_DIR = "/opt/ml/model"
STAGING = "/var/lib/aegis/model.tar.gz"
MODEL_CACHE_MOUNT = "/mnt/model-cache"
CONTAINER_CACHE = "/opt/ml/model-cache"
REQUIRED_TOOLS = ("aws", "docker", "openssl", "tar")


@dataclass(frozen=True)
class ModelCache:
    file_system_id: str
    access_point_id: str


def _literal(text: str) -> str:
    """Escape literal script text for a Terraform quoted string (CDKTF escapes the newlines)."""
    if "${" in text or "%{" in text:
        raise ValueError("boot script text must not contain ${ or %{: Terraform would interpolate it")
    return text.replace("\\", "\\\\").replace('"', '\\"')


def script(*, region: str, registry: str, image: str, port: int, log_group: str, model: ModelSettings,
           artifact: Artifact, cache: ModelCache | None) -> str:
    """The boot script as plain text (references stay as Terraform tokens)."""
    lines = [
        "#!/bin/bash",
        "# Aegis GPU fleet boot: stage the model on the host, verified, then serve it from a container",
        "# that needs no AWS credentials (modules/platform/fleet_boot.py).",
        "set -Eeuo pipefail",
        f"REGION={region}",
        f"LOG_GROUP={log_group}",
        "say() { echo \"aegis-boot: $1\" | tee /dev/console 2>/dev/null | logger -t aegis-boot || true; }",
        "fail() {",
        "  trap - ERR",
        "  set +e",
        "  say \"FAILED: $1\"",
        "  stream=boot-$(hostname)",
        "  message=$(printf '%s' \"$1\" | tr -d '\"\\\\' | cut -c1-900)",
        "  aws logs create-log-stream --region \"$REGION\" --log-group-name \"$LOG_GROUP\" "
        "--log-stream-name \"$stream\" >/dev/null 2>&1 || true",
        "  aws logs put-log-events --region \"$REGION\" --log-group-name \"$LOG_GROUP\" --log-stream-name \"$stream\" "
        "--log-events \"[{\\\"timestamp\\\": $(date +%s%3N), \\\"message\\\": \\\"aegis-boot FAILED: $message\\\"}]\" "
        ">/dev/null 2>&1 || true",
        "  exit 1",
        "}",
        "trap 'fail \"line $LINENO: $BASH_COMMAND exited with status $?\"' ERR",
        f"for tool in {' '.join(REQUIRED_TOOLS)}; do",
        "  command -v \"$tool\" >/dev/null || fail \"$tool is not installed on this AMI\"",
        "done",
    ]
    volumes = [f"--volume {MODEL_DIR}:{MODEL_DIR}:ro"]
    if cache is not None:
        lines += [
            # The file-system policy refuses non-TLS clients; efs-utils provides the TLS tunnel and IAM auth.
            "command -v mount.efs >/dev/null || fail \"the model cache needs amazon-efs-utils (mount.efs), which "
            "this AMI lacks: bake it into the AMI or set ec2.model_cache to false\"",
            f"mkdir -p {MODEL_CACHE_MOUNT}",
            f"mount -t efs -o tls,iam,accesspoint={cache.access_point_id} {cache.file_system_id}:/ {MODEL_CACHE_MOUNT}",
        ]
        volumes.append(f"--volume {MODEL_CACHE_MOUNT}:{CONTAINER_CACHE}")
    lines += [
        f"mkdir -p {MODEL_DIR} {STAGING.rsplit('/', 1)[0]}",
        f"aws s3 cp --only-show-errors --region \"$REGION\" {artifact.uri} {STAGING}",
        f"actual=$(openssl dgst -sha256 -binary {STAGING} | base64 -w0)",
        f"[ \"$actual\" = \"{artifact.checksum}\" ] || fail \"{artifact.uri} has SHA-256 $actual, not the approved "
        f"{artifact.checksum}\"",
        f"tar -xzf {STAGING} -C {MODEL_DIR}",
        f"aws ecr get-login-password --region \"$REGION\" | docker login --username AWS --password-stdin {registry}",
        " ".join([
            "docker run --detach --restart always --gpus all",
            f"--publish {port}:{port}",
            *volumes,
            f"--env MODEL_NAME={model.name} --env MODEL_VERSION={model.version} --env MODEL_DIR={MODEL_DIR}",
            f"--env PORT={port}",
            f"--log-driver awslogs --log-opt awslogs-region={region} --log-opt awslogs-group={log_group}",
            image,
        ]),
        f"say \"serving {model.name} {model.version}\"",
        "",
    ]
    return "\n".join(lines)


def user_data(**kwargs) -> str:
    """`base64encode("<script>")` for the launch template, escaped piecewise so references interpolate."""
    return Fn.base64encode(_escaped(script(**kwargs)))


def _escaped(text: str) -> str:
    # Tokens (`${TfToken[...]}`) pass through; only the literal text around them is escaped.
    out, rest = [], text
    while "${TfToken[" in rest:
        start = rest.index("${TfToken[")
        end = rest.index("]}", start) + 2
        out += [_literal(rest[:start]), rest[start:end]]
        rest = rest[end:]
    return "".join(out + [_literal(rest)])
