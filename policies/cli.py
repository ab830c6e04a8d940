"""`python main.py gate` and `python main.py checks` (registered by main.py through `register`).

`gate --plan FILE.json` judges plan JSON files written by someone else's terraform (`_gate_plans`);
`python main.py plan` (policies/plan_cli.py) makes and judges its own.
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from modules.atomic import write_text_atomic
from modules.collector import collector_frozen
from modules.commands import environments_dir, fail, fail_config, synth_out_option
from modules.console import clip, step
from modules.errors import ConfigError
from modules.synth_command import ensure_synthesized
from policies.commands import DEFAULT_REPORTS, emit_plan_result, prewarm_checkov

RULES_DOC = Path(__file__).resolve().parent.parent / "docs" / "RULES.md"
CHECKS_TITLE_WIDTH = 62  # `checks` lists one check a line: id, severity, pillar, then the title cut to this


def _run_memo(out: Path, configs, env_dir, exceptions_file, today, formats, read: bool = True):
    """The whole-run memo of this gate (policies/run_memo.py); `read=False` (`--no-cache`) only writes it."""
    from policies.catalog import CATALOG_FILE
    from policies.gate import CHECKS_DIR, display_path
    from policies.gate_cache import GateCache
    from policies.run_memo import RunMemo
    from policies.suppressions import EXCEPTIONS_FILE

    store = GateCache(CHECKS_DIR, CATALOG_FILE, exceptions_file or EXCEPTIONS_FILE, read=read)
    return RunMemo.for_run(store, out, {c.name: c for c in configs}, env_dir, today, formats, display_path(out))


def _emit(result, reports: Path, formats: list[str], unchanged: dict[str, str] | None = None) -> dict[str, str]:
    """Print the summary and write the reports; a report file whose SHA-256 is in `unchanged` (the same
    run's reports, from the gate cache) is left as it is. Returns each report file's SHA-256."""
    from modules.cache import sha256_file
    from policies.report import FORMATS, write_reports
    from policies.report.summary import render

    click.echo(render(result, sys.stdout), nl=False)
    if not formats:
        return {}
    names = [FORMATS[fmt][1] for fmt in formats]
    unchanged = unchanged or {}
    stale = [fmt for fmt, name in zip(formats, names, strict=True)
             if not ((reports / name).is_file() and unchanged.get(name) == sha256_file(reports / name))]
    write_reports(result, reports, stale)
    click.echo(f"reports in {reports}/: " + ", ".join(names))
    return {name: sha256_file(reports / name) for name in names}


def _gate_plans(plan_files: tuple[str, ...] | list[str], envs: tuple[str, ...], reports: str, formats: list[str],
                exceptions: Path | None) -> None:
    """`gate --plan FILE.json …`: judge plan JSON files written by someone else's terraform; exits."""
    from policies.plan.plan_gate import run_plan_gate
    from policies.plan.report import available_formats

    if len(envs) > 1:
        fail("--plan takes at most one --env (the environment of plans whose folder does not name it)")
    plan_formats = [f for f in formats if f in available_formats()]
    with step(f"Judging {len(plan_files)} plan(s) with checkov (terraform_plan) and the plan checks"):
        result = run_plan_gate([Path(p) for p in plan_files], env=envs[0] if envs else None,
                               environments_dir=environments_dir(), exceptions_file=exceptions)
    emit_plan_result(result, Path(reports), plan_formats)
    sys.exit(result.exit_code)


def _gate_path(tf_path: str | None, envs, no_synth: bool, strict: bool, exceptions_file: Path | None):
    from policies.gate import run_path_gate

    if not tf_path:
        fail("--strict applies to --path (Aegis's own output is always judged strictly)")
    if envs or no_synth:
        fail("--path judges a Terraform folder: it takes no --env or --no-synth")
    with step(f"Judging {Path(tf_path).name}/ with checkov"):
        return run_path_gate(Path(tf_path), exceptions_file=exceptions_file, strict=strict)


def register(cli: click.Group) -> None:
    from policies.report import available_formats

    formats = available_formats()
    _register_checkov_copy(cli)

    @cli.command()
    @click.option("--env", "envs", multiple=True, help="Environment to judge (repeatable; default all).")
    @click.option("--out", "reports", default=DEFAULT_REPORTS, show_default=True, type=click.Path(file_okay=False),
                  help="Folder for the reports.")
    @click.option("--format", "fmts", multiple=True, type=click.Choice(formats),
                  help=f"Report format (repeatable; default all: {', '.join(formats)}).")
    @click.option("--no-synth", is_flag=True,
                  help="Judge the existing synth output; fail if it is older than its configuration.")
    @synth_out_option("--synth-out", help="Synth output folder to judge.")
    @click.option("--path", "tf_path", type=click.Path(file_okay=False),
                  help="Judge this Terraform folder (HCL .tf or .tf.json) instead of the synthesized app.")
    @click.option("--strict", is_flag=True,
                  help="With --path: a resource a pack check could not evaluate fails (default: shown, not failed).")
    @click.option("--exceptions", type=click.Path(dir_okay=False), default=None,
                  help="Exceptions file (default policies/exceptions.yaml).")
    @click.option("--plan", "plans", multiple=True, type=click.Path(dir_okay=False),
                  help="Judge this Terraform plan JSON (`terraform show -json PLAN`) instead (repeatable).")
    @click.option("--no-cache", is_flag=True,
                  help="Read nothing from the cache: run checkov on every stack (and synthesize, when needed), "
                       "then replace the cache's entries with the fresh results.")
    def gate(envs, reports, fmts, no_synth, synth_out, tf_path, strict, exceptions, plans, no_cache):
        """Judge the synthesized stacks (or a Terraform folder) against the policy pack.

        Exit 0 pass, 1 failures at or above an environment's `gate.fail_on`, 2 error.
        """
        from policies.gate import run_gate

        selected = list(fmts) or formats
        exceptions_file = Path(exceptions) if exceptions else None
        if plans:  # plan JSON files: judged and reported by the plan gate
            if tf_path or no_synth:
                fail("--plan judges plan JSON files: it takes no --path or --no-synth")
            _gate_plans(plans, envs, reports, selected, exceptions_file)
        if tf_path or strict:
            result = _gate_path(tf_path, envs, no_synth, strict, exceptions_file)
        else:
            from modules.config import load_all

            env_dir = environments_dir()
            try:
                configs = load_all(envs, env_dir)
            except ConfigError as exc:
                fail_config(exc)
            out = Path(synth_out)
            # keep_others: `gate --env dev` on a stale output must not leave it holding dev alone, or the next
            # full gate (or plan of prod) finds prod missing and synthesizes it again.
            ensure_synthesized(configs, out, no_synth=no_synth, use_cache=not no_cache, keep_others=True,
                               while_synthesizing=prewarm_checkov)
            names = [c.name for c in configs]
            started, today = time.monotonic(), dt.date.today()
            memo = _run_memo(out, configs, env_dir, exceptions_file, today, selected, read=not no_cache)
            with collector_frozen():  # what is imported is no garbage: the kept run's ~4,000 findings only add to it
                hit = memo.load()
            if hit:
                result, unchanged = hit
                result.seconds, result.cache_note = time.monotonic() - started, memo.note
            else:
                with step(f"Judging {len(names)} environment(s) with checkov and the Aegis pack"):
                    result = run_gate(out, names, exceptions_file=exceptions_file, environments_dir=env_dir,
                                      cache=True, refresh_cache=no_cache, today=today)
                if memo.note:  # why a kept run was not used
                    result.cache_note = "; ".join(filter(None, (memo.note, result.cache_note)))
            if result.cache_note:
                click.echo(f"gate: {result.cache_note}", err=True)
            with collector_frozen():  # the stacks and findings loaded: the reports only add to them
                written = _emit(result, Path(reports), selected, hit[1] if hit else None)
                if not hit and result.exit_code in (0, 1):  # a verdict, never an error, is kept
                    memo.save(result, written)
            sys.exit(result.exit_code)
        _emit(result, Path(reports), selected)
        sys.exit(result.exit_code)

    @cli.command()
    @click.option("--section", type=click.Choice(["builtin", "custom", "plan"]), default=None,
                  help="Only one section (plan: the checks judged on Terraform plans only).")
    @click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), default=None,
                  help="Only this severity.")
    @click.option("--write-docs", is_flag=True, help="Regenerate docs/RULES.md from the catalogs.")
    def checks(section, severity, write_docs):
        """List the policy catalogs: every check with severity, pillar and title."""
        from policies.catalog import check_sort_key, load_catalog
        from policies.plan.plan_gate import plan_checks_catalog
        from policies.rules_doc import render_rules

        try:
            catalog = load_catalog()
            plan = plan_checks_catalog()
        except ConfigError as exc:
            fail_config(exc)
        if write_docs:
            write_text_atomic(RULES_DOC, render_rules(catalog, plan))
            click.echo(f"wrote docs/RULES.md ({len(catalog)} checks, {len(plan)} plan checks)")
            return
        listed = [(r.section, r) for r in catalog.rules.values()] + [("plan", r) for r in plan.rules.values()]
        rules = [(where, r) for where, r in listed
                 if (section is None or where == section) and (severity is None or r.severity == severity)]
        width = max([16] + [len(r.id) + 2 for _, r in rules])
        for _section, rule in sorted(rules, key=lambda item: (item[0], check_sort_key(item[1].id))):
            click.echo(f"{rule.id:<{width}}{rule.severity:<10}{rule.pillar:<12}{clip(rule.title, CHECKS_TITLE_WIDTH)}")
        click.echo(f"{len(rules)} of {len(listed)} checks", err=True)


def _register_checkov_copy(cli: click.Group) -> None:
    @cli.command("checkov-copy")
    @click.argument("dest", type=click.Path(file_okay=False))
    @synth_out_option("--synth-out", help="Synth output folder to copy.")
    def checkov_copy(dest, synth_out):
        """Write a copy of the synth output that plain checkov can parse into DEST (replaced whole).

        The stacks without `terraform.required_version`, which checkov 3.3.30 cannot parse (README
        "Plain checkov"); `gate` needs no copy.
        """
        from modules.synth_output import SynthOutputError
        from policies.plain_checkov import write_checkov_copy

        try:
            names = write_checkov_copy(Path(synth_out), Path(dest))
        except SynthOutputError as exc:
            fail(str(exc))
        click.echo(f"{len(names)} stack(s) of {Path(synth_out).name}/ copied to {Path(dest).name}/ for plain checkov")
