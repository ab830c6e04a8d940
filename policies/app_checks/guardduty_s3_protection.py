"""AEGIS_GUARDDUTY_S3_PROTECTION: GuardDuty is on, with S3 protection, in every environment.

S3 protection analyses data-plane events of the buckets that hold datasets, model artifacts and
inference data: exfiltration, unusual access patterns, access from known-bad IPs. It is on when
the detector's `datasources.s3_logs.enable` is true or an `aws_guardduty_detector_feature`
`S3_DATA_EVENTS` is ENABLED on it. An environment without a detector fails, unless it declares GuardDuty
provided centrally (`governance.central`).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, provided_centrally
from policies.app_checks.lookups import attached
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import is_true


@app_check("AEGIS_GUARDDUTY_S3_PROTECTION", "GuardDuty detector is enabled with S3 protection")
def guardduty_s3_protection(app: AppView):
    for env in app.envs:
        central = provided_centrally(env, "guardduty", "access", "GuardDuty")
        if central:
            yield central
            continue
        detectors = list(env.resources("aws_guardduty_detector"))
        if not detectors:
            yield fail(env.home_stack("access"), "", f"environment {env.name} has no GuardDuty detector")
        for stack, name, conf in detectors:
            yield judge(stack.name, f"aws_guardduty_detector.{name}", _problems(stack, name, conf),
                        "GuardDuty S3 protection is on")


def _problems(stack, name, conf):
    if conf.get("enable") is False or conf.get("enable") == "false":
        yield "the detector is disabled"
    legacy = is_true((one(one(conf, "datasources"), "s3_logs") or {}).get("enable"))
    features = attached(stack, "aws_guardduty_detector_feature", "aws_guardduty_detector", name, conf,
                        "detector_id", ())
    feature = any(f.get("name") == "S3_DATA_EVENTS" and f.get("status") == "ENABLED" for _, f in features)
    if not (legacy or feature):
        yield "S3 protection is off (no S3_DATA_EVENTS feature ENABLED, no datasources.s3_logs)"
