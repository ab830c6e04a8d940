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
import shutil
from pathlib import Path

import pytest

from tests.readme_blocks import ROOT, applied_copy, howto_blocks, run_python

SECTION = "## Extending Aegis"


def test_the_block_reader_reads_each_kind_of_instruction():
    readme = ("## Extending Aegis\n\n```python\n# pkg/new.py\nx = 1\n```\n\n```yaml\n# pkg/c.yaml: append\n  a: 1\n```\n\n"
              "```python\n# pkg/s.py: after `import os`\nimport re\n```\n\n```python\nprint('no file')\n```\n"
              "## Next\n```python\n# pkg/out.py\n```\n")
    assert howto_blocks(readme, SECTION) == [("pkg/new.py", None, False, "# pkg/new.py\nx = 1\n"),
                                    ("pkg/c.yaml", None, True, "  a: 1\n"),
                                    ("pkg/s.py", "import os", False, "import re\n")]


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to copy")
    copy = tmp_path_factory.mktemp("extended") / "aegis"
    written, env = applied_copy(copy, (SECTION,), tmp_path_factory.mktemp("cache"))
    assert set(written) >= {"modules/data/stack.py", "policies/catalog.yaml", "policies/plan/catalog.yaml",
                            "policies/report/__init__.py"}
    docs = run_python(["main.py", "checks", "--write-docs"], copy, env)
    assert docs.returncode == 0, docs.stdout + docs.stderr
    return copy, env


def test_the_extended_app_passes_the_gate_and_the_new_checks_judge_the_new_resource(extended):
    copy, env = extended
    gate = run_python(["main.py", "gate", "--out", "reports", "--format", "json", "--format", "csv"], copy, env)
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
    result = run_python(["-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], copy, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
