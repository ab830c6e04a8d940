"""The judging engine (policies/engine.py) on its own, with a made-up mode: the steps every mode
shares (findings, suppressions, verdict) and its fail-closed wrapper. No checkov run."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from policies import scanner
from policies.catalog import Catalog
from policies.engine import SKIP_COMMENT, JudgeOptions, Source, checkov_finding, run
from policies.findings import Suppression
from policies.gate_result import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, GateError, GateResult

FILE = Path("/nowhere/dev-data.tf.json")
TODAY = dt.date(2025, 6, 1)


def raw(check_id: str, address: str, passed: bool = False) -> scanner.RawResult:
    return scanner.RawResult(check_id, f"name of {check_id}", passed, FILE, address, (3, 9))


class Made(Source):
    """A mode whose scan is given; its own check reports one more finding."""

    def __init__(self, results, suppressions=(), threshold="high", fail_in=None):
        self.results, self.given, self.threshold, self.fail_in = results, list(suppressions), threshold, fail_in
        self.steps: list[str] = []

    def step(self, name: str) -> None:
        self.steps.append(name)
        if name == self.fail_in:
            raise GateError(f"refused in {name}")

    def check_target(self):
        self.step("check_target")

    def load_catalog(self, options):
        self.step("load_catalog")
        return Catalog()

    def read(self, options, result):
        self.step("read")
        result.thresholds = {"dev": self.threshold}

    def scan(self, options, result):
        self.step("scan")
        return [scanner.Scan(results=self.results, builtin_checks={"CKV_AWS_1": "x"})]

    def checkov_finding(self, catalog, raw):
        return checkov_finding(catalog, raw, env="dev", stack="dev-data", pillar="data",
                               construct_path=f"dev-data/{raw.address}", file="stacks/dev-data/cdk.tf.json")

    def own_findings(self, options, result, catalog):
        self.step("own_findings")
        self.own_check_ids = {"AEGIS_OWN"}
        return []

    def suppressions(self, options):
        self.step("suppressions")
        return self.given


def judge(source: Made) -> GateResult:
    result = GateResult(exit_code=EXIT_ERROR)
    run(source, JudgeOptions(today=TODAY, checks_dir=None), result)
    return result


def suppression(check_id: str, origin: str = "inline", expires: str = "2026-01-01") -> Suppression:
    return Suppression(check_id, "a reason long enough to be accepted", expires, origin, "dev-data/aws_s3_bucket.b")


def test_steps_run_in_order_and_the_verdict_follows_the_threshold():
    source = Made([raw("CKV_AWS_1", "aws_s3_bucket.b"), raw("CKV_AWS_1", "aws_s3_bucket.a", passed=True)])
    result = judge(source)
    assert source.steps == ["check_target", "load_catalog", "read", "scan", "own_findings", "suppressions"]
    assert result.exit_code == EXIT_FAIL and [f.address for f in result.findings] == ["aws_s3_bucket.a",
                                                                                     "aws_s3_bucket.b"]
    assert result.check_names == {"CKV_AWS_1": "x"}
    failed = result.findings[1]
    assert (failed.status, failed.blocking, failed.line, failed.end_line) == ("failed", True, 3, 9)
    assert judge(Made([raw("CKV_AWS_1", "aws_s3_bucket.b")], threshold="critical")).exit_code == EXIT_PASS


def test_suppressions_apply_and_their_problems_are_errors():
    result = judge(Made([raw("CKV_AWS_1", "aws_s3_bucket.b")], [suppression("CKV_AWS_1")]))
    assert result.exit_code == EXIT_PASS and result.findings[0].status == "suppressed"
    # the mode's own check IDs are known to suppressions; an unknown or expired one is an error
    result = judge(Made([raw("CKV_AWS_1", "aws_s3_bucket.b")], [suppression("CKV_AWS_1"), suppression("AEGIS_OWN"),
                                                                 suppression("CKV_AWS_9")]))
    assert result.exit_code == EXIT_ERROR
    assert [e.split(":")[0] for e in result.errors] == ["suppression of AEGIS_OWN (dev-data/aws_s3_bucket.b)",
                                                        "suppression of CKV_AWS_9 (dev-data/aws_s3_bucket.b)"]
    assert "unused" in result.errors[0] and "unknown check" in result.errors[1]
    assert judge(Made([], [suppression("CKV_AWS_1", expires="2020-01-01")])).errors[0].endswith(
        "expired on 2020-01-01: fix the finding, or review and renew the suppression")


def test_skip_comments_are_listed_and_judged_by_the_policy_only():
    # checkov applied it: an unknown check or nothing suppressed is no error; the suppression policy still judges it
    skip = suppression("CKV_AWS_9", origin=SKIP_COMMENT)
    result = judge(Made([], [skip]))
    assert result.exit_code == EXIT_PASS and result.suppressions == [skip] and not skip.problem
    forever = suppression("CKV_AWS_9", origin=SKIP_COMMENT, expires="")
    result = judge(Made([], [forever]))
    assert result.exit_code == EXIT_ERROR and result.suppressions == [forever]
    assert "needs an expiry" in forever.problem


def test_every_failure_is_an_error_verdict_never_a_pass():
    for step in ("check_target", "read", "scan", "own_findings", "suppressions"):
        source = Made([raw("CKV_AWS_1", "aws_s3_bucket.b", passed=True)], fail_in=step)
        result = judge(source)
        assert (result.exit_code, result.errors) == (EXIT_ERROR, [f"refused in {step}"]), step
        assert source.steps[-1] == step

    class Buggy(Made):
        def suppressions(self, options):
            return {}["missing"]

    result = judge(Buggy([]))
    assert (result.exit_code, result.errors) == (EXIT_ERROR, ["internal error: KeyError: 'missing'"])
