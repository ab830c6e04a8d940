"""`python main.py report` (registered by main.py through `register`): the HTML report from a saved gate
result or from a fresh gate run, and the architecture picture the README shows."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from modules.atomic import write_text_atomic
from modules.commands import environments_dir, fail, fail_config, synth_out_option
from modules.console import step
from modules.errors import ConfigError
from modules.synth_command import ensure_synthesized
from modules.synth_output import holds_synth_output
from policies.commands import DEFAULT_REPORTS, prewarm_checkov

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RESULT = f"{DEFAULT_REPORTS}/aegis-gate.json"
ARCHITECTURE_ENV = "prod"  # the README's picture: the default prod environment


def architecture_file(env: str) -> Path:
    return ROOT / "docs" / f"architecture-{env}.svg"


def _fresh_synth(envs: tuple[str, ...], synth_out: Path, *, gate_follows: bool) -> list:
    """The configs of `envs` (default all), synthesizing into `synth_out` when it is missing or stale;
    when the gate runs next, checkov loads meanwhile."""
    from modules.config import load_all

    try:
        configs = load_all(envs, environments_dir())
    except ConfigError as exc:
        fail_config(exc)
    ensure_synthesized(configs, synth_out, keep_others=True,
                       while_synthesizing=prewarm_checkov if gate_follows else None)
    return configs


def _load_result(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path} does not exist: run `python main.py gate` first, or `python main.py report --run`")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        fail(f"{path} is not readable JSON: {exc}")
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list) or "verdict" not in doc:
        fail(f"{path} is not an Aegis gate result (expected the JSON written by `python main.py gate`)")
    return doc


def write_architecture(envs: tuple[str, ...], synth_out: Path) -> list[Path]:
    from policies.report import diagram

    stacks = diagram.load_stacks(synth_out)
    written = []
    for env in envs:
        if env not in diagram.environments(stacks):
            fail(f"environment '{env}' is not in {synth_out.name}/")
        path = architecture_file(env)
        write_text_atomic(path, diagram.environment_svg(env, stacks))
        written.append(path)
    return written


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--from", "source", type=click.Path(dir_okay=False), default=None,
                  help=f"Saved gate result to render (default {DEFAULT_RESULT} when it exists).")
    @click.option("--run", is_flag=True, help="Run the gate now (synthesizing when needed) and write every report.")
    @click.option("--env", "envs", multiple=True, help="Environment to judge with --run (repeatable; default all).")
    @synth_out_option("--synth-out", help="Synth output for the inventory and the diagrams.")
    @click.option("--out", "reports", default=DEFAULT_REPORTS, show_default=True, type=click.Path(file_okay=False),
                  help="Folder for the report.")
    @click.option("--write-architecture", "architecture", is_flag=True,
                  help=f"Only regenerate docs/architecture-<env>.svg (default env: {ARCHITECTURE_ENV}) for the README.")
    def report(source, run, envs, synth_out, reports, architecture):
        """Render the HTML report (a single self-contained file) from a saved gate result, or run the gate.

        Without --from and --run it renders reports/aegis-gate.json when that exists, else runs the gate.
        Exit 0 when the report was written, 2 on error; the verdict is in the report (use `gate` in CI).
        """
        synth = Path(synth_out)
        if architecture:
            if source or run:
                fail("--write-architecture takes no --from or --run")
            names = envs or (ARCHITECTURE_ENV,)
            # Every environment: the synth output stays complete for `gate`.
            _fresh_synth((), synth, gate_follows=False)
            for path in write_architecture(tuple(names), synth):
                click.echo(f"wrote {path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path}")
            return
        out = Path(reports)
        result_file = Path(source) if source else Path(DEFAULT_RESULT)
        if source and run:
            fail("--from renders a saved result; --run makes a new one: choose one")
        if run or (not source and not result_file.exists()):
            _run_gate(envs, synth, out)
            return
        if envs:
            fail("--env selects what the gate judges: use it with --run")
        from policies.report.html import render_document

        doc = _load_result(result_file)
        with step(f"Rendering the HTML report of {result_file.name}"):
            text = render_document(doc, synth_out=synth if holds_synth_output(synth) else None,
                                   environments_dir=environments_dir())
        target = out / (result_file.stem + ".html")
        write_text_atomic(target, text)
        click.echo(f"wrote {target} ({doc.get('verdict', '?')}, {len(doc['findings'])} results)")


def _run_gate(envs: tuple[str, ...], synth: Path, out: Path) -> None:
    from policies.gate import run_gate
    from policies.report import available_formats, write_reports
    from policies.report.html import render as render_html
    from policies.report.summary import render as summary

    configs = _fresh_synth(envs, synth, gate_follows=True)
    names = [c.name for c in configs]
    with step(f"Judging {len(names)} environment(s) with checkov and the Aegis pack"):
        result = run_gate(synth, names, environments_dir=environments_dir())
    click.echo(summary(result, sys.stdout), nl=False)
    formats = [f for f in available_formats() if f != "html"]
    written = write_reports(result, out, formats)
    # The HTML needs the synth folder even when it lies outside the working directory.
    html_file = out / "aegis-gate.html"
    with step("Rendering the HTML report"):
        write_text_atomic(html_file, render_html(result, synth_out=synth, environments_dir=environments_dir()))
    click.echo(f"reports in {out}/: " + ", ".join(p.name for p in [*written, html_file]))
