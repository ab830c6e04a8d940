"""One AWS Config conformance pack per compliance framework the environment lists (except those in
conformance.catalog.WITHOUT_PACK, which something else evaluates in the account).

The templates come from the rule lists in conformance/ (see conformance/render.py), not from AWS
downloads, so what is evaluated is reviewed in this repository.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.governance.config_rules import environment_values
from modules.governance.conformance.catalog import framework, packed
from modules.governance.conformance.render import input_parameters, render_pack
from modules.lookups import environment_vpc_id
from modules.naming import Naming


class ConformancePacks(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, frameworks: list[str],
                 periodic_frequency: str, depends_on: list | None):
        super().__init__(scope, construct_id)
        self.packs = {}
        for key in packed(frameworks):
            given = input_parameters(framework(key))
            self.packs[key] = aws.config_conformance_pack.ConfigConformancePack(
                self, key, name=naming.resource(key),
                template_body=render_pack(framework(key), periodic_frequency, environment_values(naming)),
                input_parameter=[aws.config_conformance_pack.ConfigConformancePackInputParameter(
                    parameter_name=name, parameter_value=self._apply_time_value(value))
                    for name, value in sorted(given.items())] or None,
                depends_on=depends_on)

    def _apply_time_value(self, name: str) -> str:
        if name == "environment_vpc_ids":
            return environment_vpc_id(self)
        raise ValueError(f"no apply-time value {name!r}")  # catalog.APPLY_TIME_VALUES lists what exists
