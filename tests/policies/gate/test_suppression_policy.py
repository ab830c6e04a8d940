"""The suppression policy (policies/suppression_policy.py): how long and how broad a suppression may be,
and who approves it, enforced by the engine for every mode before any suppression applies. Each attack
is one that passed before the policy existed. No checkov run: the failures are given. The policy file
itself: test_suppression_policy_file.py."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from modules.errors import ConfigError
from policies import scanner
from policies.catalog import load_catalog
from policies.engine import JudgeOptions, Source, checkov_finding, run
from policies.findings import Suppression
from policies.gate_result import EXIT_ERROR, EXIT_PASS, GateResult
from policies.report import json_report, markdown, sarif
from policies.suppressions import load_exceptions

TODAY = dt.date(2026, 12, 1)
MAX_LIFETIME_DAYS = 365  # a year: the built-in limit (policies/suppression_policy.py)
SOON = "2027-03-31"
REASON = "Break-glass bastion; ingress is closed by an SCP outside declared incidents (INC-482)"
OPEN_SSH = ("CKV_AWS_24", "aws_security_group.open")  # critical
NO_KMS = ("CKV_AWS_145", "aws_s3_bucket.logs")  # high
NO_LOGGING = ("CKV_AWS_18", "aws_s3_bucket.logs")  # medium


class Given(Source):
    """Failures given per environment (`(env, check, address)`), judged with the project's catalog."""

    def __init__(self, failures: list[tuple[str, str, str]], suppressions: list[Suppression]) -> None:
        self.failures, self.given = failures, suppressions

    def load_catalog(self, options):
        return load_catalog()

    def read(self, options, result):
        result.thresholds = {"dev": "high", "prod": "low"}

    def scan(self, options, result):
        results = [scanner.RawResult(check, check, False, Path(f"/nowhere/{env}.tf.json"), address, (1, 2))
                   for env, check, address in self.failures]
        return [scanner.Scan(results=results, builtin_checks={c: c for _, c, _ in self.failures})]

    def checkov_finding(self, catalog, raw):
        env = raw.file.name.split(".")[0]
        return checkov_finding(catalog, raw, env=env, stack=f"{env}-platform", pillar="platform",
                               construct_path=f"{env}-platform/{raw.address}", file="cdk.tf.json")

    def suppressions(self, options):
        return self.given


def judge(failures, suppressions, **options) -> GateResult:
    result = GateResult(exit_code=EXIT_ERROR)
    run(Given(failures, suppressions), JudgeOptions(today=TODAY, checks_dir=None, **options), result)
    return result


def inline(check: str, address: str, env: str = "dev", expires: str = SOON, reason: str = REASON) -> Suppression:
    return Suppression(check, reason, expires, "inline", f"{env}-platform/{address}")


def exception(tmp_path: Path, check: str, resource: str, envs: str = "[dev]", expires: str = SOON,
              extra: str = "") -> list[Suppression]:
    path = tmp_path / "exceptions.yaml"
    path.write_text(f"exceptions:\n  - check: {check}\n    resource: '{resource}'\n    environments: {envs}\n"
                    f"    reason: {REASON}\n    owner: platform-oncall\n{extra}    expires: {expires}\n")
    return load_exceptions(path)


def status(result: GateResult, env: str, check: str) -> str:
    [finding] = [f for f in result.findings if f.env == env and f.check_id == check]
    return finding.status


# ---------------------------------------------------------------- exceptions.yaml

def test_attack_catch_all_exception_of_a_critical_check_until_2999_is_refused(tmp_path):
    items = exception(tmp_path, "CKV_AWS_24", "*", envs="['*']", expires="2999-12-31")
    result = judge([("prod", *OPEN_SSH)], items)
    assert result.exit_code == EXIT_ERROR and status(result, "prod", "CKV_AWS_24") == "failed"
    assert result.errors[0].startswith("suppression of CKV_AWS_24 (exceptions.yaml:2): expires 2999-12-31")


def test_attack_exception_for_centuries_is_refused_and_a_year_is_the_limit(tmp_path):
    far = exception(tmp_path, *NO_LOGGING, expires="2999-12-31")
    result = judge([("dev", *NO_LOGGING)], far)
    assert result.exit_code == EXIT_ERROR and status(result, "dev", "CKV_AWS_18") == "failed"
    assert f"at most {MAX_LIFETIME_DAYS} days in dev" in result.errors[0]
    year = (TODAY + dt.timedelta(days=MAX_LIFETIME_DAYS)).isoformat()
    assert judge([("dev", *NO_LOGGING)], exception(tmp_path, *NO_LOGGING, expires=year)).exit_code == EXIT_PASS
    day_more = (TODAY + dt.timedelta(days=MAX_LIFETIME_DAYS + 1)).isoformat()
    assert judge([("dev", *NO_LOGGING)], exception(tmp_path, *NO_LOGGING, expires=day_more)).errors


def test_attack_wildcard_exception_of_a_high_check_is_refused(tmp_path):
    result = judge([("dev", *NO_KMS)], exception(tmp_path, "CKV_AWS_145", "aws_s3_bucket.*"))
    assert result.exit_code == EXIT_ERROR and status(result, "dev", "CKV_AWS_145") == "failed"
    assert "resource pattern 'aws_s3_bucket.*' has a wildcard: a high check" in result.errors[0]
    # exact, it applies; a medium check may still take a pattern
    assert judge([("dev", *NO_KMS)], exception(tmp_path, *NO_KMS)).exit_code == EXIT_PASS
    medium = judge([("dev", *NO_LOGGING)], exception(tmp_path, "CKV_AWS_18", "aws_s3_bucket.log?"))
    assert medium.exit_code == EXIT_PASS and status(medium, "dev", "CKV_AWS_18") == "suppressed"


