"""Architecture diagram of one environment, drawn from its synthesized stacks as a self-contained SVG.

Everything shown is read from the `cdk.tf.json` files, never from the environment file, so the
picture is what Terraform would build: the four pillars (data, platform, access, governance) and
the state bucket, the network, each model's serving path, and the data flows between buckets,
serving and monitoring (flows come from the resources themselves: bucket logging and replication
targets, IAM statements of each model's execution role, data-capture destinations, bucket
notifications, trail and Config delivery buckets, alarm and event targets).

`extract` builds the model (`Architecture`, in `architecture`): pillar by pillar (`extraction`), each
model's serving path (`serving`), over the stacks as CDKTF writes them (`stacks`); `render_svg` lays it
out (`svg`). Same input, same bytes: no randomness, no clock, sorted iteration, integer coordinates.
"""
from __future__ import annotations

from typing import Mapping

from modules.synth_output import load_stacks, stack_parts
from policies.report.diagram.extraction import extract
from policies.report.diagram.stacks import Doc
from policies.report.diagram.svg import render_svg

__all__ = ["environment_svg", "environments", "extract", "load_stacks", "render_svg"]


def environments(stacks: Mapping[str, Doc]) -> list[str]:
    return sorted({s[0] for s in map(stack_parts, stacks) if s})


def environment_svg(env: str, stacks: Mapping[str, Doc], *, standalone: bool = True) -> str:
    return render_svg(extract(env, stacks), standalone=standalone)
