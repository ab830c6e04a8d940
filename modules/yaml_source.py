"""YAML → Python values that remember where each key came from (file and line).

Errors must name the file, the key path and the line, so the loader keeps a map from key
path to (file, line) while it builds plain dicts and lists.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
if TYPE_CHECKING:  # the type checker sees SafeLoader, whose interface the C loader shares
    _BaseLoader = yaml.SafeLoader
else:
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

# Configuration files are small; anything larger is a mistake or an attack on the loader.
MAX_FILE_BYTES = 1024 * 1024
# Values one file may expand to once aliases are followed: a few aliases are fine, an alias bomb
# (each level repeating the one before) is refused long before it costs memory.
MAX_VALUES = 100_000
# How deep maps and lists may nest. Configuration needs a handful of levels; the builder (and the pure-Python
# parser) recurse once per level, so a file nested a few hundred deep would exhaust Python's stack.
MAX_DEPTH = 64
# The tags plain YAML data carries; anything else (`!python/object`, `!foo`) is refused, never constructed.
_STANDARD_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in
                           ("str", "int", "float", "bool", "null", "timestamp", "map", "seq"))


def read_config_text(path: Path, display: str) -> str:
    """The text of a regular file of at most MAX_FILE_BYTES. A FIFO or device would block or never end,
    so the file is opened without blocking and refused unless it is a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ConfigError(display, "", f"cannot read file: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(display, "", "not a regular file (a FIFO, device or socket is never read)")
        if info.st_size > MAX_FILE_BYTES:
            raise ConfigError(display, "", f"file is {info.st_size} bytes; configuration files are limited to "
                                           f"{MAX_FILE_BYTES} bytes")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(display, "", f"cannot read file: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(display, "", f"not valid UTF-8 ({exc.reason})") from None


def load_yaml(path: Path, display: str, source: SourceMap) -> Any:
    """Parse one YAML file into plain values, recording key locations into `source`."""
    text = read_config_text(path, display)
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
        if node is None:
            raise ConfigError(display, "", "file is empty")
        return _Builder(display, source).build(node, ())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(display, "", f"invalid YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:  # the depth limit below stops the builder first; this is for the parser
        raise ConfigError(display, "", f"maps and lists nest deeper than {MAX_DEPTH} levels") from None


class _Builder:
    """Composed YAML nodes → plain values. Aliases make the node graph a DAG (or, for a recursive anchor, a
    cycle): the builder refuses cycles and stops once the file expands to more than MAX_VALUES values."""

    def __init__(self, display: str, source: SourceMap) -> None:
        self.display, self.source = display, source
        self.values = 0
        self.open: set[int] = set()  # ids of the collection nodes being built (a cycle returns to one)

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        if len(path) > MAX_DEPTH:
            shown = dotted(path[:4]) + " → …"
            raise ConfigError(self.display, shown, f"maps and lists nest deeper than {MAX_DEPTH} levels", line)
        self.values += 1
        if self.values > MAX_VALUES:
            raise ConfigError(self.display, dotted(path), f"expands to more than {MAX_VALUES} values through YAML "
                                                          "aliases; write the values out or use the base file", line)
        if node.tag not in _STANDARD_TAGS:
            raise ConfigError(self.display, dotted(path), f"unsupported YAML tag '{node.tag}': only plain data "
                                                          "(strings, numbers, booleans, null, dates, maps, lists)", line)
        if not isinstance(node, yaml.ScalarNode):
            if id(node) in self.open:
                raise ConfigError(self.display, dotted(path), "recursive YAML alias: an anchor contains itself", line)
            self.open.add(id(node))
            try:
                return _build(self, node, path)
            finally:
                self.open.discard(id(node))
        self.source.locations[path] = (self.display, line)
        try:
            return _scalar_constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise ConfigError(self.display, dotted(path), f"invalid value: {problem}", line) from None


def _build(builder: _Builder, node: yaml.Node, path: KeyPath) -> Any:
    display, source = builder.display, builder.source
    source.locations[path] = (display, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(display, dotted(path), "mapping keys must be plain strings",
                                  key_node.start_mark.line + 1)
            if key_node.tag not in _STANDARD_TAGS:
                raise ConfigError(display, dotted(path), f"unsupported YAML tag '{key_node.tag}' on a key",
                                  key_node.start_mark.line + 1)
            key = key_node.value
            if key == "<<":
                raise ConfigError(display, dotted(path), "YAML merge keys are not supported; use the base file",
                                  key_node.start_mark.line + 1)
            if key in out:
                raise ConfigError(display, dotted(path + (key,)), "duplicate key", key_node.start_mark.line + 1)
            out[key] = builder.build(value_node, path + (key,))
            source.locations[path + (key,)] = (display, key_node.start_mark.line + 1)
        return out
    return [builder.build(item, path + (i,)) for i, item in enumerate(node.value)]


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
