"""Render a framework's rule list into a conformance pack template (jinja2, `pack.yaml.j2`).

AWS normally downloads these templates; here they are generated from the rule lists in the
repository, so a pack changes only through a reviewed change of its rule list. The output depends
only on the rule list and the periodic frequency: byte-identical across runs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from modules.governance.conformance.catalog import (
    APPLY_TIME_VALUES,
    HERE,
    EnvironmentValue,
    Framework,
    RuleListError,
    RuleUse,
)

TEMPLATE = "pack.yaml.j2"
# AWS Config limits: template body size (PutConformancePack TemplateBody), rules per pack, rule
# description length.
MAX_TEMPLATE_BYTES = 51_200
MAX_RULES = 130
MAX_DESCRIPTION = 256


@dataclass(frozen=True)
class _Parameter:
    name: str
    default: str | None  # None: no default, the pack's input parameter supplies it (APPLY_TIME_VALUES)


@dataclass(frozen=True)
class _Rule:
    logical_id: str
    name: str
    description: str
    identifier: str
    resource_types: tuple[str, ...]
    tag_key: str | None
    tag_value: str | None
    frequency: str | None
    parameters: tuple[tuple[str, str], ...]  # (rule parameter, template parameter it references)


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE)), undefined=StrictUndefined, autoescape=False,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["q"] = lambda value: json.dumps(str(value), ensure_ascii=False)
    return env


def logical_id(rule_name: str) -> str:
    """CloudFormation logical ID of a rule: its name in CamelCase (alphanumeric only)."""
    return "".join(part.capitalize() for part in rule_name.split("-"))


def parameter_name(rule_logical_id: str, rule_parameter: str) -> str:
    """The template parameter a rule parameter references."""
    return f"{rule_logical_id}Param{rule_parameter[0].upper()}{rule_parameter[1:]}"


def apply_time_uses(use: RuleUse) -> list[tuple[str, str]]:
    """(rule parameter, environment value) pairs of `use` that are known only at apply time."""
    return [(name, value.name) for name, value in use.parameters
            if isinstance(value, EnvironmentValue) and value.name in APPLY_TIME_VALUES]


def input_parameters(framework: Framework) -> dict[str, str]:
    """Template parameter → the apply-time environment value the pack must receive for it."""
    return {parameter_name(logical_id(use.rule.name), name): value
            for use in framework.rules for name, value in apply_time_uses(use)}


def description(use: RuleUse) -> str:
    return f"{use.rule.description} Controls: {', '.join(use.controls)}"


def _rules_and_parameters(framework: Framework, periodic_frequency: str,
                          environment: dict[str, str]) -> tuple[list[_Rule], list[_Parameter]]:
    rules, parameters = [], []
    for use in framework.rules:
        rule = use.rule
        lid = logical_id(rule.name)
        text = description(use)
        if len(text) > MAX_DESCRIPTION:
            raise RuleListError(f"{framework.key}: description of {rule.identifier} is over {MAX_DESCRIPTION} characters")
        refs = []
        for name, value in use.parameter_values(environment, f"{framework.key}: {rule.identifier}"):
            param = parameter_name(lid, name)
            parameters.append(_Parameter(param, value))
            refs.append((name, param))
        for name, _ in apply_time_uses(use):
            param = parameter_name(lid, name)
            parameters.append(_Parameter(param, None))
            refs.append((name, param))
        tag = use.scope if use.scope is not None and use.scope.tag_key else None
        rules.append(_Rule(lid, rule.name, text, rule.identifier, use.resource_types,
                           tag.tag_key if tag else None, tag.tag_value if tag else None,
                           periodic_frequency if rule.scheduled else None, tuple(refs)))
    return rules, parameters


def render_pack(framework: Framework, periodic_frequency: str, environment: dict[str, str] | None = None) -> str:
    """The pack template; `environment` supplies the values rule lists take from the environment."""
    if len(framework.rules) > MAX_RULES:
        raise RuleListError(f"{framework.key}: {len(framework.rules)} rules; AWS Config accepts at most {MAX_RULES} "
                            "in one conformance pack (split the rule list)")
    rules, parameters = _rules_and_parameters(framework, periodic_frequency, environment or {})
    body = _environment().get_template(TEMPLATE).render(
        key=framework.key, title=framework.title, rules=rules, parameters=parameters)
    size = len(body.encode("utf-8"))
    if size > MAX_TEMPLATE_BYTES:
        raise RuleListError(f"{framework.key}: conformance pack template is {size} bytes; AWS Config accepts "
                            f"at most {MAX_TEMPLATE_BYTES} (split the rule list)")
    return body
