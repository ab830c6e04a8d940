"""Existing account singletons: `governance.adopt` emits Terraform `import` blocks in the synthesized stacks
(read here from the JSON), `governance.central` leaves the service to its central owner; bad settings are
refused with the key path."""
from __future__ import annotations

import contextlib
import io
import json

import pytest

from modules.config import load_env
from modules.errors import ConfigError
from tests.governance.conftest import environments_with, synth_governance

DETECTOR = "12abc34d567e8fa901bc2d34e56789f0"
DR_DETECTOR = "0f98765e43d2cb109af8e765d43cba21"
ADOPT = {"guardduty_detector": DETECTOR, "guardduty_detector_dr": DR_DETECTOR, "securityhub_account": True,
         "macie_account": True, "inspector": True, "config_recorder": "default",
         "config_delivery_channel": "default", "access_analyzer": "ConsoleAnalyzer-1a2b3c"}


def imports_of(doc: dict) -> dict[str, str]:
    """Import target address → import ID, from the stack's top-level `import` blocks."""
    return {block["to"]: block["id"] for block in doc.get("import", [])}


def address(doc: dict, rtype: str) -> str:
    (name,) = doc["resource"][rtype]
    return f"{rtype}.{name}"


@pytest.fixture(scope="module")
def adopting(tmp_path_factory, synthesized):
    tmp = tmp_path_factory.mktemp("adopt")
    config = load_env("staging", environments_with(tmp, "staging", {"governance": {"adopt": ADOPT}}))
    governance = json.loads(synth_governance(config, tmp / "out")[0])
    return config, governance, json.loads(_synth_access(config, tmp / "out-access"))


def _synth_access(config, out) -> str:
    from cdktf import App

    from modules.access.stack import AccessStack

    with contextlib.redirect_stderr(io.StringIO()):
        app = App(outdir=str(out), stack_traces=False)
        AccessStack(app, config)
        app.synth()
    return (out / "stacks" / f"{config.name}-access" / "cdk.tf.json").read_text()


def test_adopted_detectors_are_imported_in_both_regions(adopting):
    _, _, access = adopting
    detectors = access["resource"]["aws_guardduty_detector"]
    by_provider = {conf.get("provider", ""): f"aws_guardduty_detector.{name}" for name, conf in detectors.items()}
    imports = imports_of(access)
    assert imports[by_provider[""]] == DETECTOR
    assert imports[by_provider["aws.dr"]] == DR_DETECTOR
    dr_import = next(b for b in access["import"] if b["to"] == by_provider["aws.dr"])
    assert dr_import.get("provider") == "aws.dr", "the DR detector is read through the DR region's provider"


def test_adopted_governance_singletons_are_imported_by_their_ids(adopting):
    config, gov, _ = adopting
    imports = imports_of(gov)
    account = config.account_id
    assert imports[address(gov, "aws_securityhub_account")] == account
    assert imports[address(gov, "aws_macie2_account")] == account
    assert imports[address(gov, "aws_inspector2_enabler")] == f"{account}-EC2:ECR:LAMBDA:LAMBDA_CODE"
    assert imports[address(gov, "aws_config_configuration_recorder")] == "default"
    assert imports[address(gov, "aws_config_delivery_channel")] == "default"
    external = next(f"aws_accessanalyzer_analyzer.{n}" for n, c in gov["resource"]["aws_accessanalyzer_analyzer"].items()
                    if c["type"] == "ACCOUNT")
    assert imports[external] == "ConsoleAnalyzer-1a2b3c"


def test_adopted_resources_keep_names_that_cannot_change_in_place(adopting):
    _, gov, _ = adopting
    (recorder,) = gov["resource"]["aws_config_configuration_recorder"].values()
    (channel,) = gov["resource"]["aws_config_delivery_channel"].values()
    (status,) = gov["resource"]["aws_config_configuration_recorder_status"].values()
    assert recorder["name"] == channel["name"] == "default"
    assert status["name"].startswith("${aws_config_configuration_recorder.")


def test_without_adopt_nothing_is_imported(synthesized):
    for env in ("dev", "staging", "prod"):
        for pillar in ("access", "governance"):
            assert "import" not in synthesized.stack(f"{env}-{pillar}")


@pytest.fixture(scope="module")
def central(tmp_path_factory, synthesized):
    tmp = tmp_path_factory.mktemp("central")
    patch = {"governance": {"central": ["config", "securityhub", "macie", "inspector", "guardduty"]}}
    config = load_env("staging", environments_with(tmp, "staging", patch))
    return config, json.loads(synth_governance(config, tmp / "out")[0]), json.loads(_synth_access(config, tmp / "a"))


def test_central_services_are_not_created(central):
    _, gov, access = central
    resources = gov["resource"]
    for rtype in ("aws_config_configuration_recorder", "aws_config_delivery_channel",
                  "aws_config_configuration_recorder_status", "aws_securityhub_account",
                  "aws_securityhub_standards_subscription", "aws_macie2_account", "aws_inspector2_enabler"):
        assert rtype not in resources, rtype
    assert "aws_guardduty_detector" not in access["resource"]
    assert "aws_guardduty_detector_feature" not in access["resource"]


def test_central_keeps_what_the_account_owns(central):
    _, gov, access = central
    resources = gov["resource"]
    # Member accounts still run their own classification job and rules; findings still reach the topic.
    (job,) = resources["aws_macie2_classification_job"].values()
    assert "depends_on" not in job
    assert resources["aws_config_config_rule"]
    assert access["resource"]["aws_cloudwatch_event_rule"]


INVALID = [
    ("bad-detector-id", "dev", {"adopt": {"guardduty_detector": "detector-1"}},
     "governance.adopt.guardduty_detector", "should match pattern"),
    ("account-flag-not-an-id", "dev", {"adopt": {"securityhub_account": "123456789012"}},
     "governance.adopt.securityhub_account", "Input should be True"),
    ("adopt-and-central", "dev", {"adopt": {"macie_account": True}, "central": ["macie"]},
     "governance.adopt.macie_account", "listed in central"),
    ("dr-detector-without-replication", "dev", {"adopt": {"guardduty_detector_dr": DR_DETECTOR}},
     "governance.adopt.guardduty_detector_dr", "data.replication.enabled"),
    ("os-metrics-without-data-store", "dev", {"adopt": {"rds_os_metrics_log_group": True}},
     "governance.adopt.rds_os_metrics_log_group", "only the training data store uses RDSOSMetrics"),
    ("unknown-central-service", "dev", {"central": ["backup"]}, "governance.central[0]", "Input should be"),
    ("central-repeats", "dev", {"central": ["config", "config"]}, "governance.central", "must not repeat"),
    ("unknown-singleton", "dev", {"adopt": {"guardduty": DETECTOR}}, "governance.adopt.guardduty", "unknown key"),
]


@pytest.mark.parametrize(("env", "patch", "key", "fragment"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_bad_singleton_settings_are_refused(tmp_path, env, patch, key, fragment):
    with pytest.raises(ConfigError) as caught:
        load_env(env, environments_with(tmp_path, env, {"governance": patch}))
    assert caught.value.key_path == key
    assert fragment in str(caught.value)


def test_the_readme_example_is_a_valid_configuration(tmp_path):
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Existing account singletons: adopt or central", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    import yaml

    patch = yaml.safe_load(block)
    config = load_env("staging", environments_with(tmp_path, "staging", patch))
    assert config.governance.adopt.guardduty_detector and config.governance.central == ["inspector"]
