"""App-level governance checks: Security Hub standards, Config, conformance packs, Inspector, tags,
budgets, backup vault lock, environment completeness."""
from __future__ import annotations

import pytest

from modules.naming import Naming, default_tags
from tests.policies.app_checks.helpers import app, config, failures, resources, run, verdict

STANDARD = "arn:aws:securityhub:eu-west-1::standards/{}/v/{}"
FSBP = STANDARD.format("aws-foundational-security-best-practices", "1.0.0")
CIS = STANDARD.format("cis-aws-foundations-benchmark", "3.0.0")
NIST = STANDARD.format("nist-800-53", "5.0.0")
PCI = STANDARD.format("pci-dss", "4.0.1")


def securityhub(env, arns):
    subs = {f"s{i}": {"standards_arn": a, "depends_on": ["aws_securityhub_account.hub"]} for i, a in enumerate(arns)}
    return app(env, governance=resources(aws_securityhub_account={"hub": {}},
                                         aws_securityhub_standards_subscription=subs))


class TestSecurityHubStandards:
    @pytest.mark.parametrize("env, arns", [("dev", [FSBP, CIS]), ("prod", [FSBP, CIS, NIST, PCI]),
                                           ("staging", [FSBP, CIS, NIST])])
    def test_standards_from_config_pass(self, env, arns):
        assert verdict(run("AEGIS_SECURITYHUB_STANDARDS", securityhub(env, arns)), "aws_securityhub_account.hub")

    @pytest.mark.parametrize("env, arns", [("dev", [FSBP]), ("prod", [FSBP, CIS, NIST]), ("staging", [FSBP, CIS])])
    def test_missing_standard_fails(self, env, arns):
        assert not verdict(run("AEGIS_SECURITYHUB_STANDARDS", securityhub(env, arns)), "aws_securityhub_account.hub")

    def test_security_hub_off_fails(self):
        assert [r.passed for r in run("AEGIS_SECURITYHUB_STANDARDS", app("dev"))] == [False]


def recorder(env="dev", *, all_supported=True, global_types=True, enabled=True, bucket=None, key="audit"):
    naming = Naming.of(config(env))
    return app(env, governance={
        "data": {"aws_kms_key": {f"kms-{key}": {"key_id": naming.kms_alias_arn(key)}}},
        "resource": {
            "aws_config_configuration_recorder": {"rec": {"name": naming.prefix, "recording_group": {
                "all_supported": all_supported, "include_global_resource_types": global_types}}},
            "aws_config_configuration_recorder_status": {"on": {
                "name": "${aws_config_configuration_recorder.rec.name}", "is_enabled": enabled}},
            "aws_config_delivery_channel": {"ch": {"s3_bucket_name": bucket or naming.bucket("audit"),
                                                   "s3_kms_key_arn": f"${{data.aws_kms_key.kms-{key}.arn}}"}},
        }})


class TestConfigRecorderEnv:
    def test_recording_everything_into_the_audit_bucket_passes(self):
        results = run("AEGIS_CONFIG_RECORDER_ENV", recorder())
        assert verdict(results, "aws_config_configuration_recorder.rec"), failures(results)

    @pytest.mark.parametrize("kwargs", [{"all_supported": False}, {"global_types": False}, {"enabled": False},
                                        {"bucket": "some-other-bucket"}, {"key": "inference"}])
    def test_partial_disabled_or_misdelivered_recorder_fails(self, kwargs):
        assert not verdict(run("AEGIS_CONFIG_RECORDER_ENV", recorder(**kwargs)), "aws_config_configuration_recorder.rec")

    def test_no_recorder_fails(self):
        assert [r.passed for r in run("AEGIS_CONFIG_RECORDER_ENV", app("dev"))] == [False]


def packs(env, frameworks):
    return app(env, governance=resources(aws_config_conformance_pack={
        f.replace("-", "_"): {"name": f"aegis-{env}-{f}", "template_body": "Resources: {}"} for f in frameworks}))


