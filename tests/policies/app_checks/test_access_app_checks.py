"""App-level access checks: persona least privilege, app-invoker, trail data events, GuardDuty, prod log retention."""
from __future__ import annotations

import pytest

from modules.naming import Naming
from tests.policies.app_checks.helpers import app, config, doc, resources, run, verdict

ACCOUNT = "111122223333"
HUMAN_TRUST = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole",
                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})
SERVICE_TRUST = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
SCOPED = {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "sagemaker:Describe*"],
          "Resource": ["arn:aws:s3:::aegis-dev-datasets-111122223333-eu-west-1/*"]}


def persona(statements=None, managed=None, trust=HUMAN_TRUST, how="inline"):
    role = {"name": "aegis-dev-data-scientist", "assume_role_policy": trust}
    res = {"aws_iam_role": {"ds": role}}
    policy = doc(*(statements or [SCOPED]))
    if how == "inline":
        res["aws_iam_role_policy"] = {"ds": {"role": "${aws_iam_role.ds.name}", "policy": policy}}
    else:  # customer-managed policy attached
        res["aws_iam_policy"] = {"ds": {"name": "ds", "policy": policy}}
        res["aws_iam_role_policy_attachment"] = {"ds": {"role": "${aws_iam_role.ds.name}",
                                                        "policy_arn": "${aws_iam_policy.ds.arn}"}}
    if managed:
        res["aws_iam_role_policy_attachment"] = dict(res.get("aws_iam_role_policy_attachment", {}), managed={
            "role": "${aws_iam_role.ds.name}", "policy_arn": f"arn:aws:iam::aws:policy/{managed}"})
    return app("dev", access=resources(**res))


class TestPersonaLeastPrivilege:
    @pytest.mark.parametrize("how", ["inline", "attached"])
    def test_named_actions_pass(self, how):
        assert verdict(run("AEGIS_PERSONA_LEAST_PRIVILEGE", persona(how=how)), "aws_iam_role.ds")

    def test_read_only_security_managed_policy_passes(self):
        assert verdict(run("AEGIS_PERSONA_LEAST_PRIVILEGE", persona(managed="SecurityAudit")), "aws_iam_role.ds")

    @pytest.mark.parametrize("how", ["inline", "attached"])
    @pytest.mark.parametrize("stmt", [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": ["sagemaker:*"], "Resource": "*"},
        {"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"},
    ])
    def test_wildcard_actions_fail(self, stmt, how):
        assert not verdict(run("AEGIS_PERSONA_LEAST_PRIVILEGE", persona([SCOPED, stmt], how=how)), "aws_iam_role.ds")

    @pytest.mark.parametrize("managed", ["AdministratorAccess", "PowerUserAccess", "AmazonSageMakerFullAccess"])
    def test_broad_managed_policy_fails(self, managed):
        assert not verdict(run("AEGIS_PERSONA_LEAST_PRIVILEGE", persona(managed=managed)), "aws_iam_role.ds")

    def test_service_roles_are_not_personas(self):
        stacks = persona([{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}], trust=SERVICE_TRUST)
        assert run("AEGIS_PERSONA_LEAST_PRIVILEGE", stacks) == []


