"""`model promote`: point a model of an environment file at an approved model package version.

Promotion changes configuration, nothing else: the change goes through the same pull request, plan,
gate and apply as any other (the platform plan refuses a version that is not Approved,
modules/platform/registered.py), so Aegis never bypasses its own gate. The file is edited as text at
the lines PyYAML reports, so its comments and layout stay; `image_digest` and `artifact_sha256` of the
model go (the package pins both). The edited text is validated with the environment's base file before
the file is replaced (atomically): an edit that would not load is refused and nothing is written.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from modules.atomic import atomic_file
from modules.config import BASE_FILE, env_files, load_env
from modules.errors import ConfigError

PACKAGE_KEY = "model_package_version"
PINNED_BY_PACKAGE = ("image_digest", "artifact_sha256")


class PromoteError(Exception):
    """One line naming the file (and key and line where there is one); nothing was written."""


@dataclass(frozen=True)
class Promotion:
    env: str
    model: str
    package_version: int
    version: str | None = None  # the model's semantic `version`, when it changes too


def _mapping_get(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    return next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _model_node(root: yaml.Node, display: str, model: str) -> yaml.MappingNode:
    platform = _mapping_get(root, "platform") if isinstance(root, yaml.MappingNode) else None
    models = _mapping_get(platform[1], "models") if platform and isinstance(platform[1], yaml.MappingNode) else None
    if not models or not isinstance(models[1], yaml.SequenceNode):
        raise PromoteError(f"{display}: no platform.models list in this file (a model defined in {BASE_FILE} is "
                           "promoted by giving the environment its own models list)")
    for item in models[1].value:
        name = _mapping_get(item, "name") if isinstance(item, yaml.MappingNode) else None
        if name and name[1].value == model:
            if item.flow_style:
                raise PromoteError(f"{display}:{item.start_mark.line + 1}: platform.models entry {model} is written in "
                                   "flow style ({...}): write it as a block mapping to promote it")
            return item
    raise PromoteError(f"{display}: platform.models has no model named {model}")


def edited_text(text: str, display: str, promotion: Promotion) -> str:
    """`text` with the model's package version (and version) set and the pinned keys removed."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise PromoteError(f"{display}: not valid YAML ({exc})") from None
    if root is None:
        raise PromoteError(f"{display}: the file is empty")
    node = _model_node(root, display, promotion.model)
    lines = text.splitlines(keepends=True)
    indent = " " * node.value[0][0].start_mark.column
    replace: dict[int, str] = {}
    drop: set[int] = set()

    def set_scalar(key: str, value: str) -> bool:
        found = _mapping_get(node, key)
        if found is None:
            return False
        k, v = found
        if not isinstance(v, yaml.ScalarNode) or v.start_mark.line != k.start_mark.line:
            raise PromoteError(f"{display}:{k.start_mark.line + 1}: platform.models[{promotion.model}].{key} is not a "
                               "one-line value: edit it by hand")
        line = lines[v.start_mark.line]
        replace[v.start_mark.line] = line[:v.start_mark.column] + value + line[v.end_mark.column:]
        return True

    if promotion.version is not None and not set_scalar("version", f'"{promotion.version}"'):
        raise PromoteError(f"{display}: platform.models[{promotion.model}] has no version key")
    inserted = None
    if not set_scalar(PACKAGE_KEY, str(promotion.package_version)):
        name_key, name_value = _mapping_get(node, "name")  # type: ignore[misc]
        inserted = (name_value.end_mark.line, f"{indent}{PACKAGE_KEY}: {promotion.package_version}\n")
    for key in PINNED_BY_PACKAGE:
        found = _mapping_get(node, key)
        if found:
            k, v = found
            if v.end_mark.line != k.start_mark.line:
                raise PromoteError(f"{display}:{k.start_mark.line + 1}: platform.models[{promotion.model}].{key} is "
                                   "not a one-line value: remove it by hand")
            drop.add(k.start_mark.line)
    out = []
    for number, line in enumerate(lines):
        if number not in drop:
            out.append(replace.get(number, line))
        if inserted and number == inserted[0]:
            out.append(inserted[1])
    return "".join(out)


def promote(directory: Path, promotion: Promotion) -> Path:
    """Edit `<directory>/<env>.yaml` for `promotion`; returns the file. Raises PromoteError, leaving it as it was."""
    try:
        path = env_files(directory).get(promotion.env)
    except ConfigError as exc:
        raise PromoteError(str(exc)) from None
    if path is None:
        raise PromoteError(f"{directory.name}/: unknown environment '{promotion.env}'")
    display = f"{directory.name}/{path.name}"
    new = edited_text(path.read_text(encoding="utf-8"), display, promotion)
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / directory.name
        trial.mkdir()
        if (directory / BASE_FILE).is_file():
            shutil.copyfile(directory / BASE_FILE, trial / BASE_FILE)
        (trial / path.name).write_text(new, encoding="utf-8")
        try:
            load_env(promotion.env, trial)
        except ConfigError as exc:
            raise PromoteError(f"the promoted file would not load, nothing written: {exc}") from None
    with atomic_file(path) as handle:
        handle.write(new.encode("utf-8"))
    return path
