"""Read access to a synthesized output folder, for tests that assert security properties."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


@dataclass
class Synthesized:
    out: Path
    _cache: dict[str, dict] = field(default_factory=dict)

    @property
    def manifest(self) -> dict:
        return json.loads((self.out / "manifest.json").read_text())

    @property
    def stack_names(self) -> list[str]:
        return sorted(self.manifest["stacks"])

    def path(self, stack: str) -> Path:
        return self.out / "stacks" / stack / "cdk.tf.json"

    def stack(self, name: str) -> dict:
        if name not in self._cache:
            self._cache[name] = json.loads(self.path(name).read_text())
        return self._cache[name]

    def resources(self, stack: str, rtype: str) -> dict[str, dict]:
        """All resources of one type in a stack: logical id → config."""
        return self.stack(stack).get("resource", {}).get(rtype, {})

    def data_sources(self, stack: str, dtype: str) -> dict[str, dict]:
        return self.stack(stack).get("data", {}).get(dtype, {})

    def all_resources(self, stack: str) -> Iterator[tuple[str, str, dict]]:
        for rtype, items in self.stack(stack).get("resource", {}).items():
            for name, conf in items.items():
                yield rtype, name, conf

    @staticmethod
    def ref(rtype: str, name: str, attr: str) -> str:
        """The interpolation string another resource uses to point at this one."""
        return "${" + f"{rtype}.{name}.{attr}" + "}"

    @staticmethod
    def policy(conf: dict, key: str = "policy") -> dict[str, Any]:
        return json.loads(conf[key])


ENVS = ("dev", "staging", "prod")


def record_stacks_as_synthesized(out: Path) -> None:
    """Record the stack files of `out` as they are now, as if synth had written them: for tests that
    change a synthesized output on purpose to see what the gate makes of it (the gate judges only
    stack files whose SHA-256 the synth record holds)."""
    from modules.synth_record import RECORD, stack_digests

    record = json.loads((out / RECORD).read_text())
    record["stacks"] = stack_digests(out)
    (out / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
