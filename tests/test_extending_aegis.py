"""The README's "Extending Aegis" examples work as written.

Every fenced block in that section whose first line names a file is applied to a copy of this
repository: `# path` writes the file, `# path: append` appends to it, and ``# path: after `text` ``
inserts the block after the line holding `text`. In the copy, the catalogs' docs are regenerated,
the gate judges the default app with the new resource, checks and report format (it must pass, and
the new checks must have judged the new resource), and the examples' own tests and the tests that
guard the extension points run. A how-to that no longer works fails here, not for a reader.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Extending Aegis"
BLOCK = re.compile(r"^```(?:python|yaml)\n# (?P<head>[^\n]+)\n(?P<body>.*?)^```$", re.M | re.S)
HEAD = re.compile(r"^(?P<path>[\w./-]+)(?:: (?:(?P<append>append)|after `(?P<anchor>[^`]+)`))?$")


def howto_blocks(readme: str) -> list[tuple[str, str | None, bool, str]]:
    """(path, anchor, append, text) of every block that names a file, in README order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start:end if end > 0 else None]
    found = []
    for match in BLOCK.finditer(section):
        head = HEAD.match(match["head"])
        if head and "/" in head["path"]:
            text = match["body"] if head["anchor"] or head["append"] else f"# {match['head']}\n{match['body']}"
            found.append((head["path"], head["anchor"], bool(head["append"]), text))
    return found


def apply_block(root: Path, path: str, anchor: str | None, append: bool, text: str) -> None:
    target = root / path
    if anchor:
        lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
        at = [i for i, line in enumerate(lines) if anchor in line]
        assert len(at) == 1, f"README how-to: `{anchor}` must appear exactly once in {path} (found {len(at)})"
        lines.insert(at[0] + 1, text)
        target.write_text("".join(lines), encoding="utf-8")
    elif append:
        with target.open("a", encoding="utf-8") as handle:
            handle.write(text)
    else:
        assert not target.exists(), f"README how-to writes {path}, which already exists: pick a new example"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def test_the_block_reader_reads_each_kind_of_instruction():
    readme = ("## Extending Aegis\n\n```python\n# pkg/new.py\nx = 1\n```\n\n```yaml\n# pkg/c.yaml: append\n  a: 1\n```\n\n"
              "```python\n# pkg/s.py: after `import os`\nimport re\n```\n\n```python\nprint('no file')\n```\n"
              "## Next\n```python\n# pkg/out.py\n```\n")
    assert howto_blocks(readme) == [("pkg/new.py", None, False, "# pkg/new.py\nx = 1\n"),
                                    ("pkg/c.yaml", None, True, "  a: 1\n"),
                                    ("pkg/s.py", "import os", False, "import re\n")]


def _copy_of_the_repository(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file() and not source.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to copy")
    copy = tmp_path_factory.mktemp("extended") / "aegis"
    _copy_of_the_repository(copy)
    blocks = howto_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert {path for path, *_ in blocks} >= {"modules/data/stack.py", "policies/catalog.yaml",
                                             "policies/plan/catalog.yaml", "policies/report/__init__.py"}
    for block in blocks:
        apply_block(copy, *block)
    env = {**os.environ, "PYTHONPATH": str(copy), "AEGIS_CACHE_DIR": str(tmp_path_factory.mktemp("cache"))}
    written = _run(["main.py", "checks", "--write-docs"], copy, env)
    assert written.returncode == 0, written.stdout + written.stderr
    return copy, env


def test_the_extended_app_passes_the_gate_and_the_new_checks_judge_the_new_resource(extended):
    copy, env = extended
    gate = _run(["main.py", "gate", "--out", "reports", "--format", "json", "--format", "csv"], copy, env)
    assert gate.returncode == 0, gate.stdout[-4000:] + gate.stderr[-4000:]
    findings = json.loads((copy / "reports" / "aegis-gate.json").read_text())["findings"]
    on_queue = {(f["env"], f["check_id"], f["status"]) for f in findings
                if f["address"].startswith("aws_sqs_queue.batch-requests")}
    for env_name in ("dev", "staging", "prod"):
        assert {(env_name, "CKV_AEGIS_22", "passed"), (env_name, "AEGIS_QUEUE_TLS_POLICY", "passed")} <= on_queue
    header = (copy / "reports" / "aegis-gate.csv").read_text().splitlines()[0]
    assert header.startswith("env,stack,address,check_id,severity,status")


def test_the_examples_tests_and_the_extension_point_guards_pass(extended):
    copy, env = extended
    tests = ["tests/policies/checks/test_sqs_checks.py", "tests/policies/app_checks/test_queue_app_checks.py",
             "tests/policies/plan/test_log_retention_check.py", "tests/policies/gate/test_catalog.py",
             "tests/policies/test_check_registry.py", "tests/policies/plan/test_plan_checks.py",
             "tests/test_import_graph.py", "tests/test_lint.py::test_ruff_reports_nothing"]
    result = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], copy, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
