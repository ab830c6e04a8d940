"""What Aegis changes in checkov 3.3.30's behaviour, each change pinned by a test.

- its terraform_json parser raises on a scalar in the `terraform` block (`required_version`, which
  every Aegis stack sets) and then reports 0 checks with exit 0. The scalar is kept the way the HCL
  parser represents it (`{"required_version": [">= 1.10"]}`), so the file is scanned whole; it raises
  the same way on Terraform `import` blocks (a list: adopted account singletons), which configure nothing
  a check judges (the resource they import is scanned as usual), so they are left out of the scan;
- Python-check records of terraform_json carry `resource.<name>` (the type is lost); each record is
  given its real address `<type>.<name>` again (`with_real_addresses`);
- its JSON reading goes through Python's JSON parser (or libyaml) instead of pure-Python YAML, with
  the same line marks (same result, a fraction of the time), and a JSON object with a key twice is
  refused on every path, where checkov would keep one copy and Terraform reads both (the file then
  counts as not parsed: the gate fails);
- it reuses one expression interpreter instead of building one per expression (same result);
- CDKTF's `//` metadata stays out of its graph, and its search for count/for_each instances (quadratic
  in a stack's resources) is skipped when a stack has none (same result);
- its graph build does less per resource, each time with the same result: no second edge pass when
  count/for_each handling expanded nothing, the referenced block's flattened attributes and the
  references found in a text kept while they cannot change, and a plain text (no `=`, no `(`)
  evaluated once while the interpreter's symbol table cannot have changed, and no best match sought
  among no candidates, nor nested attributes under a value that cannot have them;
- its value checks look a key up by walking the whole resource configuration (every path of a policy
  document, twice per check); a key without wildcards is followed down its path instead, and `**/<name>`
  collected in one plain walk, with the same matches in the same order (`_plain_dpath_lookups`);
- its graph build flattens nested attributes into one dict instead of one per level, and asteval's parse
  leaves out a walk that finds every location already set (same attributes, same trees);
- its graph checks run their per-vertex jobs in the calling thread instead of thread pools, visit only
  the vertices of their resource types, and copy a result's vertex one level deep for the reader that
  takes four values of it (same results; checkov's order was its threads');
`install` applies the parser and graph changes once per process (`registry.import_checkov` calls it).
"""
from __future__ import annotations

import ast
import bisect
import json
import re
import sys
import threading
from contextlib import suppress
from typing import Any, Callable

import yaml

from modules.strict_json import DuplicateKeyError, locate_duplicate, unique_object
from modules.strict_json import loads as strict_loads
from modules.synth_output import METADATA

_installed = False


def install(parser: Any) -> None:
    """Patch checkov's terraform_json `parser` module and its graph builder (once per process)."""
    global _installed
    if _installed:
        return
    parser.loader = _FastJsonLoader
    original = parser.handle_block_type

    def handle_block_type(block_type: str, blocks: Any) -> list[dict[str, Any]]:
        if block_type == "import" and isinstance(blocks, list):
            return []
        if block_type == "terraform" and isinstance(blocks, dict):
            scalars = {k: v for k, v in blocks.items()
                       if k not in parser.IGNORE_FILED_NAMES and not isinstance(v, (dict, list))}
            if scalars:
                rest = {k: v for k, v in blocks.items() if k not in scalars}
                return original(block_type, rest) + [{k: [v]} for k, v in scalars.items()]
        if block_type in ("resource", "data") and isinstance(blocks, dict):
            blocks = {rtype: _without_metadata(named) for rtype, named in blocks.items()}
        return original(block_type, blocks)

    parser.handle_block_type = handle_block_type
    _reuse_asteval()
    _skip_empty_index_search()
    _skip_unchanged_foreach_rebuild()
    _reuse_destination_attributes()
    _reuse_reference_parsing()
    _reuse_plain_evaluations()
    _no_best_match_among_none()
    _nested_only_for_lists()
    _plain_dpath_lookups()
    _graph_check_jobs_inline()
    _vertices_by_resource_type()
    _parse_without_location_walk()
    _flatten_in_one_dict()
    _result_entities_copied_one_level()
    _installed = True


class _FastJsonLoader:
    """checkov's terraform_json parser reads JSON with the pure-Python YAML loader (for line numbers),
    which is most of its time. The same documents, line marks included, come from Python's JSON parser
    where YAML would read the text the same way (`_json_with_lines`), else from libyaml's parser with
    checkov's loader class; anything that rejects falls back to checkov's own path. Tests keep all
    three outputs identical."""

    _loader_class = None

    @classmethod
    def loads(cls, content: str):
        from checkov.common.parsers.yaml import loader

        doc = _json_with_lines(content)
        if doc is not None:
            return [doc]
        _refuse_duplicate_keys(content)  # YAML, like Python's JSON parser, would keep one copy silently
        if cls._loader_class is None:
            cls._loader_class = _c_line_loader(loader.SafeLineLoader)
        if cls._loader_class is not None:
            try:
                return list(yaml.load_all(content, Loader=cls._loader_class))
            except Exception:
                pass
        return loader.loads(content)


# A JSON string, a brace outside strings, or (group 1) what YAML 1.1 reads differently from JSON
# outside strings: numbers with an exponent (strings to YAML unless written with a dot and a signed
# exponent) and NaN/Infinity. Inside strings, escaped surrogate pairs differ too (JSON joins them
# into one character), and so does the merge key "<<". A string is spelled as runs of plain characters
# between escapes (`"[^"\\]*(?:\\.[^"\\]*)*"`): the same strings as one alternation per character
# (`"(?:[^"\\]|\\.)*"`), matched in half the time on a stack's JSON.
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}]|([0-9][eE]|NaN|Infinity)')
_SURROGATE_ESCAPE = re.compile(r'\\u[dD][89a-fA-F]')


def _json_with_lines(content: str) -> dict | None:
    """The JSON object in `content` with `__startline__`/`__endline__` on every object, as checkov's
    SafeLineLoader marks its mappings (the lines of its `{` and `}`); None when YAML could read the
    text differently, or it is not a JSON object: the caller then takes the YAML path."""
    if '"<<"' in content or _SURROGATE_ESCAPE.search(content):
        return None
    line_starts = [0] + [m.end() for m in re.finditer("\n", content)]
    opened: list[int] = []
    spans: list[tuple[int, int]] = []  # (start line, end line) of each object, in the order it closes
    for match in _JSON_TOKEN.finditer(content):
        if match.group(1):
            return None
        token = match.group()
        if token == "{":
            opened.append(match.start())
        elif token == "}" and opened:
            spans.append((bisect.bisect_right(line_starts, opened.pop()), bisect.bisect_right(line_starts, match.start())))
    closing = iter(spans)  # json.loads builds each object when it closes: the same order

    def mark(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping = unique_object(pairs)
        mapping["__startline__"], mapping["__endline__"] = next(closing)
        return mapping

    try:
        doc = json.loads(content, object_pairs_hook=mark)
    except DuplicateKeyError as exc:
        raise locate_duplicate(content) or exc from None
    except (ValueError, StopIteration):
        return None
    return doc if isinstance(doc, dict) and next(closing, None) is None else None


def _refuse_duplicate_keys(content: str) -> None:
    """For text the fast path leaves to YAML: a JSON text with a key twice in one object is refused
    (checkov then counts the file as not parsed, and the gate fails). Text that is not JSON at all goes on
    to checkov's own reading, as before."""
    with suppress(ValueError):
        strict_loads(content)


def _c_line_loader(line_loader: Any) -> Any:
    try:
        from yaml._yaml import CParser  # where yaml.cyaml takes it from (the stubs export it only there)
    except ImportError:  # PyYAML built without libyaml
        return None

    class CSafeLineLoader(CParser, line_loader):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    return CSafeLineLoader


def _without_metadata(named: Any) -> Any:
    """A resource type's blocks without CDKTF's `//` metadata (construct path, unique id): no check
    reads it, and checkov would otherwise carry it through the graph as attributes of every resource.
    Line numbers are kept: they belong to the blocks, not to their keys."""
    if not isinstance(named, dict):
        return named
    return {name: ({k: v for k, v in conf.items() if k != METADATA} if isinstance(conf, dict) and METADATA in conf
                   else conf)
            for name, conf in named.items()}


def _reuse_asteval() -> None:
    """checkov builds a new asteval Interpreter for every expression it evaluates (thousands per
    scan, ~10% of the time). Its symbol table is a shared module-level dict anyway, and `eval`
    resets the per-run state (errors, start time), so one interpreter per process gives the same
    results; a test compares scans with and without it."""
    from checkov.terraform.graph_builder.variable_rendering import safe_eval_functions as sef

    original = sef.get_asteval
    local = threading.local()  # one per thread, should checkov render in threads (RENDER_VARIABLES_ASYNC)

    @_replacing(original)
    def get_asteval():
        interpreter = getattr(local, "interpreter", None)
        if interpreter is None:
            interpreter = local.interpreter = original()
        interpreter.code_text.clear()  # it keeps every expression for error messages
        return interpreter

    sef.get_asteval = get_asteval


def _skip_empty_index_search() -> None:
    """When checkov cannot find a referenced name among a block type's vertices, it tries every vertex
    name for `name[` (instances of count/for_each): a loop over all resources per missed reference,
    quadratic in the resources of a stack (a million string compares on a 30-model platform stack).
    CDKTF output has no such instances, so the loop can only come back empty when no vertex name has
    a '['; then the same empty answer is given without it. A test compares scans with and without."""
    from checkov.terraform.graph_builder.local_graph import (
        LEFT_BRACKET,
        LEFT_BRACKET_WITH_QUOTATION,
        RIGHT_BRACKET,
        RIGHT_BRACKET_WITH_QUOTATION,
        TerraformLocalGraph,
    )

    @_replacing(TerraformLocalGraph._get_possible_vertices)
    def get_possible_vertices(self, module, block_type: str, name: str) -> list[int]:
        names = self.vertices_by_module_dependency_by_name.get(module, {}).get(block_type, {})
        # Per graph: id(name map) → (the map, its size, whether any name has a '['), redone if it grew.
        seen = self.__dict__.setdefault("_aegis_bracketed_names", {})
        known = seen.get(id(names))
        if known is None or known[0] is not names or known[1] != len(names):
            known = seen[id(names)] = (names, len(names), any("[" in key for key in names))
        if known[2]:
            return get_possible_vertices.original(self, module, block_type, name)  # looked up per call: tests wrap it
        return names.get(name, []) or names.get(name.replace(LEFT_BRACKET_WITH_QUOTATION, LEFT_BRACKET)
                                                .replace(RIGHT_BRACKET_WITH_QUOTATION, RIGHT_BRACKET), [])

    TerraformLocalGraph._get_possible_vertices = get_possible_vertices


def _skip_unchanged_foreach_rebuild() -> None:
    """After its count/for_each handling checkov rebuilds every edge of the graph, a second full pass
    over all resources. When the handling expanded nothing (CDKTF writes `for_each` over data sources
    whose values are unknown until apply, so nothing can be expanded), the graph is the one the first
    pass built edges for, and the rebuild would give the same edges again. That is the case when only
    the resource handler ran (no module or data block to expand) and the vertex list still holds the
    very same blocks (every expansion puts a new copy in place of the block, or appends one), in a
    graph without modules (where a second pass would add module connections twice); otherwise checkov
    rebuilds as it always does. A test compares scans with and without."""
    from checkov.terraform.graph_builder.foreach.builder import ForeachBuilder
    from checkov.terraform.graph_builder.graph_components.block_types import BlockType
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    @_replacing(ForeachBuilder.handle)
    def handle(self, foreach_blocks: dict[str, list[int]]) -> None:
        graph = self._resource_handler.local_graph
        before = list(graph.vertices)
        handle.original(self, foreach_blocks)
        graph.__dict__["_aegis_edges_current"] = (
            not foreach_blocks.get(BlockType.MODULE)
            and not (graph.enable_datas_foreach_handling and foreach_blocks.get(BlockType.DATA))
            and not graph.vertices_by_block_type.get(BlockType.MODULE)
            and len(graph.vertices) == len(before)
            and all(now is then for now, then in zip(graph.vertices, before, strict=True)))

    # build_graph calls these two right after `handle`, only when it returned (and `handle` runs nowhere else).
    @_replacing(TerraformLocalGraph._arrange_graph_data)
    def arrange_graph_data(self) -> None:
        if not self.__dict__.get("_aegis_edges_current"):
            arrange_graph_data.original(self)

    @_replacing(TerraformLocalGraph._build_edges)
    def build_edges(self) -> None:
        if not self.__dict__.pop("_aegis_edges_current", False):
            build_edges.original(self)

    ForeachBuilder.handle = handle
    TerraformLocalGraph._arrange_graph_data = arrange_graph_data
    TerraformLocalGraph._build_edges = build_edges


def _reuse_destination_attributes() -> None:
    """To render a reference checkov flattens all attributes of the referenced block, once per edge:
    the same few blocks (a VPC, a key, a role) are flattened again for every resource that names them.
    While checkov's rounds of edges are evaluated (up to `update_vertices_configs`, which ends them), a
    block changes only through `update_vertex_attribute` (on the block being rendered, in containers it
    alone holds; between rounds only edge lists change), and what the flattening gives is only read, so
    the flattened attributes are kept per block until that block is updated. Threaded rendering
    (RENDER_VARIABLES_ASYNC) keeps checkov's own path. A test compares scans with and without."""
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph
    from checkov.terraform.graph_builder.variable_rendering.renderer import TerraformVariableRenderer

    @_replacing(TerraformVariableRenderer._render_variables_from_edges)
    def render_variables_from_edges(self) -> None:
        if self.run_async:
            return render_variables_from_edges.original(self)
        self.local_graph.__dict__["_aegis_attributes"] = {}
        try:
            render_variables_from_edges.original(self)
        finally:
            self.local_graph.__dict__.pop("_aegis_attributes", None)

    @_replacing(TerraformLocalGraph.update_vertices_configs)
    def update_vertices_configs(self) -> None:
        self.__dict__.pop("_aegis_attributes", None)  # the rounds are over: blocks change otherwise from here
        update_vertices_configs.original(self)

    @_replacing(TerraformLocalGraph.get_vertex_attributes_by_index)
    def get_vertex_attributes_by_index(self, index: int, add_hash: bool = True) -> dict[str, Any]:
        kept = self.__dict__.get("_aegis_attributes")
        if kept is None or add_hash:  # the hash covers changed attributes too: not kept
            return get_vertex_attributes_by_index.original(self, index, add_hash)
        attributes = kept.get(index)
        if attributes is None:
            attributes = kept[index] = get_vertex_attributes_by_index.original(self, index, add_hash)
        return attributes

    @_replacing(TerraformLocalGraph.update_vertex_attribute)
    def update_vertex_attribute(self, vertex_index: int, *args: Any, **kwargs: Any) -> None:
        kept = self.__dict__.get("_aegis_attributes")
        if kept is not None:
            kept.pop(vertex_index, None)
        update_vertex_attribute.original(self, vertex_index, *args, **kwargs)

    TerraformVariableRenderer._render_variables_from_edges = render_variables_from_edges
    TerraformLocalGraph.update_vertices_configs = update_vertices_configs
    TerraformLocalGraph.get_vertex_attributes_by_index = get_vertex_attributes_by_index
    TerraformLocalGraph.update_vertex_attribute = update_vertex_attribute


def _reuse_reference_parsing() -> None:
    """checkov finds the references in an attribute's text (`aws_kms_key.data.arn`, `var.x`) each time
    it meets the text: when it builds edges and again for every edge it renders, ~8 times per distinct
    text on a platform stack. The answer depends only on the text, the provider aliases and the
    resource types of the graph, so it is kept per (text, aliases, types) for the last graphs
    built; callers get a list of their own (the references themselves are only read). A test
    compares scans with and without."""
    from checkov.common.graph.graph_builder.graph_components.attribute_names import CustomAttributes
    from checkov.terraform.graph_builder import utils

    original = utils.get_referenced_vertices_in_str_value
    kept: dict[tuple[Any, ...], list[Any]] = {}

    @_replacing(original)
    def get_referenced_vertices_in_str_value(str_value: str, aliases: dict[str, dict[str, str]],
                                             resources_types: list[str]) -> list[Any]:
        # Aliases are read for their block type only (`get_vertex_reference_from_alias`).
        key = (str_value, tuple((name, alias.get(CustomAttributes.BLOCK_TYPE, _MISSING)) for name, alias in aliases.items()),
               tuple(resources_types))
        references = kept.get(key)
        if references is None:
            if len(kept) >= _TEXTS_KEPT:
                kept.clear()
            references = kept[key] = original(str_value, aliases, resources_types)
        return list(references)

    get_referenced_vertices_in_str_value.kept = kept  # what tests and measurements may empty
    utils.get_referenced_vertices_in_str_value = get_referenced_vertices_in_str_value


def _no_best_match_among_none() -> None:
    """For every reference whose name matches no block (an attribute of a data source, a provider
    function, a name in a string), checkov still resolves the real path of the referring file (system
    calls per path segment) to compare it with no candidate at all, and answers -1. With no candidate
    the answer is -1 without it; a path that is not a plain string (where resolving it would raise) keeps
    checkov's own path. A test compares scans with and without."""
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph

    @_replacing(TerraformLocalGraph._find_vertex_with_best_match)
    def find_vertex_with_best_match(self, relevant_vertices_indexes: list[int], origin_path: Any,
                                    origin_vertex_index: int | None = None) -> int:
        if not relevant_vertices_indexes and type(origin_path) is str and "\0" not in origin_path:
            return -1
        return find_vertex_with_best_match.original(self, relevant_vertices_indexes, origin_path, origin_vertex_index)

    TerraformLocalGraph._find_vertex_with_best_match = find_vertex_with_best_match


def _nested_only_for_lists() -> None:
    """For each attribute of each block checkov asks whether it has nested attributes, by collecting
    every other attribute name it prefixes and looking for an index in them: quadratic in a block's
    attributes (a policy that names every model's resources has hundreds). The answer is True for a
    map and False for anything but a list whatever is collected, so the collecting is left to lists
    (attribute names are strings: the parsers' keys and the dotted names checkov builds from them).
    A test compares scans with and without."""
    from checkov.terraform.graph_builder import local_graph, utils
    from checkov.terraform.graph_builder.variable_rendering import renderer

    original = utils.attribute_has_nested_attributes

    @_replacing(original)
    def attribute_has_nested_attributes(attribute_key: str, attributes: dict[str, Any],
                                        attribute_is_leaf: dict[str, bool] | None = None) -> bool:
        value = attributes[attribute_key]
        if isinstance(value, dict):
            return True
        if not isinstance(value, list):
            return False
        return original(attribute_key, attributes, attribute_is_leaf)

    for module in (utils, local_graph, renderer):  # the two callers imported it by name
        module.attribute_has_nested_attributes = attribute_has_nested_attributes


def _reuse_plain_evaluations() -> None:
    """checkov evaluates each attribute text as a Terraform expression (asteval, a parse and a compile
    each) when it renders an edge and again for every attribute left unrendered: ~2 times per distinct
    text. What can make the same text evaluate differently: calls (`(`: the clock), and the interpreter's
    shared symbol table, which an evaluated assignment changes (`_may_assign`), and a call may change a
    value an assignment put there (checkov's own functions, all it holds before, change nothing). So a
    text with neither `=` nor `(` is evaluated once per generation of that table, and kept when the
    answer is immutable (a string, number, bool or None); a new generation starts at every evaluation
    that may assign, after the first one at every evaluation with `(` too, whoever asks for it, and when
    the table's size changes. Anything else is evaluated as checkov does. A test compares scans with
    and without."""
    from checkov.terraform.graph_builder.variable_rendering import evaluate_terraform as module
    from checkov.terraform.graph_builder.variable_rendering.safe_eval_functions import SAFE_EVAL_DICT

    original_evaluate, original = module.evaluate, module.evaluate_terraform
    kept: dict[tuple[str, bool], tuple[tuple[int, int], Any]] = {}
    generation, assigned = [0], [False]

    def now() -> tuple[int, int]:
        return generation[0], len(SAFE_EVAL_DICT)

    @_replacing(original_evaluate)
    def evaluate(input_str: Any) -> Any:  # every asteval run of checkov's Terraform rendering passes here
        if _may_assign(input_str):
            assigned[0] = True
        if assigned[0] and not _plain_text(input_str):
            generation[0] += 1  # before it runs: an evaluation that overlaps it is not kept
        return original_evaluate(input_str)

    @_replacing(original)
    def evaluate_terraform(input_str: Any, keep_interpolations: bool = True) -> Any:
        if not _plain_text(input_str):
            return original(input_str, keep_interpolations)
        key = (input_str, keep_interpolations)
        known = kept.get(key)
        if known is not None and known[0] == now():
            return known[1]
        before = now()
        value = original(input_str, keep_interpolations)
        if now() == before and type(value) in _IMMUTABLE:
            if len(kept) >= _TEXTS_KEPT:
                kept.clear()
            kept[key] = (before, value)
        return value

    evaluate_terraform.kept = kept
    module.evaluate = evaluate
    module.evaluate_terraform = evaluate_terraform


def _plain_dpath_lookups() -> None:
    """checkov's value checks (`BaseResourceValueCheck`, `BaseResourceNegativeValueCheck`) ask dpath whether
    a key exists, then for its value, then (when it does not) for every path ending in each of its names
    (`**/<name>`): dpath answers each by walking every path of the resource's configuration and matching
    each against the glob (~40% of a platform stack's resource checks: its policy documents are big).
    What dpath 2.1.3 matches, read from its code: a glob segment without `*`, `?` or `[` matches a string
    key equal to it, and a list index i of n when int(segment) is i or i - n (a one-digit class such as
    checkov's `[0]` matches the key "0" and the index 0 only); `**/<name>` matches every
    path whose last segment matches <name>, in walk order (a node's children, then each child's subtree).
    So a wildcard-free key is followed down its one possible path, and `**/<name>` is collected in one
    walk in that order; the values are the very objects dpath would give, and a search's result dict is
    built by dpath's own `segments.set`. checkov's own dpath runs whenever that reading may not hold: other
    globs, separators, filters or `dirs`, dpath refusing empty keys (checkov allows them), a node read
    that is not a plain dict (string keys only), list or scalar, or nesting too deep to walk. A plain
    key's walk reads the nodes off its path only to match nothing, which parsed JSON cannot make raise.
    A test compares scans with and without."""
    import types

    import dpath  # type: ignore[import-untyped]
    from checkov.terraform.checks.resource import base_resource_negative_value_check, base_resource_value_check
    from dpath import segments, version

    if version.VERSION != "2.1.3":  # the matching read above is that version's: another keeps its own walk
        return

    @_replacing(dpath.search)
    def search(obj: Any, glob: Any, yielded: bool = False, separator: str = "/", afilter: Any = None,
               dirs: bool = True) -> Any:
        if separator == "/" and afilter is None and dirs is True and type(obj) is dict:
            if yielded:
                name = _plain_glob(glob[3:]) if type(glob) is str and glob.startswith("**/") else None
                found = _paths_ending_in(obj, name[0]) if name is not None and len(name) == 1 else None
                if found is not None:
                    return iter(found)
            else:
                parts = _plain_glob(glob)
                answer = _follow_plain_path(obj, parts) if parts is not None else None
                if answer is not None:
                    result: dict[Any, Any] = {}
                    if answer[0]:
                        segments.set(result, answer[1], answer[2], hints=segments.types(obj, answer[1]))
                    return result
        return search.original(obj, glob, yielded, separator, afilter, dirs)  # looked up per call: tests wrap it

    @_replacing(dpath.get)
    def get(obj: Any, glob: Any, *args: Any, **kwargs: Any) -> Any:
        parts = _plain_glob(glob) if not args and not kwargs and glob != "/" and type(obj) is dict else None
        answer = _follow_plain_path(obj, parts) if parts is not None else None
        if answer is None or not answer[0]:  # not found: dpath's own error (or a node that is not plain)
            return get.original(obj, glob, *args, **kwargs)
        return answer[2]

    lookups = types.SimpleNamespace(search=search, get=get)
    for module in (base_resource_value_check, base_resource_negative_value_check):  # both import dpath whole
        module.dpath = lookups


def _plain_glob(glob: Any) -> list[str] | None:
    """The segments of a dpath glob without wildcards (a one-digit class such as `[0]`, which checkov's keys
    use for a block's first element, is one character: allowed), as dpath splits it; None for anything else,
    or while dpath refuses empty keys (checkov allows them: a walk would raise on one)."""
    from dpath import options

    if type(glob) is not str or not options.ALLOW_EMPTY_STRING_KEYS:
        return None
    parts = glob.lstrip("/").split("/")
    plain = all(_ONE_DIGIT_CLASS.fullmatch(part) or not any(c in part for c in "*?[") for part in parts)
    return parts if plain else None


# dpath matches a segment to a key or index by fnmatch: `[5]` matches the string "5", nothing else.
_ONE_DIGIT_CLASS = re.compile(r"\[([0-9])\]")


def _literal(part: str) -> str:
    """The one dict key a wildcard-free segment matches."""
    digit = _ONE_DIGIT_CLASS.fullmatch(part)
    return digit.group(1) if digit else part


def _follow_plain_path(obj: Any, parts: list[str]) -> tuple[bool, tuple[Any, ...], Any] | None:
    """(found, dpath's path, value) of the one path wildcard-free `parts` can match in `obj`; None when a
    node it reads is not a plain dict (string keys), list or scalar."""
    from dpath.types import SymmetricInt  # type: ignore[import-untyped]

    node: Any = obj
    path: tuple[Any, ...] = ()
    for part in parts:
        kind = type(node)
        if kind is dict:
            if any(type(key) is not str for key in node):
                return None
            key = _literal(part)
            if key not in node:
                return False, (), None
            path, node = path + (key,), node[key]
        elif kind is list:
            index = _list_index(part, len(node))
            if index is None:
                return False, (), None
            path, node = path + (SymmetricInt(index, len(node)),), node[index]
        elif kind in _DPATH_LEAVES:
            return False, (), None
        else:
            return None
    return True, path, node



_DPATH_LEAVES = (str, bytes, int, float, bool, type(None))


def _list_index(segment: str, length: int) -> int | None:
    """The index of a list of `length` that dpath matches with a wildcard-free `segment`: an integer's
    (its SymmetricInt compares equal to int(segment), negative from the end), or a one-digit class's
    (compared as text: "5" only); None when none does."""
    digit = _ONE_DIGIT_CLASS.fullmatch(segment)
    if digit:
        return int(digit.group(1)) if int(digit.group(1)) < length else None
    try:
        wanted = int(segment)
    except ValueError:
        return None
    return wanted % length if -length < wanted < length else None


def _paths_ending_in(obj: dict[str, Any], name: str) -> list[tuple[str, Any]] | None:
    """What dpath's `search(obj, "**/<name>", yielded=True)` yields, for a wildcard-free name: every
    ("a/0/name", value) in dpath's walk order; None when a node is not plain or nesting is too deep."""
    found: list[tuple[str, Any]] = []
    literal = _literal(name)

    def walk(node: Any, prefix: str) -> bool:
        if type(node) is dict:
            if any(type(key) is not str for key in node):
                return False
            children = list(node.items())
            for key, value in children:
                if key == literal:
                    found.append((prefix + key, value))
        elif type(node) is list:
            index = _list_index(name, len(node))
            children = [(str(i), value) for i, value in enumerate(node)]
            if index is not None:
                found.append((prefix + str(index), node[index]))
        else:
            return type(node) in _DPATH_LEAVES
        return all(walk(value, f"{prefix}{key}/") for key, value in children)

    try:
        return found if walk(obj, "") else None
    except RecursionError:
        return None

_IMMUTABLE = (str, int, float, bool, type(None))


def _graph_check_jobs_inline() -> None:
    """checkov runs each graph check as a job of a thread pool, and each attribute or resource solver one job
    per vertex of another, never shut down: a future, a queue hop and a hand-off of the GIL per vertex per
    check, for pure Python that the threads can only take turns at. `_InlineExecutor` runs checkov's own jobs
    at `submit` instead. Read from their code, those jobs take no lock and wait for no other job (a check's
    job runs its solver, whose jobs are inline too and done before it returns); what they share is lists
    they append to, read after `concurrent.futures.wait`. Running each job as it is submitted is a schedule
    the pool itself may take (one worker, each job done before the next arrives), so every result is one
    checkov can give; only the order of the appended vertices changes, from the threads' order to the
    vertices' (the scan reads them as sets). Any other job goes to a real pool as before. A test compares
    scans with and without."""
    import types
    from concurrent import futures

    from checkov.common.checks_infra.solvers.attribute_solvers import base_attribute_solver
    from checkov.common.checks_infra.solvers.resource_solvers import base_resource_solver
    from checkov.common.graph.checks_infra import registry

    _InlineExecutor.check_job = registry.BaseRegistry.run_check_parallel
    _InlineExecutor.jobs = frozenset({base_attribute_solver.BaseAttributeSolver._process_node,
                                      base_resource_solver.BaseResourceSolver._process_node,
                                      registry.BaseRegistry.run_check_parallel})
    inline = _replacing(futures.ThreadPoolExecutor)(_InlineExecutor)
    for module in (base_attribute_solver, base_resource_solver):  # both import the class by name
        module.ThreadPoolExecutor = inline
    # The registry imports `concurrent.futures` whole, for the pool and `wait`.
    registry.concurrent = types.SimpleNamespace(futures=types.SimpleNamespace(ThreadPoolExecutor=inline, wait=futures.wait),
                                                original=registry.concurrent)


def _vertices_by_resource_type() -> None:
    """Every attribute, complex and connection solver of every graph check walks all vertices of the graph
    and asks `resource_type_pred` of each whether its resource type is one the check names (~355,000 calls
    on a 30-model platform stack). While the registry runs the checks of a graph (`run_checks`), its
    vertices are indexed once by resource type (`_TypeIndex`), and those solvers visit the ones the
    predicate accepts, in the graph's order, as their own loops would: no vertex is added or removed
    while checks run (they make subgraphs, and the graph's node count is compared at every use), and
    none writes a vertex's resource type (the one write, for a jsonpath match, adds the dotted name of a
    value the vertex holds, never a top-level key it lacks). checkov's own loops run for any other graph
    (a connection check's subgraph), a solver class with its own predicate (or checkov's replaced), the
    all-resources mode (CKV_SUPPORT_ALL_RESOURCE_TYPE: the predicate reads providers), or types that are
    not all strings. A test compares scans with and without."""
    import concurrent.futures

    from checkov.common.checks_infra.solvers.attribute_solvers import base_attribute_solver
    from checkov.common.checks_infra.solvers.complex_solvers.base_complex_solver import BaseComplexSolver
    from checkov.common.checks_infra.solvers.connections_solvers.base_connection_solver import BaseConnectionSolver
    from checkov.common.graph.checks_infra.registry import BaseRegistry
    from checkov.common.graph.checks_infra.solvers.base_solver import BaseSolver
    from checkov.common.graph.graph_builder import CustomAttributes
    from checkov.common.util.env_vars_config import env_vars_config
    from rustworkx import PyDiGraph

    BaseAttributeSolver = base_attribute_solver.BaseAttributeSolver
    predicate = BaseSolver.resource_type_pred  # the question the index answers
    running: list[_TypeIndex] = []  # the graphs whose checks run now, innermost last

    @_replacing(BaseRegistry.run_checks)
    def run_checks(self: Any, graph_connector: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(graph_connector, PyDiGraph):
            return run_checks.original(self, graph_connector, *args, **kwargs)
        running.append(_TypeIndex(graph_connector, CustomAttributes.RESOURCE_TYPE))
        try:
            return run_checks.original(self, graph_connector, *args, **kwargs)
        finally:
            running.pop()

    def accepted(solver: Any, graph: Any, resource_types: Any) -> list[tuple[Any, Any]] | None:
        """The payloads of `graph` whose vertex `solver.resource_type_pred` accepts, in node order; None
        when the index cannot answer for them."""
        index = next((i for i in reversed(running) if i.graph is graph), None)
        if index is None or env_vars_config.CKV_SUPPORT_ALL_RESOURCE_TYPE \
                or type(solver).resource_type_pred is not predicate:
            return None
        return index.accepted(resource_types)

    @_replacing(BaseAttributeSolver.run)
    def attribute_run(self: Any, graph_connector: Any) -> Any:
        nodes = accepted(self, graph_connector, self.resource_types)
        if nodes is None:
            return attribute_run.original(self, graph_connector)
        executer = base_attribute_solver.ThreadPoolExecutor()  # looked up per call, as checkov's own code does
        passed: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        unknown: list[dict[str, Any]] = []
        jobs = [executer.submit(self._process_node, data, passed, failed, unknown) for _, data in nodes
                if data.get(CustomAttributes.BLOCK_TYPE) in base_attribute_solver.SUPPORTED_BLOCK_TYPES]
        concurrent.futures.wait(jobs)
        return passed, failed, unknown

    @_replacing(BaseComplexSolver.run)
    def complex_run(self: Any, graph_connector: Any) -> Any:
        nodes = accepted(self, graph_connector, self.resource_types)
        if nodes is None:
            return complex_run.original(self, graph_connector)
        passed, failed, unknown = [], [], []
        for _, data in nodes:
            result = self.get_operation(data)
            if result is None:
                unknown.append(data)
            elif result:
                passed.append(data)
            else:
                failed.append(data)
        return passed, failed, unknown

    @_replacing(BaseConnectionSolver.set_vertices)
    def set_vertices(self: Any, graph_connector: Any, exclude_vertices: list[dict[str, Any]],
                     unknown_vertices: list[dict[str, Any]]) -> None:
        under = accepted(self, graph_connector, self.resource_types)
        connected = accepted(self, graph_connector, self.connected_resources_types) if under is not None else None
        if under is None or connected is None:
            return set_vertices.original(self, graph_connector, exclude_vertices, unknown_vertices)
        self.vertices_under_resource_types = [v for _, v in under]
        self.vertices_under_connected_resources_types = [v for _, v in connected]
        both = self.vertices_under_resource_types + self.vertices_under_connected_resources_types
        self.excluded_vertices = [v for v in both if v in exclude_vertices]  # `in`: equality, as checkov's
        self.unknown_vertices = [v for v in both if v in unknown_vertices]
        return None

    BaseRegistry.run_checks = run_checks
    BaseAttributeSolver.run = attribute_run
    BaseComplexSolver.run = complex_run
    BaseConnectionSolver.set_vertices = set_vertices


class _TypeIndex:
    """The vertices of one rustworkx graph of checkov's by resource type: positions in `graph.nodes()`
    (payloads `(index, attributes)`) per type, for `BaseSolver.resource_type_pred`'s question (without
    the all-resources mode): no types, or an empty list, accept every vertex; else a vertex is accepted
    when it has a resource type and the type is in the list (equality)."""

    def __init__(self, graph: Any, resource_type: str) -> None:
        self.graph, self.nodes, self.count = graph, graph.nodes(), graph.num_nodes()
        self.by_type: dict[str, list[int]] | None = {}
        for position, payload in enumerate(self.nodes):
            attributes = payload[1] if type(payload) is tuple and len(payload) == 2 else None
            if type(attributes) is not dict:
                self.by_type = None  # not a vertex checkov's solvers read this way
                break
            if resource_type in attributes:
                value = attributes[resource_type]
                if type(value) is not str:  # equality with a list's entries may not be a dict's
                    self.by_type = None
                    break
                self.by_type.setdefault(value, []).append(position)

    def accepted(self, resource_types: Any) -> list[tuple[Any, Any]] | None:
        """The payloads accepted for `resource_types`, in node order; None when the index cannot tell."""
        if self.by_type is None or self.graph.num_nodes() != self.count:
            return None
        if not resource_types:
            return list(self.nodes)
        if type(resource_types) is not list:
            return None
        wanted = set(resource_types) if all(type(t) is str for t in resource_types) else None
        if wanted is None:
            return None
        if len(wanted) == 1:
            positions = self.by_type.get(next(iter(wanted)), [])
        else:
            positions = sorted(p for kind, found in self.by_type.items() if kind in wanted for p in found)
        return [self.nodes[p] for p in positions]


def _parse_without_location_walk() -> None:
    """asteval's `Interpreter.parse` hands every text checkov evaluates (thousands per stack) to `ast.parse`
    and then walks the whole tree with `ast.fix_missing_locations`, which only sets a line or column a node
    lacks. CPython's parser (3.8 and later) gives every node whose class has those attributes all four of
    them (`lineno`, `col_offset`, `end_lineno`, `end_col_offset`), so the walk changes nothing and returns
    the very tree it was given; it is left out, with asteval 1.0.6's `parse` otherwise as it is (its
    length limit, and its errors: a SyntaxError, anything else as RuntimeError, both raised through
    `raise_exception`). Another asteval keeps its own `parse`. A test compares scans with and without,
    and the trees of every text a platform stack evaluates."""
    import asteval  # type: ignore[import-untyped]
    from asteval.asteval import Interpreter  # type: ignore[import-untyped]

    if asteval.__version__ != "1.0.6" or sys.version_info < (3, 8):  # the code read above is that version's
        return

    @_replacing(Interpreter.parse)
    def parse(self: Any, text: Any) -> Any:
        if type(text) is not str or len(text) > self.max_statement_length:
            return parse.original(self, text)
        self.expr = text
        try:
            return ast.parse(text)
        except SyntaxError:
            self.raise_exception(None, exc=SyntaxError, expr=text)
        except BaseException:  # asteval's bare `except:`
            self.raise_exception(None, exc=RuntimeError, expr=text)
        raise AssertionError("raise_exception returned")  # pragma: no cover - it always raises

    Interpreter.parse = parse


def _flatten_in_one_dict() -> None:
    """checkov flattens a Terraform block's nested attributes (`tags` → `tags.Name`, `rule.0.action`) by
    recursion (`TerraformBlock.get_inner_attributes`, through its base class's): each level builds a dict
    of its own and merges it into its parent's, so a value nested n deep is copied n times, for every
    block and again whenever a block's attributes are asked for (~80,000 calls on a 30-model platform
    stack). `_flattened` writes the same entries into one dict, in the same order: each level's writes
    into its own dict and the merges into its parent's come to the same keys, first written in the same
    order, each ending with the value written last (a merge keeps a key's place and takes its new value,
    as a second write does), and a level reads back only the key its child wrote first, which no deeper
    write can overwrite (deeper keys are longer). The input is changed as checkov changes it (an empty
    key is deleted where met). A subclass, or nesting deeper than `_FLATTEN_DEPTH` (where checkov's two
    frames per level would exhaust Python's recursion limit sooner), keeps checkov's recursion. A test
    compares the results on any JSON value, and scans with and without."""
    from checkov.terraform.graph_builder.graph_components.blocks import TerraformBlock

    original = TerraformBlock.__dict__["get_inner_attributes"]  # the classmethod itself
    checkovs = threading.local()  # set while checkov's own recursion runs: its inner calls stay its own

    @_replacing(original)
    def get_inner_attributes(cls: Any, attribute_key: str, attribute_value: Any,
                             strip_list: bool = True) -> dict[str, Any]:
        if cls is TerraformBlock and not getattr(checkovs, "running", False):
            flattened: dict[str, Any] = {}
            with suppress(_TooDeep):
                _flattened(attribute_key, attribute_value, strip_list, flattened, 0)
                return flattened
            checkovs.running = True
            try:  # looked up per call: tests wrap it
                return get_inner_attributes.original.__func__(cls, attribute_key, attribute_value, strip_list)
            finally:
                checkovs.running = False
        return get_inner_attributes.original.__func__(cls, attribute_key, attribute_value, strip_list)

    TerraformBlock.get_inner_attributes = classmethod(get_inner_attributes)  # `.original`: on the function


class _TooDeep(Exception):
    pass


_FLATTEN_DEPTH = 100


def _flattened(key: str, value: Any, strip_list: bool, into: dict[str, Any], depth: int) -> None:
    """`TerraformBlock.get_inner_attributes(key, value, strip_list)`'s entries, written into `into`."""
    if strip_list and isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, (dict, list)):
        into[key] = value
        return
    if depth > _FLATTEN_DEPTH:
        raise _TooDeep
    if isinstance(value, list):
        items: list[Any] = [None] * len(value)
        into[key] = items
        for index in range(len(value)):
            inner_key = f"{key}.{index}"
            _flattened(inner_key, value[index], True, into, depth + 1)
            items[index] = into[inner_key]
        return
    entries: dict[str, Any] = {}
    into[key] = entries
    for name in list(value.keys()):
        if name != "":
            inner_key = f"{key}.{name}"
            _flattened(inner_key, value[name], True, into, depth + 1)
            entries[name] = into[inner_key]
        else:
            del value[name]


def _result_entities_copied_one_level() -> None:
    """After the graph checks, checkov gives every result a deep copy of its vertex (pickled and unpickled:
    every attribute, the flattened ones too; ~250 results on a 30-model platform stack), so that choosing
    each result's connected node (`_update_check_correct_connected_node`, which sets one top-level key of
    the copy) leaves the vertex other results share as it was. The terraform_json runner's reader of those
    results (`add_graph_check_results`, which the scan's runner only decides whether to call) reads four
    top-level values of each copy (file path, first and last line, id) and keeps nothing else of it. For
    that runner a copy of the top level does the same: the key set is the copy's own, and what is read
    are the same values. Every other runner (the HCL one of `gate --path` reads more of each entity), or a
    terraform_json reader replaced on its class, keeps the deep copy. A test compares scans with and
    without."""
    from checkov.common.graph.graph_builder import CustomAttributes
    from checkov.common.runners.base_runner import BaseRunner
    from checkov.terraform_json.runner import TerraformJsonRunner

    reader = TerraformJsonRunner.add_graph_check_results  # the code read above

    @_replacing(BaseRunner.__dict__["_update_check_correct_connected_node"])  # the staticmethod: callable, and undone as one
    def update_check_correct_connected_node(filtered_result: dict[Any, list[dict[str, Any]]]) -> None:
        if TerraformJsonRunner.add_graph_check_results is not reader or not all(
                type(result.get("entity")) is dict for results in filtered_result.values() for result in results):
            return update_check_correct_connected_node.original(filtered_result)
        for check, results in filtered_result.items():  # checkov's loop, with the copy of the top level
            for result in results:
                entity = result["entity"] = _top_level_copy(result["entity"])
                connected_node = entity.get(CustomAttributes.CONNECTED_NODE)
                if connected_node is None:
                    continue
                relevant = BaseRunner._extract_relevant_resource_types(
                    BaseRunner._get_connected_resources_types_with_subchecks(check), connected_node)
                entity[CustomAttributes.CONNECTED_NODE] = connected_node[relevant] \
                    if relevant and relevant in connected_node else None
        return None

    TerraformJsonRunner._update_check_correct_connected_node = staticmethod(update_check_correct_connected_node)


def take_job_failures() -> list[str]:
    """What checkov's graph-check jobs raised since the last call (see `_InlineExecutor.failures`)."""
    failures, _InlineExecutor.failures = _InlineExecutor.failures, []
    return failures


def _top_level_copy(entity: dict[str, Any]) -> dict[str, Any]:
    return dict(entity)


class _InlineExecutor:
    """A `ThreadPoolExecutor` that runs checkov's graph-check jobs (`jobs`: functions whose bound methods are
    submitted) in the calling thread at `submit`, and hands any other job to a real pool. The future it
    returns is done, holding the job's result or exception as the pool's worker would store it (a
    KeyboardInterrupt, which only the main thread receives, still interrupts it)."""

    jobs: frozenset[Callable[..., Any]] = frozenset()
    check_job: Callable[..., Any] | None = None
    # What checkov's jobs raised since `take_job_failures` last emptied it. checkov never reads its jobs'
    # futures: a solver that raises on a vertex drops that vertex, or the whole check, from the results
    # without a word. The scan reads these instead and refuses the stack (it never passes what a check
    # did not judge).
    failures: list[str] = []
    _running = threading.local()  # .check: the graph check whose job runs in this thread (its solvers' jobs inside)
    _pool_lock = threading.Lock()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._arguments = args, kwargs
        self._pool: Any = None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future, ThreadPoolExecutor

        if getattr(fn, "__func__", None) not in self.jobs:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(*self._arguments[0], **self._arguments[1])
            pooled = self._pool.submit(fn, *args, **kwargs)
            check = getattr(self._running, "check", None)
            pooled.add_done_callback(lambda done: None if done.cancelled() or done.exception() is None
                                     else self._record(check, args, done.exception()))
            return pooled
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        outer = getattr(self._running, "check", None)
        if getattr(fn, "__func__", None) is _InlineExecutor.check_job:
            self._running.check = str(getattr(args[0], "id", "?")) if args else "?"
        try:
            result = fn(*args, **kwargs)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # what the pool's worker stores
            future.set_exception(exc)
            self._record(getattr(self._running, "check", None), args, exc)
        else:
            future.set_result(result)
        finally:
            self._running.check = outer
        return future

    @staticmethod
    def _record(check: str | None, args: tuple[Any, ...], exc: BaseException | None) -> None:
        vertex = (args[0].get("__address__") or args[0].get("id_")) if args and isinstance(args[0], dict) else None
        _InlineExecutor.failures.append(f"{check or 'a graph check'}{f' on {vertex}' if vertex else ''}: "
                                        f"{type(exc).__name__}: {exc}")  # list.append: atomic under the GIL

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait, cancel_futures=cancel_futures)

    def __enter__(self) -> _InlineExecutor:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=True)


