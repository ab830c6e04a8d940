"""Reading synthesized stacks as CDKTF writes them: stack names, resources, nested blocks, references.

Every walk is in a stable (sorted) order, so what is built from it is the same for the same input.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator, Mapping

from modules.synth_output import METADATA, resources_of_type, typed_resources

Doc = Mapping[str, Any]


def resources(doc: Doc, block: str = "resource") -> Iterator[tuple[str, str, dict]]:
    """(type, logical id, config) in a stable order."""
    for rtype, items in sorted(typed_resources(doc, block)):
        for name, conf in sorted(items.items()):
            if isinstance(conf, dict):
                yield rtype, name, conf


def of_type(doc: Doc, rtype: str) -> list[tuple[str, dict]]:
    return sorted(resources_of_type(doc, rtype).items())


def blocks(value: Any) -> list[dict]:
    """A nested block as CDKTF writes it: an object, or a list of objects."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def first(value: Any) -> dict:
    found = blocks(value)
    return found[0] if found else {}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            if k != METADATA:
                yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def refs(value: Any, rtype: str) -> set[str]:
    """Logical ids of `rtype` resources this value interpolates (`${rtype.<id>.attr}`)."""
    pattern = re.compile(r"\$\{" + re.escape(rtype) + r"\.([A-Za-z0-9_-]+)\.")
    return {m for s in strings(value) for m in pattern.findall(s)}


def policy_statements(text: Any) -> list[dict]:
    try:
        doc = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return []
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in ([statements] if isinstance(statements, dict) else statements) if isinstance(s, dict)]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []
