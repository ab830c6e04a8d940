"""JSON read the way Terraform would read it: an object that holds one key twice is refused.

Terraform merges repeated keys of a `.tf.json` (two `"resource"` keys declare the resources of both);
Python's parser keeps the last one only. A gate that reads one and judges the other could pass an
open security group it never saw, so every JSON the gate judges (synth output, `gate --path` files,
plan JSON, and the scanner's own reader) goes through `unique_object`, and the error names the key and
the line of its second appearance. The hook costs one `dict()` per object; the line is looked up only
when there is a duplicate.
"""
from __future__ import annotations

import json
import re
from typing import Any

# A JSON string, or one of the structural characters that decide whether the next string is a key.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]')


class DuplicateKeyError(Exception):
    """An object with the same key twice. Not a ValueError: callers that fall back to another reader on
    malformed JSON must never fall back on this (the other reader would keep one of the values)."""

    def __init__(self, key: str, line: int | None = None) -> None:
        self.key, self.line = key, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" at line {self.line}" if self.line else ""
        return (f"duplicate key '{self.key}'{where}: Terraform would read every copy, a JSON parser keeps one; "
                "refused (merge them into one key)")


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """`object_pairs_hook` that refuses an object holding a key twice."""
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKeyError(key)
            seen.add(key)
    return mapping


def loads(text: str, **options: Any) -> Any:
    """`json.loads` with duplicate keys refused (`DuplicateKeyError` with the line); `options` go to json.loads."""
    try:
        return json.loads(text, object_pairs_hook=unique_object, **options)
    except DuplicateKeyError as exc:
        raise locate_duplicate(text) or exc from None


def locate_duplicate(text: str) -> DuplicateKeyError | None:
    """The first key that repeats within one object, in document order, with its line (None when none does)."""
    objects: list[set[str] | None] = []  # per open bracket: the keys seen so far (None for an array)
    expect_key = False
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token == "{":
            objects.append(set())
            expect_key = True
        elif token == "[":
            objects.append(None)
            expect_key = False
        elif token in "]}":
            if objects:
                objects.pop()
            expect_key = False
        elif token == ",":
            expect_key = bool(objects) and objects[-1] is not None
        elif token == ":":
            expect_key = False
        elif expect_key:
            keys = objects[-1]
            try:
                key = json.loads(token)
            except ValueError:
                return None
            if keys is not None and key in keys:
                return DuplicateKeyError(key, text.count("\n", 0, match.start()) + 1)
            if keys is not None:
                keys.add(key)
            expect_key = False
    return None