def _plain_text(value: Any) -> bool:
    return type(value) is str and "=" not in value and "(" not in value


def _may_assign(text: Any) -> bool:
    """Whether asteval, handed `text` by checkov's `evaluate`, could bind a name. It parses the text with
    `ast.parse` and runs it; of what checkov's interpreter allows, only an assignment statement binds
    (imports, deletes, loops, definitions, lambdas, comprehensions, `:=` are refused), and it needs an `=`.
    checkov's `evaluate` calls string methods on what it gets (a non-string fails before asteval) and
    spells a leading `try` as its own function name first; so does this."""
    from checkov.terraform.graph_builder.variable_rendering.safe_eval_functions import TRY_STR_REPLACEMENT

    if type(text) is not str or "=" not in text:
        return False
    if text.startswith("try"):
        text = f"{TRY_STR_REPLACEMENT}{text[3:]}"
    try:
        tree = ast.parse(text)
    except Exception:  # asteval's parse fails the same way: nothing runs
        return False
    return any(not isinstance(statement, ast.Expr) for statement in tree.body) or \
        (":=" in text and any(isinstance(node, ast.NamedExpr) for node in ast.walk(tree)))


_MISSING = object()
_TEXTS_KEPT = 200_000  # a 30-model platform stack has ~3,000 distinct texts


