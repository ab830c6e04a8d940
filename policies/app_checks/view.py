"""A read-only view of the synthesized app for the app-level checks: environments, their stacks
by pillar, resources by type, and Terraform references between them.

`AppView.build(stacks, configs)` takes each stack's parsed cdk.tf.json (`<env>-<pillar>` → document)
and each environment's `EnvConfig`; stacks of no configured environment are `orphans`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from modules.config import EnvConfig
from modules.naming import STACK_ORDER, Naming
from modules.synth_output import resources_of_type

# ---- references ---------------------------------------------------------------------------------

_REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}")


def ref(raw: Any) -> tuple[str, str, str] | None:
    """`${type.name.attr}` (exactly) → (type, name, attr); a data source's type is `data.<type>`."""
    if not isinstance(raw, str):
        return None
    match = _REF.fullmatch(raw.strip())
    if not match:
        return None
    data, rtype, name, attr = match.groups()
    return (f"data.{rtype}" if data else rtype), name, attr


def nested(conf: Any, key: str) -> list[dict]:
    """A nested block as a list of dicts (CDKTF writes single blocks as objects, repeated ones as lists)."""
    if not isinstance(conf, dict):
        return []
    raw = conf.get(key)
    if isinstance(raw, dict):
        return [raw]
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, dict)]
    return []


def one(conf: Any, key: str) -> dict | None:
    found = nested(conf, key)
    return found[0] if found else None


# ---- the app --------------------------------------------------------------------------------------

# Attributes that hold a resource's name (what `.id` resolves to for named resources).
NAME_ATTRIBUTES = ("name", "function_name", "bucket")


@dataclass
class Stack:
    name: str
    pillar: str
    doc: dict

    def resources(self, rtype: str) -> dict[str, dict]:
        return resources_of_type(self.doc, rtype)

    def data(self, dtype: str) -> dict[str, dict]:
        return resources_of_type(self.doc, dtype, "data")

    def resource_types(self) -> list[str]:
        return sorted((self.doc.get("resource") or {}).keys())

    def lookup(self, rtype: str, name: str) -> dict | None:
        if rtype.startswith("data."):
            return self.data(rtype[5:]).get(name)
        return self.resources(rtype).get(name)

    def target(self, raw: Any, rtype: str | None = None) -> tuple[str, dict] | None:
        """The resource a `${type.name.attr}` reference points at in this stack, as (name, conf)."""
        found = ref(raw)
        if found is None or (rtype and found[0] != rtype):
            return None
        conf = self.lookup(found[0], found[1])
        return (found[1], conf) if conf is not None else None

    def resolve(self, raw: Any) -> Any:
        """Replace `${type.name.id|name|function_name|bucket}` by the referenced resource's literal name.

        Used for identifiers built from other resources (`endpoint/${aws_sagemaker_endpoint.x.name}/…`).
        A reference that cannot be replaced stays in the text, so callers see it did not resolve.
        """
        if not isinstance(raw, str):
            return raw

        def replace(match: re.Match) -> str:
            data, rtype, name, attr = match.groups()
            conf = self.lookup(f"data.{rtype}" if data else rtype, name)
            keys = NAME_ATTRIBUTES if attr == "id" else ((attr,) if attr in NAME_ATTRIBUTES else ())
            for key in keys:
                literal = (conf or {}).get(key)
                if isinstance(literal, str) and "${" not in literal:
                    return literal
            return match.group(0)

        return _REF.sub(replace, raw)


@dataclass
class Env:
    config: EnvConfig
    stacks: dict[str, Stack] = field(default_factory=dict)  # pillar → stack

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def tier(self) -> str:
        return self.config.tier

    @property
    def prod(self) -> bool:
        return self.config.tier == "prod"

    @property
    def naming(self) -> Naming:
        return Naming.of(self.config)

    def stack(self, pillar: str) -> Stack | None:
        return self.stacks.get(pillar)

    def home_stack(self, pillar: str) -> str:
        """Name of the stack where a finding about something missing from `pillar` belongs."""
        if pillar in self.stacks:
            return self.stacks[pillar].name
        return next(iter(self.stacks.values())).name

    def resources(self, rtype: str) -> Iterator[tuple[Stack, str, dict]]:
        """Every resource of a type in any of the environment's stacks, in apply order."""
        for pillar in STACK_ORDER:
            stack = self.stacks.get(pillar)
            if stack is not None:
                for name, conf in sorted(stack.resources(rtype).items()):
                    yield stack, name, conf


@dataclass
class AppView:
    envs: list[Env]
    orphans: list[str]  # stacks that belong to no configured environment
    # What checks derive from the whole app once and share (the effective-access analysis).
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, stacks: dict[str, dict], configs: dict[str, EnvConfig]) -> "AppView":
        envs: dict[str, Env] = {}
        claimed: set[str] = set()
        for env_name, config in sorted(configs.items()):
            naming = Naming.of(config)
            env = Env(config)
            for pillar in STACK_ORDER:
                stack_name = naming.stack(pillar)
                if stack_name in stacks:
                    env.stacks[pillar] = Stack(stack_name, pillar, stacks[stack_name])
                    claimed.add(stack_name)
            if env.stacks:
                envs[env_name] = env
        orphans = sorted(set(stacks) - claimed)
        return cls(list(envs.values()), orphans)
