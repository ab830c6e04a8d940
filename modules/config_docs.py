"""docs/CONFIG.md, the configuration reference, generated from the config models (`python main.py validate
--write-docs`); a test keeps the committed file equal to `render_config_docs()`.

Everything comes from code: keys, types, defaults and bounds from the pydantic models (modules/config.py
and modules/<pillar>/settings.py), what a key means from the comments beside it, and the rules from the
source of the models' `problems()` methods and validators: each `yield "<key>", "<message>"` (or `raise
ValueError(...)` in a validator) with the `if` conditions around it, evaluated for each tier where they
test only the tier.
"""
from __future__ import annotations

import ast
import functools
import inspect
import io
import sys
import tokenize
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Iterator, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from modules.config import CONFIG_DOC, EnvConfig, Tier
from modules.schema_base import Strict

TIERS: tuple[str, ...] = typing.get_args(Tier)
DOC_PATH = CONFIG_DOC
# Names a rule's condition may use to test the tier, and nothing else (see `_tiers_of`).
_TIER_NAMES = {"tier", "prod"}


@dataclass
class Rule:
    key: str  # full dotted key path (`<name>` for a map key, `[]` for a list item)
    message: str
    tiers: tuple[str, ...]  # the tiers where the rule can fire
    when: str  # the other conditions, as code


@dataclass
class Section:
    path: str
    model: type[BaseModel]
    doc: str = ""
    also: list[str] = field(default_factory=list)  # other paths of the same model (its rules name `path`)
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # key, type, default, allowed, notes


# ---------------------------------------------------------------- walking the models

def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(the bare type, the metadata of every Annotated layer around it)."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        annotation, metadata = args[0], metadata + list(args[1:])
    return annotation, metadata


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return list(typing.get_args(annotation))
    return [annotation]


def _models_in(annotation: Any, suffix: str = "") -> Iterator[tuple[str, type[BaseModel]]]:
    """The models a field's type holds, each with the key suffix that reaches it (`[]`, `.<name>`)."""
    bare, _ = _unwrap(annotation)
    for member in _members(bare):
        member, _ = _unwrap(member)
        origin = typing.get_origin(member)
        if inspect.isclass(member) and issubclass(member, BaseModel):
            yield suffix, member
        elif origin is list:
            yield from _models_in(typing.get_args(member)[0], suffix + "[]")
        elif origin is dict:
            yield from _models_in(typing.get_args(member)[1], suffix + ".<name>")


def _key(name: str, info: FieldInfo) -> str:
    return info.alias or name


def sections() -> list[Section]:
    """Every model reachable from EnvConfig, depth first in field order, once each (the first path that
    reaches it names it)."""
    found: list[Section] = []
    seen: dict[type, Section] = {}

    def visit(path: str, model: type[BaseModel]) -> None:
        if model in seen:
            seen[model].also.append(path)
            return
        section = Section(path, model, inspect.cleandoc(model.__doc__ or "") if model.__doc__ and
                          model.__doc__ != Strict.__doc__ else "")
        seen[model] = section
        found.append(section)
        comments = _field_comments(model)
        nested = []
        for name, info in model.model_fields.items():
            key = _key(name, info)
            section.rows.append((key, _type_text(info.annotation), _default_text(info),
                                 _allowed_text(info), comments.get(name, "")))
            for suffix, inner in _models_in(info.annotation):
                nested.append((f"{path}.{key}{suffix}" if path else f"{key}{suffix}", inner))
        for inner_path, inner in nested:
            visit(inner_path, inner)

    visit("", EnvConfig)
    return found


# ---------------------------------------------------------------- types, defaults, bounds

def _type_text(annotation: Any) -> str:
    bare, _ = _unwrap(annotation)
    parts = []
    for member in _members(bare):
        member, _ = _unwrap(member)
        origin = typing.get_origin(member)
        if member is type(None):
            parts.append("null")
        elif origin is Literal:
            kinds = {type(v).__name__ for v in typing.get_args(member)}
            parts.append({"str": "string", "int": "integer", "bool": "boolean"}.get(kinds.pop(), "value")
                         if len(kinds) == 1 else "value")
        elif origin is list:
            parts.append(f"list of {_type_text(typing.get_args(member)[0])}")
        elif origin is dict:
            parts.append(f"map of {_type_text(typing.get_args(member)[1])}")
        elif inspect.isclass(member) and issubclass(member, BaseModel):
            parts.append("mapping")
        elif inspect.isclass(member):
            parts.append({"str": "string", "int": "integer", "bool": "boolean", "float": "number"}.get(
                member.__name__, member.__name__))
        else:
            parts.append(str(member))
    return " or ".join(dict.fromkeys(parts))


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, BaseModel):
        return "(the defaults below)"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{}" if not value else "{…}"
    return str(value)


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        return f"`{_value(info.default_factory())}`"  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return "**required**"
    return f"`{_value(info.default)}`"


