"""Services an environment leaves to its organisation (`governance.central`): the checks that require the
account singleton pass with "provided centrally" for that environment only, and still fail without it."""
from __future__ import annotations

import pytest

from tests.policies.app_checks.helpers import app, config, run

# check → the central service that provides what it requires
CHECKS = {"AEGIS_GUARDDUTY_S3_PROTECTION": "guardduty", "AEGIS_CONFIG_RECORDER_ENV": "config",
          "AEGIS_SECURITYHUB_STANDARDS": "securityhub", "AEGIS_INSPECTOR_COVERAGE": "inspector"}


def centrally(env: str, *services: str):
    cfg = config(env)
    return cfg.model_copy(update={"governance": cfg.governance.model_copy(update={"central": list(services)})})


@pytest.mark.parametrize(("check_id", "service"), CHECKS.items())
def test_central_service_is_reported_as_provided_centrally(check_id, service):
    results = run(check_id, app("dev"), configs={"dev": centrally("dev", service)})
    assert [r.passed for r in results] == [True]
    assert "provided centrally" in results[0].message and service in results[0].message


@pytest.mark.parametrize(("check_id", "service"), CHECKS.items())
def test_another_central_service_does_not_excuse_a_missing_singleton(check_id, service):
    others = [s for s in CHECKS.values() if s != service]
    results = run(check_id, app("dev"), configs={"dev": centrally("dev", *others)})
    assert [r.passed for r in results] == [False]
