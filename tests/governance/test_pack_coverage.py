"""Each generated conformance pack against AWS's own pack for the framework (aws_packs.yaml): every
applicable AWS rule is deployed or left out with its reason, and at least MIN_COVERAGE of them are
deployed; the packs stay within AWS Config's limits."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from modules.data.bucket_policy import bucket_policy_ceiling
from modules.governance.backup import SERVICE_POLICIES
from modules.governance.conformance import coverage as coverage_module
from modules.governance.conformance.catalog import RuleListError, framework
from modules.governance.conformance.coverage import MIN_COVERAGE, pack_coverage
from modules.governance.conformance.render import MAX_RULES, render_pack
from modules.platform.lambda_inference import RUNTIME

# PCI DSS: AWS's v4.0 pack has 53 rules that apply to what Aegis deploys (the training data store, Aurora with an
# RDS-managed master secret, makes its RDS, Aurora and Secrets Manager rules applicable); Aegis deploys 48. The 5
# left out are recorded with reasons in aws_packs.yaml: MFA delete, Macie automated discovery, the default network
# ACL, the unread master secret, and instance-level backup protection of Aurora.


@pytest.mark.parametrize("key", ["hipaa", "nist-800-53", "pci-dss"])
def test_pack_covers_at_least_the_bar_of_the_applicable_aws_rules(key):
    found = pack_coverage()[key]
    assert len(found.applicable) >= 40  # the comparison is with a real pack, not an empty list
    assert found.coverage >= MIN_COVERAGE, (f"{key}: {found.coverage:.3f}; left out: {sorted(found.left_out)}")


def test_every_applicable_aws_rule_is_deployed_or_has_a_reason():
    for key, found in pack_coverage().items():
        ours = {use.rule.identifier for use in framework(key).rules}
        for rule in found.applicable:
            assert rule in ours or found.left_out.get(rule), (key, rule)
        assert set(found.deployed) == set(found.applicable) - set(found.left_out)


def test_the_rules_the_review_named_are_deployed_where_aws_has_them():
    named = {"ALB_WAF_ENABLED", "RESTRICTED_INCOMING_TRAFFIC", "ELB_DELETION_PROTECTION_ENABLED",
             "ALB_HTTP_TO_HTTPS_REDIRECTION_CHECK", "ELBV2_ACM_CERTIFICATE_REQUIRED", "S3_BUCKET_DEFAULT_LOCK_ENABLED",
             "S3_BUCKET_ACL_PROHIBITED", "S3_VERSION_LIFECYCLE_POLICY_CHECK", "DYNAMODB_IN_BACKUP_PLAN",
             "EFS_IN_BACKUP_PLAN", "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", "WAFV2_LOGGING_ENABLED",
             "CLOUDWATCH_ALARM_ACTION_CHECK", "AUTOSCALING_GROUP_ELB_HEALTHCHECK_REQUIRED"}
    hipaa = pack_coverage()["hipaa"]
    assert named <= set(hipaa.deployed), sorted(named - set(hipaa.deployed))


def test_gdpr_has_no_aws_pack_to_compare_with():
    assert "gdpr" not in pack_coverage()
    raw = yaml.safe_load(coverage_module.AWS_PACKS.read_text())
    assert raw["packs"]["gdpr"]["template"] is None


@pytest.mark.parametrize("key", ["hipaa", "nist-800-53", "pci-dss", "gdpr"])
def test_packs_stay_within_aws_config_limits(key):
    rules = framework(key).rules
    assert len(rules) <= MAX_RULES
    body = render_pack(framework(key), "TwentyFour_Hours",
                       {"trail_data_event_buckets": "a,b", "backup_resource_tags": '{"Backup": "aegis-prod"}',
                        "bucket_policy_ceiling": json.dumps(bucket_policy_ceiling("111122223333"))})
    assert len(body.encode()) <= 51_200


def test_lambda_runtime_rule_names_the_runtime_aegis_deploys():
    (use,) = [u for u in framework("pci-dss").rules if u.rule.identifier == "LAMBDA_FUNCTION_SETTINGS_CHECK"]
    assert dict(use.parameters)["runtime"] == RUNTIME


def _pci_parameters(identifier: str) -> dict:
    (use,) = [u for u in framework("pci-dss").rules if u.rule.identifier == identifier]
    return dict(use.parameters)


def test_alarm_settings_rule_names_a_security_alarm_prod_deploys_with_those_settings(synthesized):
    wanted = _pci_parameters("CLOUDWATCH_ALARM_SETTINGS_CHECK")
    alarms = [a for a in synthesized.resources("prod-access", "aws_cloudwatch_metric_alarm").values()
              if a.get("metric_name") == wanted["metricName"]]
    assert len(alarms) == 1, wanted["metricName"]  # the rule evaluates a real alarm, not nothing
    (alarm,) = alarms
    assert (alarm["period"], alarm["threshold"], alarm["evaluation_periods"], alarm["statistic"],
            alarm["comparison_operator"]) == (int(wanted["period"]), float(wanted["threshold"]),
                                              int(wanted["evaluationPeriods"]), wanted["statistic"],
                                              wanted["comparisonOperator"])


def test_policy_in_use_rule_names_the_backup_roles_policy():
    wanted = _pci_parameters("IAM_POLICY_IN_USE")
    assert wanted["policyARN"] in SERVICE_POLICIES and wanted["policyUsageType"] == "IAM_ROLE"


@pytest.mark.parametrize("change, fragment", [
    (lambda d: d["packs"]["hipaa"]["left_out"].pop("RDS_LOGGING_ENABLED"), "neither in frameworks/hipaa.yaml"),
    (lambda d: d["packs"]["hipaa"]["left_out"].update({"EBS_IN_BACKUP_PLAN": "no"}), "must be a sentence"),
    (lambda d: d["packs"]["hipaa"]["left_out"].update({"ALB_WAF_ENABLED": "Left out for a long enough reason."}),
     "deployed by the pack and excused too"),
    (lambda d: d["packs"]["hipaa"]["left_out"].update({"NOT_IN_AWS_PACK": "Left out for a long enough reason."}),
     "does not have"),
    (lambda d: d.pop("source"), "expected `source`"),
])
def test_mistakes_in_the_coverage_file_are_refused(tmp_path: Path, monkeypatch, change, fragment):
    raw = yaml.safe_load(coverage_module.AWS_PACKS.read_text())
    broken = copy.deepcopy(raw)
    change(broken)
    path = coverage_module.HERE / "aws_packs.yaml"
    written = tmp_path / "aws_packs.yaml"
    written.write_text(yaml.safe_dump(broken))
    monkeypatch.setattr(coverage_module, "AWS_PACKS", written)
    monkeypatch.setattr(coverage_module, "_display", lambda p: "aws_packs.yaml" if p == written else str(p))
    pack_coverage.cache_clear()
    try:
        with pytest.raises(RuleListError, match=fragment):
            pack_coverage()
    finally:
        pack_coverage.cache_clear()
    assert path.exists()


def test_rules_of_the_training_data_store_are_placed_as_applicable(synthesized):
    # Prod deploys an Aurora cluster and RDS keeps its master secret in Secrets Manager: AWS's RDS, Aurora and
    # Secrets Manager rules evaluate them, so none may be excused as evaluating nothing Aegis deploys, except the
    # two whose resources Aurora never is (DB security groups of EC2-Classic; Multi-AZ instances, not Aurora).
    assert synthesized.resources("prod-platform", "aws_rds_cluster")
    raw = yaml.safe_load(coverage_module.AWS_PACKS.read_text())
    excused = {r for r in raw["not_applicable"] if r.startswith(("RDS_", "AURORA_", "DB_", "SECRETSMANAGER_"))}
    assert excused == {"RDS_DB_SECURITY_GROUP_NOT_ALLOWED", "RDS_MULTI_AZ_SUPPORT"}
    for key in ("hipaa", "nist-800-53", "pci-dss"):
        found = pack_coverage()[key]
        placed = [r for r in found.applicable if r.startswith(("RDS_", "AURORA_", "DB_", "SECRETSMANAGER_"))]
        assert placed and all(r in found.deployed or r in found.left_out for r in placed)


def test_the_gateway_rule_authorizes_the_environments_own_vpc(synthesized):
    (pack,) = [p for n, p in synthesized.resources("prod-governance", "aws_config_conformance_pack").items()
               if "pci" in n]
    template = yaml.safe_load(pack["template_body"])
    (name,) = [n for n in template["Parameters"] if n.startswith("InternetGatewayAuthorizedVpcOnly")]
    assert "Default" not in template["Parameters"][name]  # AWS refuses the pack without the input parameter
    (given,) = pack["input_parameter"]
    assert given["parameter_name"] == name
    lookup = given["parameter_value"].removeprefix("${data.aws_vpc.").removesuffix(".id}")
    wanted = synthesized.data_sources("prod-governance", "aws_vpc")[lookup]["tags"]
    vpcs = [v for v in synthesized.resources("prod-platform", "aws_vpc").values() if v["tags"]["Name"] == wanted["Name"]]
    assert len(vpcs) == 1 and synthesized.resources("prod-platform", "aws_internet_gateway")  # a gateway to judge


def test_validation_knows_which_packs_judge_fleet_backups():
    from modules.governance.conformance.catalog import framework_path
    from modules.governance.settings import FLEET_BACKUP_FRAMEWORKS, FLEET_BACKUP_RULES

    keys = sorted(p.stem for p in framework_path("hipaa").parent.glob("*.yaml"))
    judging = {k for k in keys if any(u.rule.identifier in FLEET_BACKUP_RULES for u in framework(k).rules)}
    assert judging == set(FLEET_BACKUP_FRAMEWORKS)
