"""plan/apply and the state key: every stack with an S3 backend needs the state key's ARN recorded in config
(backend.kms_key_id) after bootstrap, and refuses before any terraform runs while it is missing, or when the
bootstrap stack's local state says another key was created."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.config import STATE_KEY_OUTPUT, load_env
from policies.plan.deploy import DeployError, run_plan
from policies.plan.terraform import TerraformError, backend_args
from tests.policies.plan.test_orchestration import PASSING, plan


class RecordingTerraform:
    """Stands in for Terraform: records what would have run."""

    def __init__(self):
        self.calls: list[str] = []

    def __getattr__(self, step):
        return lambda *args, **kwargs: self.calls.append(step)


def without_recorded_key(env: str):
    config = load_env(env)
    return config.model_copy(update={"backend": config.backend.model_copy(update={"kms_key_id": None})})


def test_unrecorded_state_key_refuses_every_s3_stack_before_terraform_runs(synth_copy):
    config = without_recorded_key("staging")
    terraform = RecordingTerraform()
    with pytest.raises(TerraformError, match=r"environments/staging.yaml \[backend.kms_key_id\] is not set.*"
                                             rf"apply staging-bootstrap first.*{STATE_KEY_OUTPUT}"):
        run_plan(config, synth_copy, (), terraform, echo=lambda _: None)
    assert terraform.calls == []


def test_unrecorded_state_key_still_lets_bootstrap_be_planned(synth_copy):
    doc = json.loads((synth_copy / "stacks" / "staging-bootstrap" / "cdk.tf.json").read_text())
    assert backend_args(without_recorded_key("staging"), "staging-bootstrap", doc) == []  # local state


def local_bootstrap_state(out: Path, env: str, key_arn: str) -> Path:
    doc = json.loads((out / "stacks" / f"{env}-bootstrap" / "cdk.tf.json").read_text())
    path = (out / "stacks" / f"{env}-bootstrap" / doc["terraform"]["backend"]["local"]["path"]).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": 4, "outputs": {STATE_KEY_OUTPUT: {"value": key_arn, "type": "string"}}}))
    return path


def test_recorded_key_other_than_the_bootstrap_key_is_refused(fake_terraform, synth_copy):
    created = load_env("staging").backend.kms_key_id.replace("3f1c9e2a", "00000000")
    local_bootstrap_state(synth_copy, "staging", created)
    result = plan(fake_terraform, synth_copy, "staging")
    assert result.exit_code == 2 and f"staging-bootstrap created the state key {created}" in result.output
    assert fake_terraform.commands() == []


def test_recorded_key_equal_to_the_bootstrap_key_plans(fake_terraform, synth_copy):
    local_bootstrap_state(synth_copy, "staging", load_env("staging").backend.kms_key_id)
    fake_terraform.default_plan(PASSING)
    assert plan(fake_terraform, synth_copy, "staging").exit_code == 0


def test_unreadable_bootstrap_state_is_refused(synth_copy):
    local_bootstrap_state(synth_copy, "staging", "x").write_text("{not json")
    with pytest.raises(DeployError, match="local state .* is unreadable"):
        run_plan(load_env("staging"), synth_copy, (), RecordingTerraform(), echo=lambda _: None)