def test_attack_critical_exception_in_prod_without_an_approver_is_refused(tmp_path):
    result = judge([("prod", *OPEN_SSH)], exception(tmp_path, *OPEN_SSH, envs="[prod]"))
    assert result.exit_code == EXIT_ERROR and status(result, "prod", "CKV_AWS_24") == "failed"
    assert result.errors == ["suppression of CKV_AWS_24 (exceptions.yaml:2): a critical check in prod needs an "
                             "`approver` other than the owner (platform-oncall)"]
    # a dev-only exception of the same check needs none
    dev = judge([("dev", *OPEN_SSH)], exception(tmp_path, *OPEN_SSH, envs="[dev]"))
    assert dev.exit_code == EXIT_PASS and status(dev, "dev", "CKV_AWS_24") == "suppressed"


def test_a_critical_prod_exception_with_another_approver_applies_and_every_report_names_the_approver(tmp_path):
    items = exception(tmp_path, *OPEN_SSH, envs="[prod]", extra="    approver: security-lead\n")
    result = judge([("prod", *OPEN_SSH)], items)
    assert result.exit_code == EXIT_PASS and status(result, "prod", "CKV_AWS_24") == "suppressed"
    assert result.suppressions[0].approver == "security-lead"
    assert json.loads(json_report.render(result))["suppressions"][0]["approver"] == "security-lead"
    assert "platform-oncall, approved by security-lead" in markdown.render(result)
    justification = sarif.document(result)["runs"][0]["results"][0]["suppressions"][0]["justification"]
    assert "owner platform-oncall, approver security-lead" in justification


@pytest.mark.parametrize("approver", ["platform-oncall", "Platform Oncall"])
def test_attack_exception_approved_by_its_own_owner_is_refused(tmp_path, approver):
    with pytest.raises(ConfigError) as err:
        exception(tmp_path, *OPEN_SSH, envs="[prod]", extra=f"    approver: {approver}\n")
    assert (err.value.file, err.value.key_path, err.value.line) == ("exceptions.yaml", "exceptions.0.approver", 7)
    assert "is the owner" in err.value.message


@pytest.mark.parametrize("old, new, key, words", [
    (f"reason: {REASON}", "reason: " + "x" * 40, "reason", "reads as padding"),
    (f"reason: {REASON}", "reason: aa bb cc dd ee ff gg hh ii", "reason", "reads as padding"),
    ("owner: platform-oncall", "owner: '-'", "owner", "must name a person or team"),
    ("owner: platform-oncall", "owner: x", "owner", "must name a person or team"),
    ("expires: 2027-03-31", "expires: 20270331", "expires", "not a YYYY-MM-DD date"),
    ("expires: 2027-03-31", "expires: 2027-03-31 12:00:00", "expires", "not a YYYY-MM-DD date"),
    ("expires: 2027-03-31", "expires: '2027-3-31'", "expires", "not a YYYY-MM-DD date"),
])
def test_attack_padded_reason_placeholder_owner_or_odd_expiry_is_refused(tmp_path, old, new, key, words):
    path = tmp_path / "exceptions.yaml"
    exception(tmp_path, *NO_LOGGING)
    path.write_text(path.read_text().replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_exceptions(path)
    assert err.value.key_path == f"exceptions.0.{key}" and err.value.line is not None, str(err.value)
    assert words in err.value.message


# ---------------------------------------------------------------- inline suppressions

def test_attack_inline_suppression_until_9999_is_refused():
    result = judge([("dev", *NO_LOGGING)], [inline(*NO_LOGGING, expires="9999-12-31")])
    assert result.exit_code == EXIT_ERROR and status(result, "dev", "CKV_AWS_18") == "failed"
    assert result.errors[0].startswith("suppression of CKV_AWS_18 (dev-platform/aws_s3_bucket.logs): "
                                       "expires 9999-12-31")


def test_attack_inline_suppression_of_a_critical_check_in_prod_is_refused():
    result = judge([("prod", *OPEN_SSH)], [inline(*OPEN_SSH, env="prod")])
    assert result.exit_code == EXIT_ERROR and status(result, "prod", "CKV_AWS_24") == "failed"
    assert result.errors == ["suppression of CKV_AWS_24 (prod-platform/aws_security_group.open): a critical check "
                             "in prod cannot be suppressed inline: add a reviewed entry to policies/exceptions.yaml "
                             "with an approver other than its owner"]
    dev = judge([("dev", *OPEN_SSH)], [inline(*OPEN_SSH, env="dev")])
    assert dev.exit_code == EXIT_PASS and status(dev, "dev", "CKV_AWS_24") == "suppressed"


def test_attack_inline_suppression_with_a_padded_reason_or_a_number_for_expiry_is_refused():
    result = judge([("dev", *NO_LOGGING), ("dev", *NO_KMS)],
                   [inline(*NO_LOGGING, reason="z" * 30), inline(*NO_KMS, expires="20270331")])
    assert result.exit_code == EXIT_ERROR
    assert status(result, "dev", "CKV_AWS_18") == status(result, "dev", "CKV_AWS_145") == "failed"
    assert "reads as padding" in result.errors[0] and "'20270331' is not a YYYY-MM-DD date" in result.errors[1]
