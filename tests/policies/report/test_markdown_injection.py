"""The PR comment renders values from the judged code as text: a resource name, tag, file name or
suppression reason carrying HTML, a Markdown link or image, a mention or an issue reference must not
become markup, a picture, a link or a notification in the comment."""
from __future__ import annotations

import html
import re

import cmarkgfm  # GitHub's own Markdown renderer (cmark-gfm), as it renders a comment
import pytest
from cmarkgfm.cmark import Options

from policies.findings import Finding, Suppression
from policies.gate import GateResult
from policies.report import markdown
from policies.report.markdown_text import code, text

HOSTILE = [
    "</details><details open><summary>fake all clear</summary>",
    '<img src="https://evil.example/pixel.png">',
    "![tracker](https://evil.example/pixel.png)",
    "[click me](https://evil.example/login)",
    "@everyone please approve",
    "see #1 and GH-2",
    "https://evil.example/bare-link www.evil.example",
    "*bold* _it_ ~~gone~~ `code` | split | cell \\",
]


def _hostile_result() -> GateResult:
    findings = []
    for i, value in enumerate(HOSTILE):
        findings.append(Finding(
            check_id=f"CKV_AWS_{20 + i}", status="failed", severity="high", env="dev", stack=f"dev-data{value}",
            pillar="data", address=f"aws_s3_bucket.b{i}{value}", construct_path=f"dev-data/{value}",
            # an uncatalogued check's title is its own message, which may name what it judged
            title=value if i % 2 else "S3 bucket ACL", catalogued=not i % 2, remediation="Remove the ACL",
            controls={}, file=f"stacks/{value}/cdk.tf.json", line=3, source="app", message=value, blocking=True))
    suppressions = [Suppression(check_id="CKV_AWS_18", reason=value, expires="2027-01-01", origin="skip-comment",
                                where=value, owner=value, problem=value) for value in HOSTILE]
    return GateResult(exit_code=1, findings=findings, suppressions=suppressions, errors=list(HOSTILE),
                      thresholds={"dev": "low"}, stacks={"dev-data": 1}, target="cdktf.out")


def github_html(markdown_text: str) -> str:
    """The comment as GitHub renders it (raw HTML kept, as GitHub keeps `<details>` and `<img>`)."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown_text, options=Options.CMARK_OPT_UNSAFE)


def outside_code(rendered: str) -> str:
    """Rendered text outside `<code>` elements (GitHub links nothing and notifies nobody inside code)."""
    return html.unescape(re.sub(r"<code>.*?</code>", "", rendered, flags=re.S))


@pytest.fixture
def comment(monkeypatch) -> str:
    for name in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REF", "AEGIS_PR_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    return markdown.render(_hostile_result())


def test_html_in_scanned_values_does_not_reach_the_comment(comment):
    rendered = github_html(comment)
    assert "<img" not in rendered
    assert "<summary>fake all clear" not in rendered
    sections = 3  # blocking failures, how to fix, suppressions with problems: the comment's own
    assert rendered.count("<details") == rendered.count("</details>") == sections


def test_markdown_links_and_images_in_scanned_values_do_not_render(comment):
    rendered = github_html(comment)
    assert "<a " not in rendered  # outside GitHub Actions the comment has no links of its own either
    assert "<img" not in rendered


def test_mentions_issue_references_and_bare_urls_are_broken(comment):
    shown = outside_code(github_html(comment))
    assert "please approve" in shown  # the values are there…
    assert "@everyone" not in shown  # …but mention nobody,
    assert "#1 " not in shown  # reference no issue,
    assert "https://evil" not in shown and "www.evil" not in shown  # and link nowhere


def test_every_cell_keeps_its_column(comment):
    rows = [line for line in comment.splitlines() if line.startswith("| high |")]
    assert len(rows) == len(HOSTILE)
    for row in rows:
        assert len(re.findall(r"(?<!\\)\|", row)) == 5  # | severity | check | resource | location |


def test_values_still_read_as_themselves():
    shown = outside_code(github_html(text("a <b> & [c](d) @e *f*")))
    assert "a <b> & [c](d) @\u200be *f*" in shown


@pytest.mark.parametrize("value", ["plain", "a`b", "``x", "x`", "a|b", "multi\nline"])
def test_code_spans_cannot_be_closed_early(value):
    span = code(value)
    fence = span[: len(span) - len(span.lstrip("`"))]
    inner = span[len(fence):-len(fence)]
    assert fence * 1 not in inner.replace("\\|", "|")  # the fence never occurs inside
    assert "\n" not in span
    assert "|" not in span.replace("\\|", "")
