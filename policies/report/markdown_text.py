"""Untrusted values in a Markdown pull-request comment, rendered inert.

Resource names, tags, file names, suppression reasons and error messages come from the code being
judged, which the pull request's author controls. GitHub renders HTML, links, images, @-mentions and
issue references in a comment, so a value like `</details>`, `<img src=…>`, `![](…)`, `@everyone` or
`#1` must reach the reader as text:
- `text()` writes HTML and Markdown syntax characters as numeric character references (shown as the
  character, never parsed as syntax): `$` too (GitHub renders `$…$` as math) and `#` (a value at the
  head of a list item would make a heading), and a list marker at its start (`- `, `+ `, `1. `) so
  it cannot open a list inside the item. Mentions, issue references and bare URLs are recognised by
  GitHub in the rendered text, after references are decoded, so those get a zero-width space, as
  dependency bots do (`@` and a zero-width space shows as "@everyone" and notifies nobody);
- `code()` makes a code span that no value can close early (inside one, nothing is rendered).
"""
from __future__ import annotations

import re

# HTML, links and images, emphasis, code, table cells, escapes, math, headings.
_SYNTAX = re.compile(r"[&<>\"'\[\]!*_`~|\\$#]")
_LIST_MARKER = re.compile(r"^(\s*)([-+]|\d{1,9}[.)])(?=\s)")  # what would open a list at the start
# Mentions, issue references and bare URLs: a zero-width space where GitHub would start to recognise one.
_RENDERED_LINKS = re.compile(r"(?<=@)|(?<=#)(?=\d)|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"


def text(value: object) -> str:
    """`value` as inline Markdown text, one line, with nothing in it that GitHub would act on."""
    flat = _RENDERED_LINKS.sub(_ZERO_WIDTH_SPACE, " ".join(str(value).splitlines()))
    flat = _SYNTAX.sub(lambda m: _reference(m.group()), flat)
    return _LIST_MARKER.sub(lambda m: m.group(1) + _reference(m.group(2)[0]) + m.group(2)[1:], flat)


def _reference(char: str) -> str:
    return f"&#{ord(char)};"


def own(value: object) -> str:
    """The project's own text (catalog titles and remediation, which may use Markdown) in a table cell or
    list item: one line, pipes escaped. Never for a value that comes from the judged code."""
    return " ".join(str(value).splitlines()).replace("|", "\\|")


def code(value: object) -> str:
    """`value` as an inline code span inside a table cell: a fence longer than any backtick run in it,
    pipes escaped (GitHub splits table cells on them even inside code), one line."""
    flat = " ".join(str(value).splitlines()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"
