"""YAML → Python values that remember where each key came from (file and line).

Errors must name the file, the key path and the line, so the loader keeps a map from key
path to (file, line) while it builds plain dicts and lists.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modules.errors import ConfigError

KeyPath = tuple[str | int, ...]


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class SourceMap:
    """Where each key path was last set: file and 1-based line."""

    locations: dict[KeyPath, tuple[str, int]] = field(default_factory=dict)

    def locate(self, path: KeyPath, default_file: str) -> tuple[str, int | None]:
        # The nearest ancestor that has a location: a missing key is reported at its parent.
        for cut in range(len(path), -1, -1):
            hit = self.locations.get(tuple(path[:cut]))
            if hit:
                return hit
        return default_file, None

    def error(self, path: KeyPath, message: str, default_file: str) -> ConfigError:
        """A ConfigError naming the file and line where `path` was set (or its nearest parent)."""
        file, line = self.locate(path, default_file)
        return ConfigError(file, ".".join(str(k) for k in path), message, line)


# libyaml's parser when present (the pure-Python one is ~10× slower); same nodes and marks.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):
    """SafeLoader that keeps YAML 1.2-ish sanity: 'on'/'off'/'yes'/'no' stay strings."""


# Drop the YAML 1.1 boolean words other than true/false: "no" as a country code must not become False.
_StrictLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


# Constructs scalar values from nodes (pure-Python constructor: it needs no stream).
_scalar_constructor = yaml.SafeLoader("")


def load_yaml(path: Path, display: str, source: SourceMap) -> Any:
    """Parse one YAML file into plain values, recording key locations into `source`."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(display, "", f"not valid UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(display, "", f"cannot read file: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(display, "", f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    if node is None:
        raise ConfigError(display, "", "file is empty")
    return _build(node, (), display, source)


def _build(node: yaml.Node, path: KeyPath, display: str, source: SourceMap) -> Any:
    source.locations[path] = (display, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(display, dotted(path), "mapping keys must be plain strings",
                                  key_node.start_mark.line + 1)
            key = key_node.value
            if key == "<<":
                raise ConfigError(display, dotted(path), "YAML merge keys are not supported; use the base file",
                                  key_node.start_mark.line + 1)
            if key in out:
                raise ConfigError(display, dotted(path + (key,)), "duplicate key", key_node.start_mark.line + 1)
            out[key] = _build(value_node, path + (key,), display, source)
            source.locations[path + (key,)] = (display, key_node.start_mark.line + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), display, source) for i, item in enumerate(node.value)]
    return _scalar_constructor.construct_object(node, deep=True)


def deep_merge(base: Any, override: Any) -> Any:
    """Mappings merge key by key; anything else in `override` replaces `base`."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return override


def load_entry_list(path: Path, display: str, top_key: str) -> tuple[list, SourceMap]:
    """A file that is a mapping with one key, `top_key`, holding a list of entries (policies/exceptions.yaml,
    policies/approvals.yaml): the entries, and where each key came from for the caller's errors."""
    source = SourceMap()
    raw = load_yaml(path, display, source)
    if not isinstance(raw, dict) or set(raw) != {top_key}:
        raise source.error((), f"top level must be a mapping with one key, `{top_key}` (a list)", display)
    entries = raw[top_key] or []
    if not isinstance(entries, list):
        raise source.error((top_key,), "must be a list", display)
    return entries, source