def _constraints(metadata: list[Any], unit: str = "characters") -> list[str]:
    out = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            out += _constraints(list(item.metadata), unit)
            continue
        for attr, label in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if isinstance(item, {"ge": Ge, "gt": Gt, "le": Le, "lt": Lt}[attr]):
                out.append(f"{label} {getattr(item, attr)}")
        if isinstance(item, MinLen):
            out.append(f"at least {item.min_length} {unit.rstrip('s') if item.min_length == 1 else unit}")
        if isinstance(item, MaxLen):
            out.append(f"at most {item.max_length} {unit.rstrip('s') if item.max_length == 1 else unit}")
        pattern = getattr(item, "pattern", None)
        if isinstance(pattern, str):
            out.append(f"matches `{pattern}`")
        func = getattr(item, "func", None)
        if callable(func) and type(item).__name__ == "AfterValidator":
            out.append(_validator_words(func))
    return out


def _validator_words(func: Any) -> str:
    doc = inspect.getdoc(func)
    if doc:
        first = doc.splitlines()[0].rstrip(".")
        return first[:1].lower() + first[1:]
    return "checked: " + func.__name__.strip("_").replace("_", " ")


def _allowed_text(info: FieldInfo) -> str:
    bare, outer = _unwrap(info.annotation)
    parts: list[str] = []
    literals: list[Any] = []
    for member in _members(bare):
        member, inner = _unwrap(member)
        if typing.get_origin(member) is Literal:
            literals += typing.get_args(member)
        elif typing.get_origin(member) is dict:
            keys, _ = _unwrap(typing.get_args(member)[0])
            if typing.get_origin(keys) is Literal:
                parts.append("keys: " + ", ".join(f"`{_value(v)}`" for v in typing.get_args(keys)))
        elif typing.get_origin(member) is list:
            item, item_meta = _unwrap(typing.get_args(member)[0])
            if typing.get_origin(item) is Literal:
                parts.append("each one of " + ", ".join(f"`{_value(v)}`" for v in typing.get_args(item)))
            parts += [f"each {c}" for c in _constraints(item_meta)]
        parts += _constraints(inner)
    if literals:
        parts.insert(0, "one of " + ", ".join(f"`{_value(v)}`" for v in literals))
    unit = "items" if any(typing.get_origin(_unwrap(m)[0]) in (list, dict) for m in _members(bare)) else "characters"
    parts += _constraints(outer + list(info.metadata), unit)
    return "; ".join(dict.fromkeys(parts))


# ---------------------------------------------------------------- comments beside the fields

@functools.lru_cache(maxsize=None)
def _module_source(name: str) -> tuple[ast.Module, dict[int, str], frozenset[int]]:
    """A module's syntax tree and its comments by line (and which lines hold only a comment), read once."""
    source = inspect.getsource(sys.modules[name])
    comments: dict[int, str] = {}
    own_line = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("#").strip()
            if not token.line[: token.start[1]].strip():
                own_line.add(token.start[0])
    return ast.parse(source), comments, frozenset(own_line)


def _class_node(model: type) -> ast.ClassDef:
    tree, _, _ = _module_source(model.__module__)
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == model.__name__)


def _field_comments(model: type[BaseModel]) -> dict[str, str]:
    """Field name → the comment lines right above it and the comment at the end of its lines."""
    _, comments, own_line = _module_source(model.__module__)
    out = {}
    for node in _class_node(model).body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        above: list[str] = []
        line = node.lineno - 1
        while line in own_line:
            above.insert(0, comments[line])
            line -= 1
        trailing = [comments[n] for n in range(node.lineno, (node.end_lineno or node.lineno) + 1)
                    if n in comments and n not in own_line]
        out[node.target.id] = " ".join(above + trailing)
    return out


