"""Running the user's terraform: locate it, check its version, and run init / plan / show / apply in a
synthesized stack folder.

The executable is `--terraform PATH`, else $AEGIS_TERRAFORM, else `terraform` on PATH. It must
be at least 1.10 (the stacks use S3-native state locking, `use_lockfile`, and declare
`required_version = ">= 1.10"`; see modules/pillar_stack.py). Terraform runs non-interactively
(`-input=false`, TF_IN_AUTOMATION), its output goes to stderr so our stdout stays the report, and
the attestation key is not passed to it. Any non-zero exit is a `TerraformError` (exit 2).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Mapping

from modules.atomic import atomic_file

ENV_VAR = "AEGIS_TERRAFORM"
MIN_VERSION = (1, 10)
MIN_VERSION_TEXT = "1.10"
LOCK_TIMEOUT = "-lock-timeout=300s"  # S3 lock files: wait for a concurrent run instead of failing at once
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_HIDDEN_ENV = ("AEGIS_ATTESTATION_KEY",)


class TerraformError(Exception):
    pass


def version_tuple(text: str) -> tuple[int, int, int] | None:
    match = _VERSION.search(text or "")
    return tuple(int(g) for g in match.groups()) if match else None  # type: ignore[return-value]


def _stderr() -> int | IO | None:
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # pytest / click capture: inherit instead
        return None


@dataclass
class Terraform:
    executable: str
    version: str
    shown_as: str  # how messages name it (the option or name given, never a resolved machine path)

    @classmethod
    def locate(cls, option: str | None = None, environ: Mapping[str, str] | None = None) -> "Terraform":
        environ = os.environ if environ is None else environ
        given = option or environ.get(ENV_VAR) or "terraform"
        source = "--terraform" if option else (f"${ENV_VAR}" if environ.get(ENV_VAR) else "PATH")
        if os.sep in given or (os.altsep and os.altsep in given):
            path = given if os.path.isfile(given) and os.access(given, os.X_OK) else None
        else:
            path = shutil.which(given, path=environ.get("PATH"))
        if not path:
            raise TerraformError(
                f"terraform not found ({given!r} from {source}): install Terraform ≥ {MIN_VERSION_TEXT} "
                f"(https://developer.hashicorp.com/terraform/install), or point --terraform / ${ENV_VAR} at it")
        # Terraform runs in each stack folder: a relative path (`./bin/terraform`, a relative PATH entry) is
        # made absolute here, once, so the version check and every run use the same file.
        path = os.path.abspath(path)
        version = cls._version(path, given)
        found = version_tuple(version)
        if found is None or found[:2] < MIN_VERSION:
            raise TerraformError(
                f"terraform {version or '(unknown version)'} ({given}) is older than the required {MIN_VERSION_TEXT}: "
                "the stacks use S3-native state locking (use_lockfile), which needs Terraform 1.10; upgrade it")
        return cls(executable=path, version=version, shown_as=given)

    @staticmethod
    def _version(path: str, given: str) -> str:
        try:
            done = subprocess.run([path, "version", "-json"], capture_output=True, text=True, timeout=60,
                                  env=child_env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TerraformError(f"terraform ({given}) could not be run: {exc}") from None
        if done.returncode == 0:
            try:
                return str(json.loads(done.stdout).get("terraform_version", ""))
            except ValueError:
                pass
        # Very old releases have no `-json`: their text output still names the version.
        try:
            text = subprocess.run([path, "version"], capture_output=True, text=True, timeout=60, env=child_env()).stdout
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TerraformError(f"terraform ({given}) could not be run: {exc}") from None
        found = version_tuple(text)
        return ".".join(map(str, found)) if found else ""

    def run(self, args: list[str], cwd: Path, *, label: str, stdout: IO | None = None) -> None:
        """Run `terraform <args>` in `cwd`; `label` names the step in errors (e.g. "plan of dev-data")."""
        try:
            done = subprocess.run([self.executable, *args], cwd=cwd, env=child_env(),
                                  stdout=stdout if stdout is not None else _stderr(), stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise TerraformError(f"terraform {label} could not be started: {exc}") from None
        if done.returncode != 0:
            raise TerraformError(f"terraform {label} failed (exit {done.returncode}); see its output above")

    # ---- the steps

    def init(self, stack_dir: Path, backend_args: list[str], label: str) -> None:
        self.run(["init", "-input=false", LOCK_TIMEOUT, *backend_args], stack_dir, label=f"init of {label}")

    def plan(self, stack_dir: Path, plan_name: str, label: str) -> None:
        self.run(["plan", "-input=false", LOCK_TIMEOUT, f"-out={plan_name}"], stack_dir, label=f"plan of {label}")

    def show_json(self, stack_dir: Path, plan_name: str, json_path: Path, label: str) -> None:
        with atomic_file(json_path) as handle:
            self.run(["show", "-json", plan_name], stack_dir, label=f"show -json of {label}", stdout=handle)

    def apply(self, stack_dir: Path, plan_name: str, label: str) -> None:
        # A saved plan applies without a prompt, exactly as planned (terraform refuses a stale one).
        self.run(["apply", "-input=false", LOCK_TIMEOUT, plan_name], stack_dir, label=f"apply of {label}")


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_ENV}
    env["TF_IN_AUTOMATION"] = "1"
    env["TF_INPUT"] = "0"
    return env


# ---- backend settings of an environment

def backend_args(config, stack: str, synthesized: dict) -> list[str]:
    """`-backend-config` arguments for `init`: the environment's S3 backend settings for this stack.

    They are computed from the environment file (the same convention as modules/pillar_stack.py)
    and must equal what the synthesized stack declares, so a stale synth output can never point
    terraform at another state. A stack with a local backend (the bootstrap stack, or an
    environment with `backend.type: local`) gets none.
    """
    from modules.config import STATE_KEY_OUTPUT
    from modules.naming import BOOTSTRAP, Naming

    declared = ((synthesized.get("terraform") or {}).get("backend") or {})
    if "s3" not in declared:
        if "local" not in declared:
            raise TerraformError(f"{stack}: the synthesized stack declares no backend")
        return []
    if config.backend.type != "s3":
        raise TerraformError(f"{stack}: the synthesized stack uses an S3 backend but environments/{config.name}.yaml "
                             "says local: run `python main.py synth` again")
    naming = Naming.of(config)
    backend = config.backend
    if backend.kms_key_id is None:
        raise TerraformError(
            f"{stack}: environments/{config.name}.yaml [backend.kms_key_id] is not set, so this stack has no usable "
            f"state backend yet: apply {naming.stack(BOOTSTRAP)} first (`python main.py plan/apply --env "
            f"{config.name} --stack {BOOTSTRAP}`), then record its output {STATE_KEY_OUTPUT} (the state key's ARN) "
            "as backend.kms_key_id and synthesize again")
    settings = {
        "bucket": backend.bucket or naming.state_bucket(),
        "key": f"{backend.key_prefix}/{config.name}/{stack}.tfstate",
        "region": backend.state_region(config.region),
        "encrypt": True,
        "kms_key_id": backend.kms_key_id,
        "use_lockfile": True,
    }
    s3 = declared["s3"]
    stale = [k for k, v in settings.items() if s3.get(k) != v]
    if stale:
        raise TerraformError(f"{stack}: the synthesized backend differs from environments/{config.name}.yaml "
                             f"({', '.join(stale)}): run `python main.py synth` again")
    return [f"-backend-config={k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in settings.items()]
