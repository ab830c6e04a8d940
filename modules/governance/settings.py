"""Settings of the Governance pillar (`governance:` in an environment file). Filled in by the pillar's issue."""
from __future__ import annotations

from modules.schema_base import Strict


class GovernanceSettings(Strict):
    pass
