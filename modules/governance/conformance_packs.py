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
from modules.governance.conformance.render import render_pack
from modules.naming import Naming


class ConformancePacks(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, frameworks: list[str],
                 periodic_frequency: str, depends_on: list | None):
        super().__init__(scope, construct_id)
        self.packs = {}
        for key in packed(frameworks):
            self.packs[key] = aws.config_conformance_pack.ConfigConformancePack(
                self, key, name=naming.resource(key),
                template_body=render_pack(framework(key), periodic_frequency, environment_values(naming)),
                depends_on=depends_on)