# ---------------------------------------------------------------- rules from problems() and validators

def _constants(model: type) -> dict[str, Any]:
    module = inspect.getmodule(model)
    return {k: v for k, v in vars(module).items() if isinstance(v, (int, float, str)) and k.isupper()}


def _render_text(node: ast.expr, constants: dict[str, Any]) -> str | None:
    """A string literal or f-string as text: module constants filled in, other values as `<expr>`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        out = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                out += str(part.value)
            elif isinstance(part, ast.FormattedValue):
                inner = part.value
                if isinstance(inner, ast.Name) and inner.id in constants:
                    out += str(constants[inner.id])
                else:
                    out += "<" + ast.unparse(inner).removeprefix("self.").removeprefix("env.") + ">"
        return out
    return None


def _conjuncts(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for value in node.values for c in _conjuncts(value)]
    return [node]


def _names(node: ast.expr) -> set[str]:
    """The variables and attributes a condition reads (`env.tier` → `tier`)."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.Name):
            found.add(sub.id)
    return found


def _tiers_of(node: ast.expr) -> tuple[str, ...] | None:
    """The tiers where a condition that tests only the tier holds; None when it tests anything else."""
    names = _names(node) - {"env", "self"}
    if not names or not names <= _TIER_NAMES:
        return None
    held = [tier for tier in TIERS if _holds(node, tier)]
    return None if any(_holds(node, tier) is None for tier in TIERS) else tuple(held)


