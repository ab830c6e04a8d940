"""Log groups, security metric filters and alarms, per-model alarms, the alert topic and the dashboard."""
from __future__ import annotations

import json

import pytest

from modules.access.security_alarms import metric_namespace, security_events
from modules.config import load_env
from modules.monitoring import drift_watch
from modules.naming import Naming
from policies.iam_eval import Request, evaluate
from tests.access.conftest import ALL_KINDS, serving_kinds
from tests.synthesized import ENVS

AUDIT_KEY = "${data.aws_kms_key.kms-audit.arn}"
EXPECTED_EVENTS = {
    "unauthorized-api-calls", "console-signin-without-mfa", "root-account-use", "iam-policy-changes",
    "cloudtrail-changes", "kms-key-disable-or-deletion", "s3-bucket-policy-changes", "security-group-changes",
    "nacl-changes", "platform-admin-assumed",
}


def topic_ref(resources: dict) -> str:
    (logical,) = resources["aws_sns_topic"]
    return "${aws_sns_topic." + logical + ".arn}"


def test_every_log_group_of_every_stack_is_encrypted_with_the_audit_key_and_retained(synthesized):
    """The audit key of the log group's region: the data stack's (looked up by alias, primary or DR),
    or, in a region without one (us-east-1 for CloudFront), an audit-class key the stack creates there."""
    seen = 0
    for stack in synthesized.stack_names:
        config = load_env(stack.split("-")[0])
        n = Naming.of(config)
        wanted = config.access.logs.retention_days
        kms_lookups = synthesized.data_sources(stack, "aws_kms_key")
        own_keys = synthesized.resources(stack, "aws_kms_key")
        for name, group in synthesized.resources(stack, "aws_cloudwatch_log_group").items():
            seen += 1
            key = group.get("kms_key_id", "")
            region = group.get("region", config.region)
            if key.startswith("${aws_kms_key."):
                own = own_keys[key[len("${aws_kms_key."):-len(".arn}")]]
                assert region not in (config.region, config.dr_region), (stack, name, "use the data stack's audit key")
                assert "audit" in own.get("description", "").lower() or own.get("tags", {}).get("DataClass") == "audit", \
                    (stack, name, key)
            else:
                assert key.startswith("${data.aws_kms_key.") and key.endswith(".arn}"), (stack, name, key)
                lookup = kms_lookups[key[len("${data.aws_kms_key."):-len(".arn}")]]
                assert lookup["key_id"] == n.kms_alias_arn("audit", region), (stack, name)
            assert group.get("retention_in_days", 0) >= wanted, (stack, name, "retention below the env's config")
            if config.tier == "prod":
                assert group["retention_in_days"] >= 365 and group.get("deletion_protection_enabled") is True
    assert seen >= len(ENVS)


def test_security_metric_filters_and_alarms(synthesized, env):
    n = Naming.of(load_env(env))
    resources = synthesized.stack(f"{env}-access")["resource"]
    filters = {f["name"]: f for f in resources["aws_cloudwatch_log_metric_filter"].values()}
    alarms = {a["alarm_name"]: a for a in resources["aws_cloudwatch_metric_alarm"].values()}
    assert {e.key for e in security_events(n)} == EXPECTED_EVENTS
    for event in security_events(n):
        f = filters[n.resource(event.key)]
        assert f["log_group_name"] == n.log_group("cloudtrail") and f["pattern"] == event.pattern
        transformation = f["metric_transformation"]
        transformation = transformation[0] if isinstance(transformation, list) else transformation
        alarm = alarms[n.alarm("security", event.key)]
        assert (alarm["namespace"], alarm["metric_name"]) == (metric_namespace(n), transformation["name"])
        assert transformation["namespace"] == metric_namespace(n)
        assert alarm["threshold"] == 1 and alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    admin = filters[n.resource("platform-admin-assumed")]["pattern"]
    assert n.role_arn("platform-admin") in admin and '"AssumeRole*"' in admin
    assert "MFAUsed" in filters[n.resource("console-signin-without-mfa")]["pattern"]
    assert '"Root"' in filters[n.resource("root-account-use")]["pattern"]
    for name in ("DisableKey", "ScheduleKeyDeletion"):
        assert name in filters[n.resource("kms-key-disable-or-deletion")]["pattern"]
    for name in ("StopLogging", "DeleteTrail", "UpdateTrail"):
        assert name in filters[n.resource("cloudtrail-changes")]["pattern"]
    for name in ("PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl"):
        assert name in filters[n.resource("s3-bucket-policy-changes")]["pattern"]
    for name in ("AuthorizeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup"):
        assert name in filters[n.resource("security-group-changes")]["pattern"]
    for name in ("CreateNetworkAclEntry", "ReplaceNetworkAclAssociation"):
        assert name in filters[n.resource("nacl-changes")]["pattern"]
    for name in ("PutRolePolicy", "AttachRolePolicy", "CreatePolicyVersion"):
        assert name in filters[n.resource("iam-policy-changes")]["pattern"]


