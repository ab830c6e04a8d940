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


def build_app(configs: list[EnvConfig], outdir: str, units: set[tuple[str, int]] | None = None) -> App:
    """The App of every stack of `configs`; with `units` ((env name, index in STACK_CLASSES) pairs), only
    those stacks and no dependencies between them: a parallel synth worker (modules/synth.py), whose
    stacks synthesize byte for byte as in the whole App (tested) while the manifest is merged."""
    app = App(outdir=outdir, stack_traces=False)
    for config in configs:
        previous: PillarStack | None = None
        for index, stack_class in enumerate(STACK_CLASSES):
            if units is not None:
                if (config.name, index) in units:
                    stack_class(app, config)
                continue
            stack = stack_class(app, config)
            if previous is not None:
                stack.add_dependency(previous)
            previous = stack
    return app
