"""What every preflight check reads: the environment's config, its synthesized stacks, the AWS clients,
and what the environment's Terraform state already manages (so a singleton this environment created
itself is not mistaken for one that stands in the way)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from modules.config import EnvConfig
from modules.naming import Naming
from modules.synth_output import resources_of_type
from policies.preflight.aws import Aws, describe
from policies.preflight.model import Check


@dataclass
class Context:
    config: EnvConfig
    aws: Aws
    stacks: dict[str, dict]  # this environment's synthesized stacks, by name
    _managed: set[str] | None = field(default=None, repr=False)

    @property
    def naming(self) -> Naming:
        return Naming.of(self.config)

    @property
    def account_id(self) -> str:
        return self.config.account_id

    def regions(self, dr: bool) -> list[str]:
        """The primary region, and the DR region when the environment uses it for this kind of resource."""
        return [self.config.region] + ([self.config.dr_region] if dr else [])

    def stack_resources(self, rtype: str) -> Iterator[tuple[str, str, dict]]:
        """(stack, logical name, config) of every `rtype` resource the environment's stacks declare."""
        for stack, doc in sorted(self.stacks.items()):
            for name, conf in resources_of_type(doc, rtype).items():
                yield stack, name, conf

    def backend(self, stack: str) -> dict | None:
        """The S3 backend block a stack sends Terraform (None for a local backend)."""
        doc = self.stacks.get(stack) or {}
        return ((doc.get("terraform") or {}).get("backend") or {}).get("s3")

    def managed_types(self) -> set[str]:
        """Resource types with instances in the environment's Terraform state (read from the state bucket;
        empty before the first apply, with a local backend, or when the state cannot be read)."""
        if self._managed is None:
            self._managed = set()
            for stack in sorted(self.stacks):
                self._managed |= self._state_types(stack)
        return self._managed

    def _state_types(self, stack: str) -> set[str]:
        backend = self.backend(stack)
        if not backend:
            return set()
        try:
            body = self.aws.client("s3", backend.get("region")).get_object(
                Bucket=backend["bucket"], Key=backend["key"])["Body"].read()
            state = json.loads(body)
        except (ClientError, BotoCoreError, ValueError, KeyError):
            return set()
        return {str(r.get("type")) for r in state.get("resources", [])
                if r.get("mode") == "managed" and r.get("instances")}


def attempt(check_id: str, title: str, judge: Callable[[], Check | Iterable[Check]]) -> list[Check]:
    """Run one judgement; a failed AWS call makes it an `error` check for that id (never a traceback)."""
    try:
        result = judge()
        return [result] if isinstance(result, Check) else list(result)
    except (ClientError, BotoCoreError) as exc:
        return [Check(check_id, title, "error", describe(exc))]


def adopt_key(key: str) -> str:
    return f"governance.adopt.{key}"


def found_in_state(ctx: Context, rtype: str) -> bool:
    return rtype in ctx.managed_types()


def first(items: Iterable[Any], default: Any = None) -> Any:
    return next(iter(items), default)