def _assert_alarms_notify_topic(resources: dict) -> int:
    topic = topic_ref(resources)
    count = 0
    for rtype in ("aws_cloudwatch_metric_alarm", "aws_cloudwatch_composite_alarm"):
        for name, alarm in resources.get(rtype, {}).items():
            count += 1
            assert alarm["alarm_actions"] == [topic], (rtype, name)
            assert alarm.get("actions_enabled", True) is not False, (rtype, name)
            for key in ("ok_actions", "insufficient_data_actions"):
                assert set(alarm.get(key, [])) <= {topic}, (rtype, name, key)
    return count


def test_every_alarm_notifies_the_alert_topic(synthesized, env):
    resources = synthesized.stack(f"{env}-access")["resource"]
    config = load_env(env)
    count = _assert_alarms_notify_topic(resources)
    assert count >= len(EXPECTED_EVENTS) + len(config.platform.models)


def test_alarms_of_other_stacks_notify_someone(synthesized):
    for stack in synthesized.stack_names:
        for name, alarm in synthesized.resources(stack, "aws_cloudwatch_metric_alarm").items():
            assert alarm.get("alarm_actions"), (stack, name)


# --- per model --------------------------------------------------------------------------------------

def test_default_environments_cover_every_serving_kind():
    """So the per-kind assertions below really run; if a kind disappears from every env, add it back
    to one environment (or give these tests a config that has it)."""
    assert set().union(*(serving_kinds(load_env(env)) for env in ENVS)) == ALL_KINDS


def _metrics(alarm: dict) -> dict[str, dict]:
    return {q["id"]: q for q in alarm.get("metric_query", [])}


def _metric_name(query: dict) -> str:
    metric = query["metric"]
    return (metric[0] if isinstance(metric, list) else metric)["metric_name"]


