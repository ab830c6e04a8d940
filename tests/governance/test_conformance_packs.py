"""Conformance packs: exactly one per framework the environment lists, generated from the rule
lists kept in the repository, each template well-formed and every rule mapped to control IDs."""
from __future__ import annotations

import re

import pytest
import yaml

from modules.config import load_env
from modules.governance.config_rules import environment_values
from modules.governance.conformance.catalog import (
    IDENTIFIER,
    RuleListError,
    framework,
    managed_rules,
    parse_rules,
)
from modules.governance.conformance.render import input_parameters, render_pack
from modules.naming import Naming

FRAMEWORKS = ("hipaa", "gdpr", "nist-800-53", "pci-dss")
FREQUENCIES = {"One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"}
# What a value of each documented parameter type looks like as a CloudFormation parameter default.
TYPE_PATTERNS = {"int": r"^-?\d+$", "bool": r"^(true|false)$", "csv": r"^[^,]+(,[^,]+)*$", "string": r"^.+$"}
MAX_TEMPLATE_BYTES = 51_200  # AWS Config's limit for template_body
# What an environment supplies to rule lists (here dev's), for the tests that render without one.
ENVIRONMENT = environment_values(Naming.of(load_env("dev")))


def test_pack_exactly_for_listed_frameworks(gov):
    packs = gov.res("aws_config_conformance_pack")
    assert sorted(p["name"] for p in packs.values()) == sorted(gov.naming.resource(f) for f in gov.config.compliance)
    status, _ = gov.one("aws_config_configuration_recorder_status")
    for conf in packs.values():
        assert f"aws_config_configuration_recorder_status.{status}" in conf["depends_on"]
        assert "template_s3_uri" not in conf  # generated here, never downloaded


def test_template_body_is_the_rendered_rule_list(gov):
    frequency = gov.settings.rules.periodic_frequency
    for conf in gov.res("aws_config_conformance_pack").values():
        key = conf["name"][len(gov.naming.prefix) + 1:]
        rendered = render_pack(framework(key), frequency, environment_values(gov.naming))
        assert conf["template_body"] == rendered
        assert render_pack(framework(key), frequency, environment_values(gov.naming)) == rendered  # byte-identical


def _check_parameter(spec, default: str, where: str):
    assert isinstance(default, str), f"{where}: default must be a string, got {default!r}"
    assert re.match(TYPE_PATTERNS[spec.type], default), f"{where}: {default!r} is not a {spec.type}"
    if spec.allowed:
        assert default in spec.allowed, f"{where}: {default!r} not in {spec.allowed}"


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_generated_pack_is_well_formed(key):
    body = render_pack(framework(key), "TwentyFour_Hours", ENVIRONMENT)
    assert len(body.encode("utf-8")) <= MAX_TEMPLATE_BYTES
    template = yaml.safe_load(body)  # valid YAML; CloudFormation long-form Ref only, no custom tags
    assert set(template) <= {"Parameters", "Resources"}
    parameters = template.get("Parameters", {})
    resources = template["Resources"]
    catalogue = managed_rules()
    uses = {u.rule.identifier: u for u in framework(key).rules}
    names, referenced = set(), []
    for logical_id, resource in resources.items():
        where = f"{key}/{logical_id}"
        assert re.fullmatch(r"[A-Za-z0-9]+", logical_id), where
        assert resource["Type"] == "AWS::Config::ConfigRule", where
        props = resource["Properties"]
        assert props["ConfigRuleName"] not in names, f"{where}: rule name repeats"
        names.add(props["ConfigRuleName"])
        assert props["Source"]["Owner"] == "AWS"
        identifier = props["Source"]["SourceIdentifier"]
        assert IDENTIFIER.match(identifier) and identifier in catalogue, f"{where}: {identifier} unknown"
        rule = catalogue[identifier]
        assert props["ConfigRuleName"] == rule.name
        assert len(props["Description"]) <= 256
        use = uses[identifier]
        if rule.trigger in ("change", "both") and use.scope is not None and use.scope.tag_key:
            expected = {"TagKey": use.scope.tag_key}  # a tag key alone scopes to every value
            if use.scope.tag_value is not None:
                expected["TagValue"] = use.scope.tag_value
            assert props["Scope"] == expected, where
        elif rule.trigger in ("change", "both"):
            assert props["Scope"]["ComplianceResourceTypes"] == list(use.resource_types), where
            assert set(use.resource_types) <= set(rule.resource_types), where
        else:
            assert "Scope" not in props, where
        assert (props.get("MaximumExecutionFrequency") in FREQUENCIES) == (rule.trigger in ("periodic", "both")), where
        for name, value in props.get("InputParameters", {}).items():
            assert name in rule.parameters, f"{where}: {identifier} has no parameter {name}"
            assert set(value) == {"Ref"} and value["Ref"] in parameters, f"{where}: {name} must Ref a parameter"
            declared = parameters[value["Ref"]]
            assert declared["Type"] == "String"  # Config passes rule parameters as strings
            if "Default" in declared:
                _check_parameter(rule.parameters[name], declared["Default"], f"{where}.{name}")
            else:  # known only at apply time: the pack's input parameter supplies it
                assert value["Ref"] in input_parameters(framework(key)), f"{where}: {name} has no value"
            referenced.append(value["Ref"])
    assert sorted(referenced) == sorted(parameters), "every parameter is used exactly once"


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_every_rule_maps_to_framework_controls(key):
    fw = framework(key)
    template = yaml.safe_load(render_pack(fw, "TwentyFour_Hours", ENVIRONMENT))
    descriptions = {r["Properties"]["Source"]["SourceIdentifier"]: r["Properties"]["Description"]
                    for r in template["Resources"].values()}
    assert len(descriptions) == len(fw.rules) >= 20
    for use in fw.rules:
        assert use.controls, use.rule.identifier
        for control in use.controls:
            assert re.match(fw.control_pattern, control), f"{key}: {control} does not look like a {key} control"
        listed = descriptions[use.rule.identifier].split("Controls: ", 1)[1].split(", ")
        assert listed == list(use.controls)


