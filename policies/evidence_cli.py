"""`python main.py evidence`: the compliance evidence of one environment (policies/evidence/), from the
last gate result when nothing changed since (the gate's run memo), else from a gate run now.

Exit codes: 0 written (whatever the verdict: a failing control is evidence too, and the verdict is in
it); 2 nothing written (the gate could not judge, an unknown framework, a file that cannot be written).
`--verify FILE`: 0 valid, 1 tampered, 2 cannot tell (unreadable, unsigned, no key).
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from modules.commands import default_synth_out, environments_dir, fail
from modules.console import step
from modules.errors import ConfigError
from policies.commands import DEFAULT_REPORTS

DEFAULT_OUT = f"{DEFAULT_REPORTS}/evidence"


def now() -> dt.datetime:
    """The moment the evidence is written (a seam for tests: the record is otherwise deterministic)."""
    return dt.datetime.now(dt.timezone.utc)


def gate_result(config, every_config, out: Path, env_dir: Path | None, today: dt.date):
    """The gate's result for the environment: the last run's, when one of exactly these inputs is kept (a
    gate of this environment alone, or of every environment), else a gate run now. Returns (result, note)."""
    from policies.cli import _run_memo
    from policies.gate import run_gate
    from policies.report import available_formats

    for scope in ([config], every_config):
        hit = _run_memo(out, scope, env_dir, None, today, available_formats()).load()
        if hit:
            return hit[0], "the last gate result (nothing changed since)"
    started = time.monotonic()
    with step(f"Judging {config.name} with checkov and the Aegis pack"):
        result = run_gate(out, [config.name], environments_dir=env_dir, cache=True, today=today)
    result.seconds = time.monotonic() - started
    return result, "a gate run now (no kept result matched the current inputs)"


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--env", "env_name", help="Environment whose evidence to write.")
    @click.option("--framework", "frameworks", multiple=True,
                  help="Framework to evidence (repeatable; default those the environment lists).")
    @click.option("--out", default=DEFAULT_OUT, show_default=True, type=click.Path(file_okay=False),
                  help="Folder for evidence-<env>.json, .csv and .html.")
    @click.option("--synth-out", default=default_synth_out, show_default="cdktf.out", type=click.Path(file_okay=False),
                  help="Synth output folder the gate judges.")
    @click.option("--verify", "verify_file", type=click.Path(dir_okay=False),
                  help="Check a written evidence file instead (its signature, and its digest in the record).")
    def evidence(env_name, frameworks, out, synth_out, verify_file):
        """Write the compliance evidence of an environment, signed when AEGIS_ATTESTATION_KEY is set."""
        from policies.signing import configured_key

        if verify_file:
            from policies.evidence.verify import verify

            if env_name or frameworks:
                fail("--verify checks a file: it takes no --env or --framework")
            code, line = verify(Path(verify_file), configured_key())
            click.echo(line, err=code != 0)
            sys.exit(code)
        if not env_name:
            fail("name the environment: --env NAME")
        from modules.config import load_all
        from modules.synth_command import ensure_synthesized
        from modules.synth_output import SynthOutputError
        from modules.synth_record import read_record
        from policies.evidence import files, record
        from policies.gate_result import GateError

        env_dir = environments_dir()
        try:
            every_config = load_all((), env_dir)
        except ConfigError as exc:
            fail(str(exc))
        config = next((c for c in every_config if c.name == env_name), None)
        if config is None:
            fail(f"no environment '{env_name}' (environments: {', '.join(c.name for c in every_config)})")
        synth = Path(synth_out)
        try:
            chosen = record.frameworks_of(config, list(frameworks))
            ensure_synthesized(every_config, synth, no_synth=False, use_cache=True)
            result, source = gate_result(config, every_config, synth, env_dir, dt.date.today())
            built = record.build(result, config, chosen, synth_record=read_record(synth), now=now())
            key = configured_key()
            written = files.write(built, Path(out), key)
        except (record.EvidenceError, GateError, SynthOutputError, ConfigError) as exc:
            fail(f"evidence: {exc}")
        except OSError as exc:
            fail(f"evidence: cannot write into {Path(out).name}/ ({exc.strerror or exc})")
        click.echo(f"evidence of {config.name} from {source}: verdict {result.verdict}; "
                   f"{', '.join(chosen)}; {'signed' if key else 'unsigned (AEGIS_ATTESTATION_KEY not set)'}")
        click.echo(f"wrote {Path(out).name}/: " + ", ".join(p.name for p in written.values()))
