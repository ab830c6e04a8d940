"""`<env>-platform`: the Platform pillar. Filled in by the pillar's issue."""
from __future__ import annotations

from constructs import Construct

from modules.config import EnvConfig
from modules.pillar_stack import PillarStack


class PlatformStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "platform")
