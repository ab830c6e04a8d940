"""The versioned reference of each compliance framework (`policies/frameworks/<key>.yaml`).

One file per framework key of the catalog: the framework's name and version, where its text is
published, and every control ID Aegis may cite with its title (the regulation's own heading where
the text is public, a summary in our words where it is licensed). The catalogs, the plan catalog and
the Config rule lists may cite only IDs listed here, and the reports show the titles next to the IDs.
Every problem is a `ConfigError` naming the file, the key path and the line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from modules.errors import ConfigError
from modules.yaml_source import SourceMap, load_yaml

REFERENCE_DIR = Path(__file__).resolve().parent / "frameworks"
_FIELDS = ("framework", "title", "version", "source", "controls")


@dataclass(frozen=True)
class Reference:
    key: str
    title: str
    version: str
    source: str
    controls: dict[str, str]  # control ID → title, in the file's order
    display: str

    @property
    def label(self) -> str:
        """The framework as reports name it: title and version."""
        return f"{self.title} {self.version}"

    def title_of(self, control: str) -> str:
        return self.controls.get(control, "")


def reference_path(key: str) -> Path:
    return REFERENCE_DIR / f"{key}.yaml"


@lru_cache(maxsize=None)
def load_reference(key: str, id_pattern: re.Pattern[str] | None = None, path: Path | None = None) -> Reference:
    """The reference of framework `key`; each control ID must match `id_pattern` when given."""
    path = path or reference_path(key)
    display = f"policies/frameworks/{path.name}" if path.parent == REFERENCE_DIR else path.name
    source = SourceMap()
    if not path.is_file():
        raise ConfigError(display, "", f"no reference for framework '{key}'")
    raw: Any = load_yaml(path, display, source)

    def fail(key_path: tuple, message: str) -> ConfigError:
        return source.error(key_path, message, display)

    if not isinstance(raw, dict):
        raise fail((), f"top level must be a mapping with {', '.join(_FIELDS)}")
    for name in raw:
        if name not in _FIELDS:
            raise fail((name,), f"unknown key (allowed: {', '.join(_FIELDS)})")
    for name in _FIELDS:
        if name not in raw:
            raise fail((), f"required key '{name}' is missing")
    if raw["framework"] != key:
        raise fail(("framework",), f"must be '{key}' (the file's name)")
    for name in ("title", "version", "source"):
        if not isinstance(raw[name], str) or not raw[name].strip():
            raise fail((name,), "must be text")
    controls = raw["controls"]
    if not isinstance(controls, dict) or not controls:
        raise fail(("controls",), "must map each control ID to its title")
    for control, title in controls.items():
        if id_pattern is not None and not id_pattern.match(control):
            raise fail(("controls", control), f"'{control}' is not a {raw['title']} control ID")
        if not isinstance(title, str) or len(title.strip()) < 3:
            raise fail(("controls", control), "the title must be text")
    return Reference(key=key, title=raw["title"].strip(), version=raw["version"].strip(),
                     source=raw["source"].strip(), controls={c: t.strip() for c, t in controls.items()},
                     display=display)
