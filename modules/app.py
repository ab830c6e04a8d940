"""Assemble the CDKTF App: for each environment, one stack per pillar plus the bootstrap stack."""
from __future__ import annotations

from cdktf import App

from modules.access.stack import AccessStack
from modules.bootstrap.stack import BootstrapStack
from modules.config import EnvConfig
from modules.data.stack import DataStack
from modules.governance.stack import GovernanceStack
from modules.pillar_stack import PillarStack
from modules.platform.stack import PlatformStack

# Apply order; each stack depends on the one before it, so the graph is a chain (a DAG).
STACK_CLASSES = (BootstrapStack, DataStack, PlatformStack, AccessStack, GovernanceStack)


def build_app(configs: list[EnvConfig], outdir: str) -> App:
    app = App(outdir=outdir, stack_traces=False)
    for config in configs:
        previous: PillarStack | None = None
        for stack_class in STACK_CLASSES:
            stack = stack_class(app, config)
            if previous is not None:
                stack.add_dependency(previous)
            previous = stack
    return app
