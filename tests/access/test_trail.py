"""The CloudTrail trail of every environment: coverage, integrity, encryption, delivery, data events."""
from __future__ import annotations

import json

from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import Request, evaluate, may_assume


def only(mapping: dict) -> tuple[str, dict]:
    assert len(mapping) == 1, list(mapping)
    return next(iter(mapping.items()))


def selectors(trail: dict) -> dict[str, dict[str, dict]]:
    return {s["name"]: {f["field"]: f for f in s["field_selector"]} for s in trail["advanced_event_selector"]}


def test_trail_settings(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    _, trail = only(synthesized.resources(f"{env}-access", "aws_cloudtrail"))
    assert trail["name"] == n.resource("trail") and n.trail_arn().endswith("/" + trail["name"])
    assert trail["is_multi_region_trail"] is True
    assert trail["include_global_service_events"] is True
    assert trail["enable_log_file_validation"] is True
    assert trail["enable_logging"] is True
    # The audit key (looked up by alias), the object-locked audit bucket, the prefix its policy allows.
    assert trail["kms_key_id"] == "${data.aws_kms_key.kms-audit.arn}"
    assert synthesized.data_sources(f"{env}-access", "aws_kms_key")["kms-audit"]["key_id"] == n.kms_alias_arn("audit")
    assert trail["s3_bucket_name"] == n.bucket("audit")
    assert trail["s3_key_prefix"] == "cloudtrail"
    bucket_policies = [json.loads(p["policy"]) for p in synthesized.resources(f"{env}-data", "aws_s3_bucket_policy").values()]
    writes = [s for p in bucket_policies for s in p["Statement"] if s.get("Sid") == "CloudTrailWrite"]
    assert [s["Resource"] for s in writes] == [f"{n.bucket_arn('audit')}/cloudtrail/AWSLogs/{n.account_id}/*"]
    assert writes[0]["Condition"]["StringEquals"]["aws:SourceArn"] == n.trail_arn()
    locks = synthesized.resources(f"{env}-data", "aws_s3_bucket")
    assert any(b["bucket"] == n.bucket("audit") and b["object_lock_enabled"] for b in locks.values())


def test_trail_streams_to_an_encrypted_log_group_through_a_scoped_role(synthesized, env):
    n = Naming.of(load_env(env))
    stack = f"{env}-access"
    _, trail = only(synthesized.resources(stack, "aws_cloudtrail"))
    groups = {c["name"]: c for c in synthesized.resources(stack, "aws_cloudwatch_log_group").values()}
    group = groups[n.log_group("cloudtrail")]
    assert trail["cloud_watch_logs_group_arn"] == \
        f"arn:aws:logs:{n.region}:{n.account_id}:log-group:{n.log_group('cloudtrail')}:*"
    assert group["kms_key_id"].startswith("${data.aws_kms_key.kms-audit")
    roles = {f"${{aws_iam_role.{k}.arn}}": v for k, v in synthesized.resources(stack, "aws_iam_role").items()}
    role = roles[trail["cloud_watch_logs_role_arn"]]
    assert role["name"].startswith(n.prefix + "-")
    trust = json.loads(role["assume_role_policy"])
    source = {"aws:SourceArn": n.trail_arn(), "aws:SourceAccount": n.account_id}
    assert may_assume(trust, {"Service": "cloudtrail.amazonaws.com"}, context=source)
    assert not may_assume(trust, {"Service": "cloudtrail.amazonaws.com"},
                          context=source | {"aws:SourceArn": n.trail_arn().replace(n.account_id, "123456789012")})
    (policy,) = [json.loads(p["policy"]) for p in synthesized.resources(stack, "aws_iam_role_policy").values()
                 if p["name"] == "deliver-trail-events"]
    stream = f"arn:aws:logs:{n.region}:{n.account_id}:log-group:{n.log_group('cloudtrail')}:log-stream:abc"
    assert evaluate([policy], Request("logs:PutLogEvents", stream)) == "Allow"
    assert evaluate([policy], Request("logs:PutLogEvents", stream.replace("cloudtrail", "other"))) != "Allow"
    assert evaluate([policy], Request("logs:DeleteLogGroup", stream)) != "Allow"


def test_data_events_cover_datasets_model_artifacts_and_lambda(synthesized, env):
    n = Naming.of(load_env(env))
    _, trail = only(synthesized.resources(f"{env}-access", "aws_cloudtrail"))
    sel = selectors(trail)
    management = [s for s in sel.values() if s["eventCategory"]["equals"] == ["Management"]]
    assert len(management) == 1 and set(management[0]) == {"eventCategory"}  # reads and writes, no exclusions
    s3 = [s for s in sel.values() if s.get("resources.type", {}).get("equals") == ["AWS::S3::Object"]]
    assert len(s3) == 1 and s3[0]["eventCategory"]["equals"] == ["Data"] and "readOnly" not in s3[0]
    assert sorted(s3[0]["resources.ARN"]["starts_with"]) == sorted(
        f"{n.bucket_arn(p)}/" for p in ("datasets", "model-artifacts"))
    lam = [s for s in sel.values() if s.get("resources.type", {}).get("equals") == ["AWS::Lambda::Function"]]
    assert len(lam) == 1 and lam[0]["eventCategory"]["equals"] == ["Data"]
    assert lam[0]["resources.ARN"]["starts_with"] == [f"arn:aws:lambda:{n.region}:{n.account_id}:function:{n.prefix}-"]


def test_insights_in_prod(synthesized, env):
    config = load_env(env)
    _, trail = only(synthesized.resources(f"{env}-access", "aws_cloudtrail"))
    insights = sorted(i["insight_type"] for i in trail.get("insight_selector", []))
    if config.tier == "prod":
        assert insights == ["ApiCallRateInsight", "ApiErrorRateInsight"]
    assert insights == (["ApiCallRateInsight", "ApiErrorRateInsight"] if config.access.insights_enabled(config.tier)
                        else [])