def _holds(node: ast.expr, tier: str) -> Any:
    """The value of a tier-only condition in `tier` (comparisons, not/and/or of them); None if it is
    not such a condition."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and node.attr == "tier" or isinstance(node, ast.Name) and node.id == "tier":
        return tier
    if isinstance(node, ast.Name) and node.id == "prod":  # `prod = env.tier == "prod"` in the methods
        return tier == "prod"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _holds(node.operand, tier)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        values = [_holds(v, tier) for v in node.values]
        if any(v is None for v in values):
            return None
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _holds(node.left, tier), _holds(node.comparators[0], tier)
        if isinstance(node.comparators[0], (ast.Tuple, ast.List, ast.Set)):
            right = [_holds(e, tier) for e in node.comparators[0].elts]
        op = node.ops[0]
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, ast.In):
            return left in right
        if isinstance(op, ast.NotIn):
            return left not in right
    return None


def _rule(key: str, message: str, conditions: list[ast.expr]) -> Rule:
    tiers, others = set(TIERS), []
    for condition in conditions:
        for part in _conjuncts(condition):
            held = _tiers_of(part)
            if held is None:
                text = ast.unparse(part).replace("self.", "")
                others.append(f"({text})" if isinstance(part, ast.BoolOp) else text)
            else:
                tiers &= set(held)
    return Rule(key, message, tuple(t for t in TIERS if t in tiers), " and ".join(others))


def _ends(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], (ast.Return, ast.Continue, ast.Raise))


def _walk(body: list[ast.stmt], conditions: list[ast.expr], emit, constants: dict[str, Any]) -> None:
    conditions = list(conditions)
    for stmt in body:
        if isinstance(stmt, ast.If):
            _walk(stmt.body, conditions + [stmt.test], emit, constants)
            negated = ast.UnaryOp(op=ast.Not(), operand=stmt.test)
            _walk(stmt.orelse, conditions + [negated], emit, constants)
            if _ends(stmt.body) and not stmt.orelse:
                conditions.append(negated)  # an early return: what follows holds only without the test
        elif isinstance(stmt, (ast.For, ast.With, ast.Try)):
            _walk(stmt.body, conditions, emit, constants)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Yield) and \
                isinstance(stmt.value.value, ast.Tuple) and len(stmt.value.value.elts) == 2:
            key_node, message_node = stmt.value.value.elts
            key, message = _render_text(key_node, constants), _render_text(message_node, constants)
            if key is not None and message is not None:  # else a nested section's rules, passed on
                emit(key, message, conditions)
        elif isinstance(stmt, ast.Raise) and isinstance(stmt.exc, ast.Call) and \
                isinstance(stmt.exc.func, ast.Name) and stmt.exc.func.id == "ValueError" and stmt.exc.args:
            message = _render_text(stmt.exc.args[0], constants)
            if message is not None:
                emit(None, message, conditions)


def _validated_fields(func: ast.FunctionDef) -> list[str] | None:
    """The fields a `@field_validator(...)` names; [] for a `@model_validator`; None for other methods."""
    for decorator in func.decorator_list:
        if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name):
            if decorator.func.id == "field_validator":
                return [a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if decorator.func.id == "model_validator":
                return []
    return None


def rules_of(model: type[BaseModel], path: str) -> list[Rule]:
    """The rules of `model` (and the models it inherits from), keys prefixed with `path`."""
    out: list[Rule] = []
    prefix = f"{path}." if path else ""
    for cls in model.__mro__:
        if not (inspect.isclass(cls) and issubclass(cls, Strict)) or cls is Strict:
            continue
        constants = _constants(cls)
        for func in _class_node(cls).body:
            if not isinstance(func, ast.FunctionDef):
                continue
            validated = _validated_fields(func)
            if func.name.endswith("problems"):
                _walk(func.body, [], lambda key, message, conditions:
                      out.append(_rule(prefix + key if key else path, message, conditions)), constants)
            elif validated is not None:
                keys = [prefix + f for f in validated] or [path or "(top level)"]
                _walk(func.body, [], lambda _key, message, conditions, keys=keys:
                      out.extend(_rule(k, message, conditions) for k in keys), constants)
    return out


# ---------------------------------------------------------------- the document

def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tiers_text(rule: Rule) -> str:
    if rule.tiers == TIERS:
        return "as *when* says" if "tier" in rule.when else "every tier"
    return ", ".join(rule.tiers) or "never"


def render_config_docs() -> str:
    found = sections()
    rules = [r for s in found for r in rules_of(s.model, s.path)]
    by_tier = [r for r in rules if r.tiers != TIERS or "tier" in r.when]
    lines = [
        "# Aegis configuration reference",
        "",
        "<!-- Generated from the configuration models (modules/config.py, modules/<pillar>/settings.py) by "
        "`python main.py validate --write-docs`; do not edit. -->",
        "",
        "An environment is `environments/<name>.yaml`, deep-merged over `environments/base.yaml`. Unknown keys "
        "are errors; values are not coerced (`\"30\"` is not `30`). `python main.py validate` lists every "
        "problem with file, key and line. Keys below are dotted paths: `[]` is an item of a list, `<name>` a "
        "key of a map.",
        "",
        f"{sum(len(s.rows) for s in found)} keys in {len(found)} sections; {len(rules)} rules, of which "
        f"{len(by_tier)} depend on the tier.",
        "",
        "## Rules that depend on the tier",
        "",
        "Checked when the file loads (`problems()` of each model). *When* is the rule's other condition, as "
        "the code states it; the rule fires when it holds.",
        "",
        "| key | tiers | rule | when |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{r.key}` | {_tiers_text(r)} | {_cell(r.message)} | "
              f"{'`' + _cell(r.when) + '`' if r.when else '—'} |" for r in by_tier]
    lines += ["", "## Keys", ""]
    for section in found:
        title = f"`{section.path}`" if section.path else "Top level"
        tag = section.model.model_fields.get("type")
        if tag is not None and typing.get_origin(tag.annotation) is Literal:
            title += f" with `type: {typing.get_args(tag.annotation)[0]}`"
        lines += [f"### {title}", ""]
        if section.doc:
            lines += [" ".join(section.doc.split()), ""]
        if section.also:
            lines += ["The same keys, defaults and rules also apply at " + ", ".join(f"`{p}`" for p in section.also)
                      + ".", ""]
        lines += ["| key | type | default | allowed values | meaning |", "|---|---|---|---|---|"]
        for key, kind, default, allowed, notes in section.rows:
            full = f"{section.path}.{key}" if section.path else key
            lines.append(f"| `{full}` | {_cell(kind)} | {_cell(default)} | {_cell(allowed) or '—'} | "
                         f"{_cell(notes) or '—'} |")
        own = [r for r in rules_of(section.model, section.path) if r not in by_tier]
        if own:
            lines += ["", "Rules in every tier:", ""]
            lines += [f"- `{r.key}`: {_cell(r.message)}" + (f" (when `{_cell(r.when)}`)" if r.when else "")
                      for r in own]
        lines.append("")
    return "\n".join(lines)
