"""`model` commands: `model publish` (modules/model_publish.py) on the command line."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from modules.commands import environments_dir, fail
from modules.config import environments_dir as default_environments_dir
from modules.config import load_env
from modules.errors import ConfigError


def _progress_bar(sent: int, total: int) -> None:
    if total and sys.stderr.isatty():
        done = sent * 30 // total
        sys.stderr.write(f"\r  [{'#' * done}{'.' * (30 - done)}] {sent * 100 // total:3d}%")
        if sent >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def register(cli: click.Group) -> None:
    @cli.group()
    def model() -> None:
        """Publish model versions and promote approved ones."""

    @model.command("promote")
    @click.option("--env", "env", required=True, help="Environment file to change.")
    @click.option("--model", "model_name", required=True, help="Model name, as in the environment file.")
    @click.option("--package-version", required=True, type=click.IntRange(min=1),
                  help="Approved version of the model's package group in that environment.")
    @click.option("--version", default=None, help="The model's new semantic version (e.g. 1.5.0), if it changes.")
    def promote_command(env: str, model_name: str, package_version: int, version: str | None) -> None:
        """Point a model at an approved model package version in its environment file (comments kept; the
        image digest and artifact checksum go, the package pins both), validated before it is written.
        Offline: the plan refuses a version that is not Approved, so open a pull request with the change."""
        from modules.model_promote import PromoteError, Promotion, promote  # here: every command line registers it

        directory = environments_dir() or default_environments_dir()
        try:
            path = promote(directory, Promotion(env, model_name, package_version, version))
        except PromoteError as exc:
            fail(str(exc))
        click.echo(f"{directory.name}/{path.name}: model {model_name} now deploys package version {package_version}"
                   " (plan, gate and apply it through a pull request)")

    @model.command("publish")
    @click.option("--env", "env", required=True, help="Environment whose bucket and registry receive the version.")
    @click.option("--model", "model_name", required=True, help="Model name, as in the environment file.")
    @click.option("--version", required=True, help="Version to publish (semantic version, e.g. 1.5.0).")
    @click.option("--artifact", default=None, type=click.Path(dir_okay=False, path_type=Path),
                  help="model.tar.gz (container kinds) or model.json (lambda).")
    @click.option("--image", default=None, help="The version's image, by digest: <registry>/<repository>@sha256:…")
    @click.option("--register", "register_package", is_flag=True,
                  help="Also register a model package version (PendingManualApproval).")
    @click.option("--baseline", default=None, type=click.Path(file_okay=False, path_type=Path),
                  help="Folder with the version's Model Monitor statistics.json and constraints.json, published "
                       "to models/_baselines/<model>/<version>/.")
    def publish_command(env: str, model_name: str, version: str, artifact: Path | None, image: str | None,
                        register_package: bool, baseline: Path | None) -> None:
        """Upload a model artifact (and its Model Monitor baseline) with its SHA-256 and the environment's object
        lock, never over an existing version; optionally register it; print the lines for the environment
        file. Uses the AWS credentials of the environment's ml-engineer (or deployer) role."""
        from modules.model_publish import PublishError, PublishRequest, config_lines, publish

        try:
            config = load_env(env, environments_dir())
        except ConfigError as exc:
            fail(str(exc))
        request = PublishRequest(config, model_name, version, artifact, image, register_package, baseline)
        import boto3

        try:
            published = publish(request, boto3.session.Session(), _progress_bar)
        except PublishError as exc:
            fail(str(exc))
        if published.key is not None:
            click.echo(f"published {published.uri} (sha256 {published.sha256}, object lock until "
                       f"{published.retain_until.isoformat()})")
        if published.baseline_folder is not None:
            click.echo(f"published the baseline s3://{published.bucket}/{published.baseline_folder} "
                       "(statistics.json, constraints.json)")
        if published.package_arn:
            click.echo(f"registered {published.package_arn} (PendingManualApproval: the model-approver approves it)")
        click.echo(f"put on model {model_name} in environments/{env}.yaml"
                   + (" once the model-approver approved it:" if published.package_arn else ":"))
        for line in config_lines(request, published):
            click.echo(f"  {line}")
