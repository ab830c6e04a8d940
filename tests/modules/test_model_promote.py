"""`model promote`: the environment file points the model at the package version, keeps its comments,
drops what the package pins, and is validated before anything is written."""
from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

import main
from modules.config import load_env
from modules.model_promote import PromoteError, Promotion, edited_text, promote
from tests.conftest import ROOT


@pytest.fixture
def envs(tmp_path):
    target = tmp_path / "environments"
    shutil.copytree(ROOT / "environments", target)
    return target


def test_promotion_sets_the_package_keeps_comments_and_drops_the_pinned_keys(envs):
    before = (envs / "prod.yaml").read_text()
    promote(envs, Promotion("prod", "fraud-scorer", 7, "1.5.0"))
    after = (envs / "prod.yaml").read_text()
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == \
        [line for line in after.splitlines() if line.lstrip().startswith("#")]
    model = next(m for m in load_env("prod", envs).platform.models if m.name == "fraud-scorer")
    assert (model.model_package_version, model.version, model.image_digest, model.artifact_sha256) == \
        (7, "1.5.0", None, None)
    others = [m for m in load_env("prod", envs).platform.models if m.name != "fraud-scorer"]
    assert others == [m for m in load_env("prod").platform.models if m.name != "fraud-scorer"]
    promote(envs, Promotion("prod", "fraud-scorer", 8))  # an existing key is replaced in place
    text = (envs / "prod.yaml").read_text()
    assert text.count("model_package_version") == 1 and "model_package_version: 8" in text


@pytest.mark.parametrize("model, message", [
    ("doc-classifier", "does not deploy SageMaker model packages"),  # lambda: the loader refuses it
    ("nope", "has no model named nope"),
])
def test_a_promotion_that_would_not_load_writes_nothing(envs, model, message):
    before = (envs / "prod.yaml").read_bytes()
    with pytest.raises(PromoteError, match=message):
        promote(envs, Promotion("prod", model, 3))
    assert (envs / "prod.yaml").read_bytes() == before


def test_flow_style_and_multi_line_values_are_left_to_a_person():
    flow = "platform:\n  models:\n    - {name: m, serving: sagemaker, version: 1.0.0}\n"
    with pytest.raises(PromoteError, match="flow style"):
        edited_text(flow, "e.yaml", Promotion("e", "m", 1))
    folded = "platform:\n  models:\n    - name: m\n      image_digest: >-\n        sha256:ab\n"
    with pytest.raises(PromoteError, match="image_digest is not a one-line value"):
        edited_text(folded, "e.yaml", Promotion("e", "m", 1))


def test_the_command_exits_2_with_one_line_on_a_refusal(envs):
    result = CliRunner().invoke(main.cli, ["--environments", str(envs), "model", "promote", "--env", "prod",
                                           "--model", "nope", "--package-version", "2"])
    assert result.exit_code == 2 and "has no model named nope" in result.output
    result = CliRunner().invoke(main.cli, ["--environments", str(envs), "model", "promote", "--env", "prod",
                                           "--model", "fraud-scorer", "--package-version", "2"])
    assert result.exit_code == 0, result.output
    assert "now deploys package version 2" in result.output