def test_model_alarms_per_serving_kind(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    stack = synthesized.stack(f"{env}-access")
    resources = stack["resource"]
    alarms = {a["alarm_name"]: a for a in resources["aws_cloudwatch_metric_alarm"].values()}
    composites = {a["alarm_name"]: a for a in resources.get("aws_cloudwatch_composite_alarm", {}).values()}
    settings = config.access.model_alarms
    assert len(composites) == len(config.platform.models)

    def model_alarms(model: str) -> dict[str, dict]:
        prefix = n.alarm("model", model) + "-"
        return {k[len(prefix):]: v for k, v in alarms.items() if k.startswith(prefix)}

    for model in config.platform.models:
        a = model_alarms(model.name)
        name = n.model_resource(model.name)
        if model.serving in ("sagemaker", "sagemaker-serverless"):
            drift = {"drift"} if drift_watch(n, model) is not None else set()  # tests/access/test_drift_alarm.py
            assert set(a) == {"latency-p99", "5xx-rate", "4xx-rate", "invocations-anomaly"} | drift
            latency = a["latency-p99"]
            assert (latency["metric_name"], latency["extended_statistic"]) == ("ModelLatency", "p99")
            assert latency["threshold"] == settings.latency_p99_ms * 1000  # microseconds
            assert latency["dimensions"] == {"EndpointName": name, "VariantName": "primary"}
            q = _metrics(a["5xx-rate"])
            assert _metric_name(q["errors"]) == "Invocation5XXErrors" and _metric_name(q["total"]) == "Invocations"
            assert a["5xx-rate"]["threshold"] == settings.error_rate_5xx_percent
            assert _metric_name(_metrics(a["4xx-rate"])["errors"]) == "Invocation4XXErrors"
            anomaly = a["invocations-anomaly"]
            assert anomaly["comparison_operator"] == "LessThanLowerOrGreaterThanUpperThreshold"
            assert anomaly["threshold_metric_id"] == "band"
            assert _metrics(anomaly)["band"]["expression"] == \
                f"ANOMALY_DETECTION_BAND(invocations, {settings.anomaly_band_width:g})"
        elif model.serving == "lambda":
            assert set(a) == {"error-rate", "throttles", "duration-p99", "concurrency"}
            assert a["throttles"]["metric_name"] == "Throttles" and a["throttles"]["threshold"] == 0
            assert a["duration-p99"]["extended_statistic"] == "p99"
            assert a["duration-p99"]["dimensions"] == {"FunctionName": name}
            concurrency = _metrics(a["concurrency"])
            assert _metric_name(concurrency["concurrent"]) == "ConcurrentExecutions"
            assert concurrency["e1"]["expression"] == f"100 * concurrent / {model.function.reserved_concurrency}"
        else:
            assert set(a) == {"5xx", "response-time-p99", "unhealthy-hosts"}
            assert a["unhealthy-hosts"]["metric_name"] == "UnHealthyHostCount"
            assert a["response-time-p99"]["extended_statistic"] == "p99"
            lbs = {k: v["name"] for k, v in stack["data"]["aws_lb"].items()}
            tgs = {k: v["name"] for k, v in stack["data"]["aws_lb_target_group"].items()}
            lb_ref = next(k for k, v in lbs.items() if v == n.load_balancer(model.name))
            tg_ref = next(k for k, v in tgs.items() if v == n.target_group(model.name))
            assert a["unhealthy-hosts"]["dimensions"] == {
                "LoadBalancer": "${data.aws_lb." + lb_ref + ".arn_suffix}",
                "TargetGroup": "${data.aws_lb_target_group." + tg_ref + ".arn_suffix}"}
        composite = composites[n.alarm("model", model.name, "health")]
        assert set(composite["alarm_rule"].split(" OR ")) == {
            f'ALARM("{n.alarm("model", model.name, key)}")' for key in a}


def test_platform_names_the_resources_the_alarms_watch(synthesized, env):
    """The alarms find the platform's resources by name: the names must be the ones it creates."""
    config = load_env(env)
    n = Naming.of(config)
    platform = synthesized.stack(f"{env}-platform").get("resource", {})
    endpoints = {e["name"]: e for e in platform.get("aws_sagemaker_endpoint", {}).values()}
    configs = platform.get("aws_sagemaker_endpoint_configuration", {}).values()
    variants = {v["variant_name"] for c in configs for v in c["production_variants"]}
    functions = {f["function_name"] for f in platform.get("aws_lambda_function", {}).values()}
    lbs = {lb["name"] for lb in platform.get("aws_lb", {}).values()}
    tgs = {tg["name"] for tg in platform.get("aws_lb_target_group", {}).values()}
    for model in config.platform.models:
        if model.serving in ("sagemaker", "sagemaker-serverless"):
            assert n.model_resource(model.name) in endpoints
            assert variants == {"primary"}
        elif model.serving == "lambda":
            assert n.model_resource(model.name) in functions
        else:
            assert n.load_balancer(model.name) in lbs and n.target_group(model.name) in tgs


def test_alert_topic_is_encrypted_and_publishable_only_by_this_environment(synthesized, env):
    n = Naming.of(load_env(env))
    resources = synthesized.stack(f"{env}-access")["resource"]
    (topic,) = resources["aws_sns_topic"].values()
    assert topic["name"] == n.alert_topic() and topic["kms_master_key_id"] == AUDIT_KEY
    (policy,) = [json.loads(p["policy"]) for p in resources["aws_sns_topic_policy"].values()]
    rule = f"arn:aws:events:{n.region}:{n.account_id}:rule/{n.resource('guardduty-findings')}"

    def publish(service: str, context: dict) -> str:
        return evaluate([policy], Request("sns:Publish", n.alert_topic_arn(), context | {"aws:SecureTransport": "true"},
                                          {"Service": service}))

    same = {"aws:SourceAccount": n.account_id}
    assert publish("events.amazonaws.com", same | {"aws:SourceArn": rule}) == "Allow"
    assert publish("events.amazonaws.com", {"aws:SourceAccount": "123456789012",
                                            "aws:SourceArn": rule.replace(n.account_id, "123456789012")}) != "Allow"
    assert publish("events.amazonaws.com", same | {"aws:SourceArn": rule.replace(n.prefix, "someone-else")}) != "Allow"
    assert publish("cloudwatch.amazonaws.com", same | {"aws:SourceArn": n.alarm_arn("x")}) == "Allow"
    assert publish("budgets.amazonaws.com", same) == "Allow"
    assert publish("s3.amazonaws.com", same) != "Allow"
    insecure = Request("sns:Publish", n.alert_topic_arn(), same | {"aws:SecureTransport": "false",
                                                                  "aws:SourceArn": rule},
                       {"Service": "events.amazonaws.com"})
    assert evaluate([policy], insecure) == "Deny"


def test_subscriptions_come_from_config(synthesized, env):
    config = load_env(env)
    subs = [s for s in synthesized.resources(f"{env}-access", "aws_sns_topic_subscription").values()
            if not s["endpoint"].startswith("${aws_sqs_queue.")]  # the alert archive (test_alert_archive.py)
    assert sorted((s["protocol"], s["endpoint"]) for s in subs) == sorted(
        (s.protocol, s.endpoint) for s in config.access.alerts.subscriptions)
    if config.tier == "prod":
        assert subs


def test_one_dashboard_with_every_pillar(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    (dashboard,) = synthesized.resources(f"{env}-access", "aws_cloudwatch_dashboard").values()
    assert dashboard["dashboard_name"] == n.resource("overview")
    body = json.loads(dashboard["dashboard_body"])
    widgets = body["widgets"]
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert {n.alarm_arn(n.alarm("security", e)) for e in EXPECTED_EVENTS} <= set(alarm_widget["properties"]["alarms"])
    namespaces = {m[0] for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]}
    assert {"AWS/S3", "AWS/Events", "AWS/Config", "AWS/Backup", metric_namespace(n)} <= namespaces
    for w in widgets:
        assert w["x"] + w["width"] <= 24


def test_dashboard_shows_every_model(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    (dashboard,) = synthesized.resources(f"{env}-access", "aws_cloudwatch_dashboard").values()
    body = json.loads(dashboard["dashboard_body"])
    titles = {w["properties"].get("title") for w in body["widgets"]}
    for model in config.platform.models:
        assert f"Model {model.name} ({model.serving})" in titles
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert {n.alarm_arn(n.alarm("model", m.name, "health")) for m in config.platform.models} <= \
        set(alarm_widget["properties"]["alarms"])


@pytest.mark.parametrize("kind", ["dev", "prod"])
def test_short_retention_outside_prod_is_a_declared_suppression(synthesized, kind):
    config = load_env(kind)
    for group in synthesized.resources(f"{kind}-access", "aws_cloudwatch_log_group").values():
        suppressions = {s["id"] for s in group.get("//", {}).get("aegis_suppressions", [])}
        assert ("CKV_AWS_338" in suppressions) is (config.access.logs.retention_days < 365)


def test_dashboard_shows_training_job_errors_and_the_data_store(synthesized, env):
    config = load_env(env)
    n = Naming.of(config)
    (dashboard,) = synthesized.resources(f"{env}-access", "aws_cloudwatch_dashboard").values()
    widgets = {w["properties"].get("title"): w for w in json.loads(dashboard["dashboard_body"])["widgets"]}
    query = widgets["Training: job errors"]["properties"]["query"]
    assert query.startswith("SOURCE '/aws/sagemaker/TrainingJobs' | SOURCE '/aws/sagemaker/ProcessingJobs' |")
    store = widgets.get("Training: data store")
    if config.platform.training.data_store.enabled:
        assert store is not None
        assert {tuple(m[:4]) for m in store["properties"]["metrics"]} >= {
            ("AWS/RDS", "ServerlessDatabaseCapacity", "DBClusterIdentifier", n.resource("training-store"))}
    else:
        assert store is None
