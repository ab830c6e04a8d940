"""modules/suppress.py and its callers: a suppression is refused when its reason is padding or its expiry
not a date, and every construct suppresses a check only while the facts its reason states hold. Each
attack builds a construct where a stated fact does not hold and finds no suppression on it."""
from __future__ import annotations

import json
from typing import Any

import pytest

from modules.config import EnvConfig, load_env
from modules.naming import Naming
from modules.pillar_stack import PillarStack
from modules.suppress import METADATA_KEY, suppress
from modules.yaml_source import SourceMap, load_yaml
from tests.conftest import FIXTURE_ENVIRONMENTS
from tests.governance.conftest import environments_with


def app() -> Any:
    from cdktf import Testing

    return Testing.app()


def stack_of(config: EnvConfig, pillar: str) -> PillarStack:
    return PillarStack(app(), config, pillar)


def suppressions(stack: PillarStack, rtype: str) -> dict[str, list[dict[str, str]]]:
    """Logical id → the inline suppressions written into its `//` metadata (synthesized, not in memory)."""
    doc: dict[str, Any] = stack.to_terraform()
    return {name: (conf.get("//") or {}).get(METADATA_KEY, [])
            for name, conf in doc.get("resource", {}).get(rtype, {}).items()}


def checks(stack: PillarStack, rtype: str) -> set[str]:
    return {e["id"] for entries in suppressions(stack, rtype).values() for e in entries}


# ---------------------------------------------------------------- suppress() itself

@pytest.fixture
def bucket():
    from modules import aws

    stack = stack_of(load_env("dev"), "data")
    return aws.s3_bucket.S3Bucket(stack, "fixture", bucket="fixture")


REASON = "This bucket is the access-log target itself; logging it would loop"


@pytest.mark.parametrize("reason, expires, words", [
    ("x" * 40, "2027-06-30", "reads as padding"),
    ("ab ab ab ab ab ab ab ab ab", "2027-06-30", "reads as padding"),
    (REASON, "20270630", "not a YYYY-MM-DD date"),
    (REASON, "2027-W26", "not a YYYY-MM-DD date"),
])
def test_attack_construct_suppression_with_padding_or_an_odd_expiry_is_refused(bucket, reason, expires, words):
    with pytest.raises(ValueError, match=words):
        suppress(bucket, "CKV_AWS_18", reason, expires)


def test_the_same_suppression_twice_is_one_and_a_conflicting_one_is_refused(bucket):
    suppress(bucket, "CKV_AWS_18", REASON, "2027-06-30")
    suppress(bucket, "CKV_AWS_18", REASON, "2027-06-30")
    assert suppressions(bucket.node.scope, "aws_s3_bucket")["fixture"] == [
        {"id": "CKV_AWS_18", "reason": REASON, "expires": "2027-06-30"}]
    with pytest.raises(ValueError, match="already suppressed"):
        suppress(bucket, "CKV_AWS_18", REASON, "2027-09-30")


# ---------------------------------------------------------------- the callers: true only when the facts hold

def test_attack_prod_log_group_short_of_a_year_carries_no_dev_suppression(synthesized):
    from modules.access.log_groups import EncryptedLogGroup, LogGroupProps

    for tier, expected in (("prod", set()), ("dev", {"CKV_AWS_338"})):
        config = load_env(tier)
        stack = stack_of(config, "access")
        EncryptedLogGroup(stack, "logs", LogGroupProps(Naming.of(config), "/fixture", retention_days=30, tier=tier))
        assert checks(stack, "aws_cloudwatch_log_group") == expected, tier


def test_attack_trail_without_its_changes_alarm_carries_no_notification_suppression(synthesized):
    from modules.access.trail import Trail, TrailProps

    stack = stack_of(load_env("dev"), "access")
    Trail(stack, "trail", TrailProps.of(load_env("dev")))  # no security alarms watch it
    assert "CKV_AWS_252" not in checks(stack, "aws_cloudtrail")
    # in the access stack, the cloudtrail-changes alarm on its log group is what the reason names
    [trail] = synthesized.resources("dev-access", "aws_cloudtrail").values()
    assert [e["id"] for e in trail["//"][METADATA_KEY]] == ["CKV_AWS_252"]
    alarms = synthesized.resources("dev-access", "aws_cloudwatch_metric_alarm").values()
    assert any(a["alarm_name"].endswith("cloudtrail-changes") for a in alarms)