class TestConformancePacks:
    def test_pack_per_listed_framework_passes(self):
        frameworks = config("prod").compliance
        results = run("AEGIS_CONFORMANCE_PACKS", packs("prod", frameworks))
        assert not failures(results) and len(results) == len(frameworks)

    def test_missing_framework_pack_fails(self):
        frameworks = list(config("prod").compliance)
        results = run("AEGIS_CONFORMANCE_PACKS", packs("prod", frameworks[1:]))
        assert [r.message for r in results if not r.passed] == [f"no conformance pack for {frameworks[0]}"]

    def test_cis_and_iso27001_need_no_pack_of_their_own(self):
        """Security Hub's CIS standard evaluates CIS; no rule list exists for ISO 27001: neither wants a pack,
        while every other listed framework still does."""
        cfg = config("prod")
        listed = cfg.model_copy(update={"compliance": [*cfg.compliance, "cis", "iso27001"]})
        results = run("AEGIS_CONFORMANCE_PACKS", packs("prod", cfg.compliance), configs={"prod": listed})
        assert not failures(results) and len(results) == len(cfg.compliance)
        results = run("AEGIS_CONFORMANCE_PACKS", packs("prod", cfg.compliance[1:]), configs={"prod": listed})
        assert [r.message for r in results if not r.passed] == [f"no conformance pack for {cfg.compliance[0]}"]


def inspector(env, types, account=None):
    return app(env, governance=resources(aws_inspector2_enabler={"scan": {
        "account_ids": [account or config(env).account_id], "resource_types": types}}))


class TestInspectorCoverage:
    @pytest.mark.parametrize("account", [None, "${data.aws_caller_identity.current.account_id}"])
    def test_ec2_ecr_lambda_pass(self, account):
        stacks = inspector("dev", ["EC2", "ECR", "LAMBDA", "LAMBDA_CODE"], account)
        assert verdict(run("AEGIS_INSPECTOR_COVERAGE", stacks), "aws_inspector2_enabler.scan")

    @pytest.mark.parametrize("types, account", [(["EC2", "ECR"], None), (["EC2", "ECR", "LAMBDA"], "999988887777")])
    def test_missing_type_or_other_account_fails(self, types, account):
        assert not verdict(run("AEGIS_INSPECTOR_COVERAGE", inspector("dev", types, account)),
                           "aws_inspector2_enabler.scan")


def tagged(env="dev", *, provider_tags=None, resource_tags=None, asg_tags=True, volume_tags=True):
    tags = default_tags(config(env)) if provider_tags is None else provider_tags
    provider = {"aws": [{"region": "eu-west-1", "default_tags": [{"tags": tags}]},
                        {"alias": "dr", "region": "eu-central-1", "default_tags": [{"tags": tags}]}]}
    required = default_tags(config(env))
    specs = [{"resource_type": "instance", "tags": required}]
    if volume_tags:
        specs.append({"resource_type": "volume", "tags": required})
    group = {"name": "g", "min_size": 1, "max_size": 2,
             "launch_template": {"id": "${aws_launch_template.lt.id}", "version": "$Latest"}}
    if asg_tags:
        group["tag"] = [{"key": k, "value": v, "propagate_at_launch": True} for k, v in required.items()]
    bucket = {"bucket": "b"}
    if resource_tags:
        bucket["tags"] = resource_tags
    doc = {"provider": provider, "resource": {"aws_s3_bucket": {"b": bucket},
                                               "aws_launch_template": {"lt": {"tag_specifications": specs}},
                                               "aws_autoscaling_group": {"g": group}}}
    return app(env, platform=doc)


class TestRequiredTags:
    def test_provider_default_tags_and_launch_tags_pass(self):
        results = [r for r in run("AEGIS_REQUIRED_TAGS", tagged()) if r.stack == "dev-platform"]
        assert not failures(results) and len(results) == 2

    def test_stack_without_provider_fails(self):
        results = run("AEGIS_REQUIRED_TAGS", tagged())
        assert not verdict(results, "", "dev-data")

    @pytest.mark.parametrize("change", [{"Environment": "prod"}, {"DataClassification": None}, {"OwnerTeam": ""}])
    def test_wrong_or_missing_provider_tag_fails(self, change):
        tags = {k: v for k, v in {**default_tags(config("dev")), **change}.items() if v is not None}
        assert not verdict(run("AEGIS_REQUIRED_TAGS", tagged(provider_tags=tags)), "", "dev-platform")

    def test_resource_overriding_a_required_tag_fails(self):
        results = run("AEGIS_REQUIRED_TAGS", tagged(resource_tags={"DataClassification": "public"}))
        assert not verdict(results, "aws_s3_bucket.b")

    @pytest.mark.parametrize("kwargs", [{"asg_tags": False}, {"volume_tags": False}])
    def test_untagged_fleet_instances_or_volumes_fail(self, kwargs):
        stacks = tagged(**kwargs)
        if not kwargs.get("asg_tags", True):  # neither the group nor the template tags instances
            stacks["dev-platform"]["resource"]["aws_launch_template"]["lt"]["tag_specifications"] = [
                s for s in stacks["dev-platform"]["resource"]["aws_launch_template"]["lt"]["tag_specifications"]
                if s["resource_type"] != "instance"]
        assert not verdict(run("AEGIS_REQUIRED_TAGS", stacks), "aws_autoscaling_group.g")