@pytest.mark.parametrize("key,sample", [
    ("hipaa", "164.312(a)(2)(iv)"), ("nist-800-53", "SC-28(1)"), ("pci-dss", "10.2.1.1"), ("gdpr", "Art. 32(1)(a)")])
def test_control_patterns_accept_real_ids_and_reject_others(key, sample):
    pattern = framework(key).control_pattern
    assert re.match(pattern, sample)
    for other in ("164.312(a)(2)(iv)", "SC-28(1)", "Art. 32(1)(a)", "CIS 1.4"):
        if other != sample:
            assert not re.match(pattern, other), f"{key} pattern accepts {other}"


BAD_RULE_LISTS = [
    ([{"rule": "S3_BUCKET_SSL_ONLY", "controls": ["AC-3"]}], "not in managed_rules.yaml"),
    ([{"rule": "ACCESS_KEYS_ROTATED", "parameters": {"maxAccessKeyAge": "90"}, "controls": ["AC-3"]}],
     "expected an integer"),
    ([{"rule": "VPC_FLOW_LOGS_ENABLED", "parameters": {"trafficType": "SOME"}, "controls": ["AC-3"]}],
     "is not one of"),
    ([{"rule": "ACCESS_KEYS_ROTATED", "parameters": {"maxAge": 90}, "controls": ["AC-3"]}], "has no parameter"),
    ([{"rule": "CLOUD_TRAIL_ENABLED", "controls": ["AU-2"]}, {"rule": "CLOUD_TRAIL_ENABLED", "controls": ["AU-3"]}],
     "listed twice"),
    ([{"rule": "CLOUD_TRAIL_ENABLED", "controls": ["164.312(b)"]}], "do not match the framework"),
    ([{"rule": "CLOUD_TRAIL_ENABLED"}], "maps to no control IDs"),
]


@pytest.mark.parametrize("entries,fragment", BAD_RULE_LISTS, ids=[f for _, f in BAD_RULE_LISTS])
def test_rule_list_mistakes_are_rejected(entries, fragment):
    with pytest.raises(RuleListError, match=re.escape(fragment)):
        parse_rules(entries, "frameworks/test.yaml", controls_pattern=framework("nist-800-53").control_pattern)


def test_frameworks_without_a_pack_are_evaluated_otherwise():
    """CIS and ISO/IEC 27001 get no conformance pack of their own; CIS is Security Hub's always-on standard."""
    from modules.governance.conformance.catalog import WITHOUT_PACK, framework_path, packed
    from modules.governance.security_hub import ALWAYS

    assert packed(["iso27001", "pci-dss", "cis", "hipaa"]) == ["hipaa", "pci-dss"]
    assert "cis-aws-foundations-benchmark" in ALWAYS
    for key in WITHOUT_PACK:
        assert not framework_path(key).is_file(), f"{key} has a rule list: give it its pack"
    for key in FRAMEWORKS:
        assert framework_path(key).is_file() and key not in WITHOUT_PACK
