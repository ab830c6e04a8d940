"""`python main.py plan` and `python main.py apply` (registered by main.py through `register`).

Exit codes as everywhere: 0 pass / applied, 1 a plan fails the gate, 2 an error or a refusal
(terraform missing or failing, a plan that cannot be read, an apply without a valid attestation).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from modules.commands import environments_dir, fail, fail_config, synth_out_option
from modules.console import printable
from modules.errors import ConfigError
from modules.synth_command import ensure_synthesized
from policies.commands import DEFAULT_REPORTS, emit_plan_result


def _config(env: str):
    from modules.config import load_env

    try:
        return load_env(env, environments_dir())
    except ConfigError as exc:
        fail_config(exc)


def _progress(message: str) -> None:
    click.echo(message, err=True)


def register(cli: click.Group) -> None:
    from policies.plan.attestation import DEFAULT_MAX_AGE, MAX_AGE_ENV
    from policies.plan.report import available_formats
    from policies.plan.terraform import ENV_VAR

    formats = available_formats()
    terraform_option = click.option(
        "--terraform", "terraform_path", default=None,
        help=f"terraform executable (default: ${ENV_VAR}, else `terraform` on PATH; must be ≥ 1.10).")
    synth_out = synth_out_option("--synth-out", help="Synth output folder (terraform runs in its stack folders).")
    stack_option = click.option("--stack", "stacks", multiple=True,
                                help="Only this stack (name or pillar; repeatable; default every stack of the env).")
    approvals_option = click.option("--approvals", type=click.Path(dir_okay=False), default=None,
                                    help="Approvals of stateful deletions (default policies/approvals.yaml); "
                                         "apply must be given the file plan used.")
    exceptions_option = click.option("--exceptions", type=click.Path(dir_okay=False), default=None,
                                     help="Exceptions file (default policies/exceptions.yaml); apply must be given the "
                                          "file plan used.")

    @cli.command()
    @click.option("--env", required=True, help="Environment to plan.")
    @stack_option
    @synth_out
    @terraform_option
    @click.option("--out", "reports", default=DEFAULT_REPORTS, show_default=True, type=click.Path(file_okay=False),
                  help="Folder for the reports (aegis-plan.*).")
    @click.option("--format", "fmts", multiple=True, type=click.Choice(formats),
                  help=f"Report format (repeatable; default all: {', '.join(formats)}).")
    @approvals_option
    @exceptions_option
    @click.option("--no-synth", is_flag=True, help="Use the existing synth output; fail if it is stale.")
    def plan(env, stacks, synth_out, terraform_path, reports, fmts, approvals, exceptions, no_synth):
        """terraform init/plan/show for each stack of ENV (dependency order), then gate every plan.

        A plan that passes gets an attestation beside it (stacks/<stack>/aegis.tfplan.attestation.json),
        which `apply` requires; a prod-tier ENV needs AEGIS_ATTESTATION_KEY to sign it. Exit 0 pass,
        1 a plan fails the gate, 2 error.
        """
        from policies.plan.attestation import AttestationError, configured_key, require_key
        from policies.plan.deploy import DeployError, run_plan
        from policies.plan.terraform import Terraform, TerraformError

        config = _config(env)
        try:  # before synth and terraform: a prod plan nobody can sign is not worth making
            require_key(config.tier, config.name, configured_key())
        except AttestationError as exc:
            fail(f"{exc} (no plan was made)")
        out = Path(synth_out)
        try:
            terraform = Terraform.locate(terraform_path)
        except TerraformError as exc:
            fail(str(exc))
        # Synthesizing replaces the output whole; the other environments in it are synthesized too.
        ensure_synthesized([config], out, no_synth=no_synth, keep_others=True,
                           note=f" (plan files in {out.name}/ are replaced)")
        click.echo(f"terraform {terraform.version}; planning {config.name} in {out.name}/", err=True)
        try:
            result = run_plan(config, out, stacks, terraform, environments_dir=environments_dir(),
                              exceptions_file=Path(exceptions) if exceptions else None,
                              approvals_file=Path(approvals) if approvals else None, echo=_progress)
        except (DeployError, TerraformError, ConfigError) as exc:
            fail(f"{exc} (no plan was judged or attested)")
        emit_plan_result(result, Path(reports), list(fmts) or formats)
        sys.exit(result.exit_code)

    @cli.command()
    @click.option("--env", required=True, help="Environment to apply.")
    @stack_option
    @synth_out
    @terraform_option
    @click.option("--confirm-prod", is_flag=True, help="Required to apply an environment whose tier is prod.")
    @click.option("--max-age", default=None,
                  help=f"Oldest attestation accepted, e.g. 30m, 12h, 2d (default: ${MAX_AGE_ENV}, else {DEFAULT_MAX_AGE}).")
    @approvals_option
    @exceptions_option
    def apply(env, stacks, synth_out, terraform_path, confirm_prod, max_age, approvals, exceptions):
        """Apply the plans the gate approved for ENV, exactly as planned, in dependency order, each once.

        Refuses (exit 2, nothing applied) when an attestation is missing, was judged for another
        environment, tier, account or threshold, or with other exceptions or approvals files than these,
        its plan or JSON changed, the binary does not show the judged JSON, the plan was applied before
        (the apply ledger), the policy pack changed, its signature is wrong or missing
        (AEGIS_ATTESTATION_KEY, mandatory for prod) or it is too old.
        """
        from policies.plan.attestation import AttestationError, configured_key, max_age_setting
        from policies.plan.deploy import DeployError, run_apply
        from policies.plan.terraform import Terraform, TerraformError

        config = _config(env)
        try:
            age = max_age_setting(max_age)
        except AttestationError as exc:
            fail(f"--max-age / ${MAX_AGE_ENV}: {exc}")
        try:
            terraform = Terraform.locate(terraform_path)
            result = run_apply(config, Path(synth_out), stacks, terraform, confirm_prod=confirm_prod, max_age=age,
                               key=configured_key(), exceptions_file=Path(exceptions) if exceptions else None,
                               approvals_file=Path(approvals) if approvals else None, echo=_progress)
        except DeployError as exc:
            fail(exc.message, *exc.details)
        except TerraformError as exc:
            fail(str(exc))
        except ConfigError as exc:
            fail_config(exc)
        if not configured_key():
            click.echo("note: AEGIS_ATTESTATION_KEY is not set: attestations were checked by hash, unsigned", err=True)
        click.echo(printable(f"applied: {', '.join(result.applied) or 'nothing'}"
                             + (f"; unchanged: {', '.join(result.unchanged)}" if result.unchanged else "")))