def budget(env="dev", *, limit="2000", notify=True, subscription=True):
    notification = [{"comparison_operator": "GREATER_THAN", "threshold": 80, "threshold_type": "PERCENTAGE",
                     "notification_type": "ACTUAL", "subscriber_sns_topic_arns": ["arn:aws:sns:eu-west-1:1:alerts"]}]
    res = {"aws_budgets_budget": {"monthly": {"name": "b", "budget_type": "COST", "time_unit": "MONTHLY",
                                              "limit_amount": limit, "limit_unit": "USD",
                                              "notification": notification if notify else []}},
           "aws_ce_anomaly_monitor": {"services": {"name": "m", "monitor_type": "DIMENSIONAL",
                                                   "monitor_dimension": "SERVICE"}}}
    if subscription:
        res["aws_ce_anomaly_subscription"] = {"alerts": {
            "name": "s", "frequency": "IMMEDIATE", "monitor_arn_list": ["${aws_ce_anomaly_monitor.services.arn}"],
            "subscriber": [{"type": "SNS", "address": "arn:aws:sns:eu-west-1:1:alerts"}]}}
    return app(env, governance=resources(**res))


class TestBudgetAndAnomaly:
    def test_budget_and_watched_monitor_pass(self):
        assert not failures(run("AEGIS_BUDGET_AND_ANOMALY", budget()))

    @pytest.mark.parametrize("kwargs, address", [
        ({"limit": "0"}, "aws_budgets_budget.monthly"), ({"notify": False}, "aws_budgets_budget.monthly"),
        ({"subscription": False}, "aws_ce_anomaly_monitor.services")])
    def test_unalerted_budget_or_monitor_fails(self, kwargs, address):
        assert not verdict(run("AEGIS_BUDGET_AND_ANOMALY", budget(**kwargs)), address)

    def test_environment_without_cost_guardrails_fails(self):
        assert [r.passed for r in run("AEGIS_BUDGET_AND_ANOMALY", app("dev"))] == [False, False]


def vault(env, *, lock=True, changeable=3, min_days=7):
    res = {"aws_backup_vault": {"v": {"name": f"aegis-{env}-backup"}}}
    if lock:
        res["aws_backup_vault_lock_configuration"] = {"l": {"backup_vault_name": "${aws_backup_vault.v.name}",
                                                            "min_retention_days": min_days}}
        if changeable is not None:
            res["aws_backup_vault_lock_configuration"]["l"]["changeable_for_days"] = changeable
    return app(env, governance=resources(**res))


class TestBackupVaultLock:
    @pytest.mark.parametrize("env, changeable", [("prod", 3), ("dev", None)])
    def test_locked_vault_passes(self, env, changeable):
        assert verdict(run("AEGIS_BACKUP_VAULT_LOCK", vault(env, changeable=changeable)), "aws_backup_vault.v")

    @pytest.mark.parametrize("env, kwargs", [("dev", {"lock": False}), ("prod", {"changeable": None}),
                                             ("prod", {"min_days": 0})])
    def test_unlocked_or_governance_prod_vault_fails(self, env, kwargs):
        assert not verdict(run("AEGIS_BACKUP_VAULT_LOCK", vault(env, **kwargs)), "aws_backup_vault.v")

    def test_stateful_data_without_a_vault_fails(self):
        stacks = app("dev", platform=resources(aws_dynamodb_table={"t": {"name": "t"}}))
        assert [r.passed for r in run("AEGIS_BACKUP_VAULT_LOCK", stacks)] == [False]


class TestEnvironmentStacks:
    def test_complete_environment_passes(self):
        assert [r.passed for r in run("AEGIS_ENVIRONMENT_STACKS", app("dev"), "dev")] == [True]

    def test_missing_pillar_stack_fails(self):
        stacks = app("dev")
        del stacks["dev-governance"]
        assert [r.passed for r in run("AEGIS_ENVIRONMENT_STACKS", stacks, "dev")] == [False]

    def test_stack_of_an_unconfigured_environment_fails(self):
        stacks = {**app("dev"), "qa-platform": {}}
        results = run("AEGIS_ENVIRONMENT_STACKS", stacks, "dev")
        assert [(r.stack, r.passed) for r in results if not r.passed] == [("qa-platform", False)]