def invoker(statements, managed=False):
    naming = Naming.of(config("dev"))
    res = {"aws_iam_role": {"invoker": {"name": naming.role("app-invoker"), "assume_role_policy": HUMAN_TRUST,
                                        "inline_policy": [{"name": "invoke", "policy": doc(*statements)}]}}}
    if managed:
        res["aws_iam_role_policy_attachment"] = {"m": {"role": "${aws_iam_role.invoker.name}",
                                                       "policy_arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
    return app("dev", access=resources(**res))


INVOKE = {"Sid": "Invoke", "Effect": "Allow", "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointAsync"],
          "Resource": [f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/aegis-dev-fraud"]}
INVOKE_FN = {"Sid": "Fn", "Effect": "Allow", "Action": "lambda:InvokeFunction",
             "Resource": [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:aegis-dev-churn:live"]}


class TestAppInvokerInvokeOnly:
    def test_invoke_on_own_endpoints_and_functions_passes(self):
        assert verdict(run("AEGIS_APP_INVOKER_INVOKE_ONLY", invoker([INVOKE, INVOKE_FN])), "aws_iam_role.invoker")

    @pytest.mark.parametrize("stmt", [
        dict(INVOKE, Action=["sagemaker:InvokeEndpoint", "sagemaker:UpdateEndpoint"]),
        dict(INVOKE, Action="sagemaker:Invoke*"),
        dict(INVOKE, Resource="*"),
        dict(INVOKE, Resource=["arn:aws:sagemaker:eu-west-1:777788889999:endpoint/aegis-prod-fraud"]),
        dict(INVOKE_FN, Action="lambda:UpdateFunctionCode"),
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::aegis-dev-datasets-x/*"},
    ])
    def test_anything_but_invoking_own_models_fails(self, stmt):
        assert not verdict(run("AEGIS_APP_INVOKER_INVOKE_ONLY", invoker([stmt])), "aws_iam_role.invoker")

    def test_managed_policy_fails(self):
        assert not verdict(run("AEGIS_APP_INVOKER_INVOKE_ONLY", invoker([INVOKE], managed=True)), "aws_iam_role.invoker")

    def test_missing_invoker_role_fails(self):
        results = run("AEGIS_APP_INVOKER_INVOKE_ONLY", app("dev"))
        assert [r.passed for r in results] == [False]


def trail(selectors=None, advanced=None, logging=True):
    conf = {"name": "aegis-dev-trail", "s3_bucket_name": "b", "enable_logging": logging}
    if selectors is not None:
        conf["event_selector"] = selectors
    if advanced is not None:
        conf["advanced_event_selector"] = advanced
    return app("dev", access=resources(aws_cloudtrail={"trail": conf}))


def bucket_objects(purpose):
    return f"arn:aws:s3:::{Naming.of(config('dev')).bucket(purpose)}/"


def field(name, **ops):
    return {"field": name, **ops}


class TestTrailDataEvents:
    def test_basic_selectors_for_both_buckets_pass(self):
        selectors = [{"read_write_type": "All", "include_management_events": True, "data_resource": [
            {"type": "AWS::S3::Object", "values": [bucket_objects("datasets"), bucket_objects("model-artifacts")]}]}]
        assert verdict(run("AEGIS_TRAIL_DATA_EVENTS", trail(selectors)), "aws_cloudtrail.trail")

    def test_advanced_selectors_pass(self):
        advanced = [{"name": "s3", "field_selector": [
            field("eventCategory", equal_to=["Data"]), field("resources.type", equal_to=["AWS::S3::Object"]),
            field("resources.ARN", starts_with=[bucket_objects("datasets"), bucket_objects("model-artifacts")])]}]
        assert verdict(run("AEGIS_TRAIL_DATA_EVENTS", trail(advanced=advanced)), "aws_cloudtrail.trail")

    def test_all_s3_passes(self):
        selectors = [{"data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]
        assert verdict(run("AEGIS_TRAIL_DATA_EVENTS", trail(selectors)), "aws_cloudtrail.trail")

    @pytest.mark.parametrize("selectors, advanced", [
        ([{"data_resource": [{"type": "AWS::S3::Object", "values": [bucket_objects("datasets")]}]}], None),
        ([{"read_write_type": "WriteOnly", "data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}],
         None),
        ([{"data_resource": [{"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]}]}], None),
        (None, [{"field_selector": [field("eventCategory", equal_to=["Data"]),
                                    field("resources.type", equal_to=["AWS::S3::Object"]),
                                    field("eventName", equal_to=["PutObject"])]}]),
        (None, None),
    ])
    def test_missing_bucket_or_direction_fails(self, selectors, advanced):
        assert not verdict(run("AEGIS_TRAIL_DATA_EVENTS", trail(selectors, advanced)), "aws_cloudtrail.trail")

    def test_stopped_trail_does_not_count(self):
        selectors = [{"data_resource": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}]
        assert not verdict(run("AEGIS_TRAIL_DATA_EVENTS", trail(selectors, logging=False)), "aws_cloudtrail.trail")

    def test_no_trail_fails(self):
        assert [r.passed for r in run("AEGIS_TRAIL_DATA_EVENTS", app("dev"))] == [False]


def guardduty(feature=True, legacy=False, enable=True):
    res = {"aws_guardduty_detector": {"main": {"enable": enable}}}
    if legacy:
        res["aws_guardduty_detector"]["main"]["datasources"] = {"s3_logs": {"enable": True}}
    if feature:
        res["aws_guardduty_detector_feature"] = {"s3": {"detector_id": "${aws_guardduty_detector.main.id}",
                                                        "name": "S3_DATA_EVENTS", "status": "ENABLED"}}
    return app("dev", access=resources(**res))


class TestGuardDutyS3:
    @pytest.mark.parametrize("kwargs", [{}, {"feature": False, "legacy": True}])
    def test_s3_protection_passes(self, kwargs):
        assert verdict(run("AEGIS_GUARDDUTY_S3_PROTECTION", guardduty(**kwargs)), "aws_guardduty_detector.main")

    @pytest.mark.parametrize("kwargs", [{"feature": False}, {"enable": False}])
    def test_no_s3_protection_or_disabled_fails(self, kwargs):
        assert not verdict(run("AEGIS_GUARDDUTY_S3_PROTECTION", guardduty(**kwargs)), "aws_guardduty_detector.main")

    def test_disabled_feature_fails(self):
        stacks = guardduty()
        stacks["dev-access"]["resource"]["aws_guardduty_detector_feature"]["s3"]["status"] = "DISABLED"
        assert not verdict(run("AEGIS_GUARDDUTY_S3_PROTECTION", stacks), "aws_guardduty_detector.main")

    def test_no_detector_fails(self):
        assert [r.passed for r in run("AEGIS_GUARDDUTY_S3_PROTECTION", app("dev"))] == [False]


class TestProdLogRetention:
    @pytest.mark.parametrize("days", [365, 3653, 0, None])
    def test_a_year_or_more_passes(self, days):
        conf = {"name": "/aws/lambda/x"} if days is None else {"name": "/x", "retention_in_days": days}
        stacks = app("prod", access=resources(aws_cloudwatch_log_group={"lg": conf}))
        assert verdict(run("AEGIS_PROD_LOG_RETENTION", stacks), "aws_cloudwatch_log_group.lg")

    @pytest.mark.parametrize("days", [90, 180, "${var.days}"])
    def test_short_or_unknown_retention_in_prod_fails(self, days):
        stacks = app("prod", access=resources(aws_cloudwatch_log_group={"lg": {"name": "/x", "retention_in_days": days}}))
        assert not verdict(run("AEGIS_PROD_LOG_RETENTION", stacks), "aws_cloudwatch_log_group.lg")

    def test_dev_is_not_judged(self):
        stacks = app("dev", access=resources(aws_cloudwatch_log_group={"lg": {"name": "/x", "retention_in_days": 7}}))
        assert run("AEGIS_PROD_LOG_RETENTION", stacks) == []