def _replacing(original: Callable[..., Any]) -> Callable[[Callable[..., Any]], Any]:
    """Decorator: the replacement keeps the checkov function it replaces as `.original` (tests undo it)."""
    def keep(replacement: Any) -> Any:
        replacement.original = original
        return replacement

    return keep


def with_real_addresses(runner_class: Any) -> Any:
    """checkov's terraform_json runner class, giving each Python-check record its real address."""

    class Runner(runner_class):
        def run_block(self, entities, definition_context, full_file_path, root_folder, report, scanned_file,
                      block_type, runner_filter=None, entity_context_path_header=None, module_referrer=None):
            # One entity at a time, so the records it adds can be given their real address.
            for entity in entities:
                marks = [len(report.passed_checks), len(report.failed_checks), len(report.skipped_checks)]
                super().run_block([entity], definition_context, full_file_path, root_folder, report, scanned_file,
                                  block_type, runner_filter, entity_context_path_header, module_referrer)
                rtype = next(iter(entity))
                if block_type == "provider":
                    alias = (entity[rtype].get("alias") or [None])[0]
                    address = f"provider.{rtype}" + (f".{alias}" if alias else "")
                else:
                    name = next(iter(entity[rtype]))
                    address = ("data." if block_type == "data" else "") + f"{rtype}.{name}"
                for records, mark in zip((report.passed_checks, report.failed_checks, report.skipped_checks), marks,
                                         strict=True):
                    for record in records[mark:]:
                        record.resource = address

    return Runner

