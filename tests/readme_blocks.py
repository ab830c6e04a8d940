"""The README's worked examples as instructions: every fenced block whose first line names a file is that file
(`# path`), lines to append to it (`# path: append`) or to insert after a line (``# path: after `text` ``).
tests/test_extending_aegis.py and tests/test_readme_howtos.py apply them to a copy of this repository."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(?:python|yaml)\n# (?P<head>[^\n]+)\n(?P<body>.*?)^```$", re.M | re.S)
HEAD = re.compile(r"^(?P<path>[\w./-]+)(?:: (?:(?P<append>append)|after `(?P<anchor>[^`]+)`))?$")


def howto_blocks(readme: str, heading: str) -> list[tuple[str, str | None, bool, str]]:
    """(path, anchor, append, text) of every block under `heading` (up to the next `## ` heading) that names a
    file, in README order."""
    start = readme.index(heading)
    end = readme.find("\n## ", start + len(heading))
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


def copy_of_the_repository(dest: Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file() and not source.is_symlink():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)


def run_python(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def apply_sections(copy: Path, headings: tuple[str, ...]) -> list[str]:
    """Apply every file block of the README sections `headings` to `copy`; the paths written, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    written = []
    for heading in headings:
        for block in howto_blocks(readme, heading):
            apply_block(copy, *block)
            written.append(block[0])
    return written


def applied_copy(dest: Path, headings: tuple[str, ...], cache: Path, synth_out: Path | None = None
                 ) -> tuple[list[str], dict[str, str]]:
    """A copy of this repository in `dest` with the README sections' blocks applied: (the paths written, the
    environment for commands run in it: its own code, environment files and cache, and `synth_out` as the synth
    output its tests may reuse while it is fresh for their environments and code)."""
    import os

    copy_of_the_repository(dest)
    written = apply_sections(dest, headings)
    env = {**os.environ, "PYTHONPATH": str(dest), "AEGIS_CACHE_DIR": str(cache),
           "AEGIS_ENVIRONMENTS": str(dest / "environments")}
    if synth_out is not None:
        env["AEGIS_TEST_SYNTH_OUT"] = str(synth_out)
    return written, env