def test_attack_workload_persona_trusting_a_whole_account_claims_no_narrowing(synthesized):
    from modules.access.personas import PersonaRoles, trust_policy
    from modules.access.settings import Trust

    # Config validation refuses such a trust; the construct must not rely on it to tell the truth.
    base = load_env("dev")
    personas = dict(base.access.personas)
    personas["app-invoker"] = base.access.persona("app-invoker").model_copy(
        update={"trust": Trust(identity_account_id="999900001111")})
    config = base.model_copy(update={"access": base.access.model_copy(update={"personas": personas})})
    assert "Condition" not in json.loads(trust_policy("app-invoker", config))["Statement"][0]  # the fact fails
    stack = stack_of(config, "access")
    PersonaRoles(stack, "personas", config=config)
    by_role = suppressions(stack, "aws_iam_role")
    logical = {name for name in by_role if name.startswith("personas_app-invoker")}
    assert [by_role[name] for name in logical] == [[]]
    human = [name for name in by_role if name.startswith("personas_ml-engineer")]
    # A human persona's reason names what really narrows its trust: Identity Center roles, or MFA.
    narrowing = "Identity Center" if base.access.trust.effective_mode == "identity-center" else "MFA"
    assert [e["id"] for e in by_role[human[0]]] == ["CKV_AWS_61"] and narrowing in by_role[human[0]][0]["reason"]


def test_attack_guardduty_without_runtime_monitoring_claims_no_plan_it_does_not_enable(synthesized):
    from modules.access.guardduty import ThreatDetection, ThreatDetectionProps
    from modules.access.settings import GuardDutySettings

    config = load_env("dev")
    stack = stack_of(config, "access")
    ThreatDetection(stack, "guardduty", ThreatDetectionProps(Naming.of(config), GuardDutySettings(
        runtime_monitoring=False), topic_arn="arn:aws:sns:eu-west-1:111122223333:alerts"))
    [entries] = suppressions(stack, "aws_guardduty_detector").values()
    [reason] = [e["reason"] for e in entries if e["id"] == "CKV2_AWS_3"]
    enabled = {f["name"] for f in stack.to_terraform()["resource"]["aws_guardduty_detector_feature"].values()}
    assert "every protection plan" not in reason and "RUNTIME_MONITORING" not in reason
    assert all(name in reason for name in enabled)


def test_attack_security_group_no_model_attaches_carries_no_attachment_suppression(tmp_path, synthesized):
    from modules.platform.stack import PlatformStack

    dev = FIXTURE_ENVIRONMENTS / "dev.yaml"
    lambdas = [m for m in load_yaml(dev, dev.name, SourceMap())["platform"]["models"] if m["serving"] == "lambda"]
    config = load_env("dev", environments_with(tmp_path, "dev", {"platform": {"models": lambdas}}))
    stack = PlatformStack(app(), config)
    stack.security_group("sagemaker")  # created, but no SageMaker model's vpc_config names it
    sagemaker_groups = {k: v for k, v in suppressions(stack, "aws_security_group").items() if "sagemaker" in k}
    assert sagemaker_groups and "CKV2_AWS_5" not in {e["id"] for v in sagemaker_groups.values() for e in v}
    # in the default app, the group every real-time model attaches carries it
    groups = synthesized.resources("dev-platform", "aws_security_group")
    assert [e["id"] for e in groups["sagemaker-security-group"]["//"][METADATA_KEY]] == ["CKV2_AWS_5"]


def test_log_target_suppressions_sit_only_on_log_targets_with_sse_s3(synthesized, env):
    """The access-log buckets' relaxations (data and bootstrap stacks) hold what their reasons state."""
    for pillar in ("data", "bootstrap"):
        stack = f"{env}-{pillar}"
        buckets = synthesized.resources(stack, "aws_s3_bucket")
        logged = {c["bucket"] for c in synthesized.resources(stack, "aws_s3_bucket_logging").values()}
        sse = {c["bucket"]: c["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"]
               for c in synthesized.resources(stack, "aws_s3_bucket_server_side_encryption_configuration").values()}
        for name, conf in buckets.items():
            ids = {e["id"] for e in (conf.get("//") or {}).get(METADATA_KEY, [])}
            ref = "${aws_s3_bucket." + name + ".id}"
            if "CKV_AWS_145" in ids:
                assert sse[ref] == "AES256", name
            if "CKV_AWS_18" in ids:
                assert ref not in logged, name
