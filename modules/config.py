"""Environment configuration: schema and loader (YAML → typed, validated `EnvConfig`).

`environments/base.yaml` (optional) is deep-merged under every other `environments/*.yaml`;
each of those files is one environment, named by its file stem. Every problem is a `ConfigError` naming
the file, the key path and, where the YAML gives it, the line; a load reports all of them at once
(`ConfigErrors`), except that a file which cannot be read or parsed stops it.
"""
from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Annotated, Iterator, Literal, Union

from pydantic import AfterValidator, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from modules.access.settings import AccessSettings
from modules.data.settings import DataSettings
from modules.errors import ConfigError, combined
from modules.governance.settings import GovernanceSettings
from modules.platform.settings import PlatformSettings
from modules.regions import AWS_REGIONS
from modules.schema_base import AccountId, DnsName, Problem, Strict
from modules.yaml_source import SourceMap, deep_merge, dotted, load_yaml

BASE_FILE = "base.yaml"
Tier = Literal["dev", "staging", "prod"]
Framework = Literal["hipaa", "gdpr", "nist-800-53", "pci-dss", "cis", "iso27001"]
Severity = Literal["low", "medium", "high", "critical"]


def _known_region(value: str) -> str:
    """An AWS region name (modules/regions.py)."""
    if value not in AWS_REGIONS:
        raise ValueError(f"'{value}' is not an AWS region name")
    return value


Region = Annotated[str, AfterValidator(_known_region)]
RoleArn = Annotated[str, Field(pattern=r"^arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", max_length=600)]


class LocalBackend(Strict):
    type: Literal["local"] = "local"


# A KMS key ARN (never an alias): `arn:aws:kms:<region>:<account>:key/<key id or mrk- id>`.
KMS_KEY_ARN = re.compile(r"^arn:aws:kms:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):key/"
                         r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
STATE_KEY_OUTPUT = "state-kms-key-arn"  # the `<env>-bootstrap` output that holds the state key's ARN


def _state_key_arn(value: str) -> str:
    """A KMS key ARN, arn:aws:kms:<region>:<account>:key/<key id> (an alias is refused)."""
    if not KMS_KEY_ARN.match(value):
        raise ValueError(
            f"'{value}' is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>): record the ARN of the "
            f"state key the bootstrap stack created (its output {STATE_KEY_OUTPUT}). The state bucket policy compares "
            "s3:x-amz-server-side-encryption-aws-kms-key-id with that key ARN, so an alias, alias ARN or bare key id "
            "would have every state write denied")
    return value


class S3Backend(Strict):
    type: Literal["s3"]
    # Defaults follow the naming convention of the `<env>-bootstrap` stack.
    bucket: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    key_prefix: str = Field(default="aegis", pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    region: Region | None = None
    # Known only once `<env>-bootstrap` is applied: until then the other stacks cannot be planned.
    kms_key_id: Annotated[str, AfterValidator(_state_key_arn)] | None = None
    use_lockfile: Literal[True] = True  # S3-native locking; the DynamoDB lock table is deprecated

    def state_region(self, env_region: str) -> str:
        return self.region or env_region


class Tags(Strict):
    owner_team: DnsName
    cost_center: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{2,32}$")]
    data_classification: Literal["public", "internal", "confidential", "restricted"]


class GateSettings(Strict):
    fail_on: Severity = "low"


class EnvConfig(Strict):
    name: DnsName
    tier: Tier
    project: DnsName = "aegis"
    account_id: AccountId
    # Accounts that hold production: an environment on one of them is tier prod whatever its file says.
    # Declared in base.yaml only, so that no environment file can take its own account off the list.
    production_account_ids: list[AccountId] = Field(default_factory=list)
    region: Region
    dr_region: Region
    deployer_role_arn: RoleArn
    backend: Annotated[Union[LocalBackend, S3Backend], Field(discriminator="type")] = LocalBackend()
    tags: Tags
    compliance: list[Framework] = Field(default_factory=list)
    gate: GateSettings = GateSettings()
    data: DataSettings
    platform: PlatformSettings = PlatformSettings()
    access: AccessSettings = AccessSettings()
    governance: GovernanceSettings = GovernanceSettings()

    @field_validator("compliance")
    @classmethod
    def _unique_frameworks(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("frameworks must not repeat")
        return value

    def problems(self, env=None) -> Iterator[Problem]:
        account_in_role = self.deployer_role_arn.split(":")[4]
        if account_in_role != self.account_id:
            yield "deployer_role_arn", f"role is in account {account_in_role}, not the env's account {self.account_id}"
        longest = max((self.region, self.dr_region), key=len)
        bucket = f"{self.project}-{self.name}-model-artifacts-{self.account_id}-{longest}"
        if len(bucket) > 63:
            yield "name", f"project and environment names are too long: bucket name '{bucket}' exceeds 63 characters"
        yield from self._backend_problems()
        yield from self._tier_problems()
        if self.tier == "prod" and self.gate.fail_on != "low":
            yield "gate.fail_on", "prod must fail on every severity (low)"
        for section in ("data", "platform", "access", "governance"):
            for path, message in getattr(self, section).problems(self):
                yield f"{section}.{path}", message


    def _backend_problems(self) -> Iterator[Problem]:
        backend = self.backend
        if backend.type != "s3" or backend.kms_key_id is None:
            return
        match = KMS_KEY_ARN.match(backend.kms_key_id)
        assert match is not None, "validated by _state_key_arn"
        region = backend.state_region(self.region)
        if match["account"] != self.account_id:
            yield "backend.kms_key_id", (f"the key is in account {match['account']}, not the env's account "
                                         f"{self.account_id}: record the state key of this environment's bootstrap")
        if match["region"] != region:
            yield "backend.kms_key_id", (f"the key is in {match['region']}, but the state bucket is in {region}: "
                                         "S3 encrypts only with a key of the bucket's region")

    def _tier_problems(self) -> Iterator[Problem]:
        """The tier arms or disarms every prod rule, so it is bound to facts one word cannot change."""
        if self.tier != "prod":
            if self.name.startswith("prod"):
                yield "tier", f"environment '{self.name}' is named as production: its tier must be prod"
            elif self.account_id in self.production_account_ids:
                yield "tier", (f"account {self.account_id} is a production account (production_account_ids in "
                               f"{BASE_FILE}): its tier must be prod")
            return
        if self.backend.type != "s3":
            yield "backend.type", "prod keeps its state in the S3 backend (encrypted, versioned, locked), not locally"
        if not self.compliance:
            yield "compliance", "prod must declare at least one compliance framework"


ENVIRONMENTS_ENV_VAR = "AEGIS_ENVIRONMENTS"  # another folder of environment files, like `--environments`
CONFIG_DOC = "docs/CONFIG.md"  # the reference of every key, rendered from these models (modules/config_docs.py)


def environments_dir(root: Path | None = None) -> Path:
    """`environments/` of `root` (default this project), or the folder $AEGIS_ENVIRONMENTS names."""
    if root is None and os.environ.get(ENVIRONMENTS_ENV_VAR):
        return Path(os.environ[ENVIRONMENTS_ENV_VAR])
    return (root or Path(__file__).resolve().parent.parent) / "environments"


def env_files(directory: Path) -> dict[str, Path]:
    """Environment name → file, sorted by name; `base.yaml` is not an environment."""
    if not directory.is_dir():
        raise ConfigError(str(directory.name), "", "environments folder not found")
    listed = sorted(directory.glob("*.yaml"))
    for path in listed:  # a FIFO or device would hang every reader (and the cache key) before any parse
        if not path.is_file():
            raise ConfigError(_display(path, directory), "", "not a regular file (a FIFO, device, socket or "
                                                             "folder is never read)")
    files = [p for p in listed if p.name != BASE_FILE]
    if not files:
        raise ConfigError(directory.name, "", "no environment files (*.yaml)")
    return {p.stem: p for p in files}


def _display(path: Path, directory: Path) -> str:
    # Relative names in messages: never a machine path.
    return f"{directory.name}/{path.name}"


def load_env(name: str, directory: Path | None = None) -> EnvConfig:
    """The validated environment `name`. Every problem of its files is reported in one ConfigError
    (a ConfigErrors when there are several), each naming file, key path and line; only a file that cannot be
    read or parsed stops the search early."""
    directory = directory or environments_dir()
    files = env_files(directory)
    if name not in files:
        raise ConfigError(f"{directory.name}/", "", f"unknown environment '{name}' (have: {', '.join(files)})")
    path = files[name]
    source = SourceMap()
    display = _display(path, directory)
    base_path = directory / BASE_FILE
    raw: object = {}
    if base_path.exists():
        raw = load_yaml(base_path, _display(base_path, directory), source)
        if not isinstance(raw, dict):
            raise ConfigError(_display(base_path, directory), "", "top level must be a mapping", 1)
    own = load_yaml(path, display, source)
    if not isinstance(own, dict):
        raise ConfigError(display, "", "top level must be a mapping", 1)
    errors: list[ConfigError] = []
    if "production_account_ids" in own:
        file, line = source.locate(("production_account_ids",), display)
        errors.append(ConfigError(file, "production_account_ids", f"declared in {BASE_FILE} only: an environment "
                                  "file must not decide whether its own account is production", line))
    merged = deep_merge(raw, own)
    if merged.get("name", name) != name:
        file, line = source.locate(("name",), display)
        errors.append(ConfigError(file, "name", f"must equal the file name '{name}'", line))
    merged.setdefault("name", name)
    try:
        config = EnvConfig.model_validate(merged)
    except ValidationError as exc:
        raise combined(errors + _validation_errors(exc, source, display)) from None
    for key_path, message in config.problems():
        parts = tuple(int(p) if p.isdigit() else p for p in key_path.replace("[", ".").replace("]", "").split("."))
        file, line = source.locate(parts, display)
        errors.append(ConfigError(file, key_path, message, line))
    errors += _ambiguous_name(config, files, source, display)
    errors += _shared_account(config, files, directory, source, display)
    if errors:
        raise combined(errors)
    return config


def _ambiguous_name(config: EnvConfig, files: dict[str, Path], source: SourceMap,
                    display: str) -> Iterator[ConfigError]:
    """Names, key policies and PassRole statements select an environment's roles and resources by the prefix
    `<project>-<env>-`: with environments `dev` and `dev-sandbox`, `aegis-dev-*` would also select the other's."""
    for other in files:
        if other != config.name and (other.startswith(config.name + "-") or config.name.startswith(other + "-")):
            file, line = source.locate(("name",), display)
            shorter = min(other, config.name, key=len)
            yield ConfigError(file, "name", f"environment names '{config.name}' and '{other}' are ambiguous: the "
                                            f"name patterns of '{shorter}' (`<project>-{shorter}-*`) would also "
                                            "match the other's resources; rename one", line)


def _shared_account(config: EnvConfig, files: dict[str, Path], directory: Path, source: SourceMap,
                    display: str) -> Iterator[ConfigError]:
    """Each environment manages its account's singletons (GuardDuty detector, Security Hub, Config recorder,
    Macie, Inspector, EBS default encryption, S3 account public access block, cost anomaly monitor), and key
    policies and PassRole name its roles by prefix: two environments on one account would fight over the
    first and reach into each other's roles through the second."""
    base_path = directory / BASE_FILE
    base = load_yaml(base_path, _display(base_path, directory), SourceMap()) if base_path.exists() else {}
    for other, path in files.items():
        if other == config.name:
            continue
        raw = deep_merge(base, load_yaml(path, _display(path, directory), SourceMap()))
        if isinstance(raw, dict) and str(raw.get("account_id", "")) == config.account_id:
            file, line = source.locate(("account_id",), display)
            yield ConfigError(file, "account_id", f"account {config.account_id} is also the account of environment "
                                                  f"'{other}' ({_display(path, directory)}): environments share no "
                                                  "account (each manages the account's security singletons)", line)


def _validation_errors(exc: ValidationError, source: SourceMap, display: str) -> list[ConfigError]:
    """Every problem pydantic found, each with file, key path and line."""
    # An unknown key is usually the cause of a "missing" one beside it (a typo): report it first.
    errors = sorted(exc.errors(include_url=False), key=lambda e: e["type"] != "extra_forbidden")
    problems = []
    for error in errors:
        loc = tuple(error["loc"])
        if loc[:1] == ("backend",) and len(loc) > 1 and loc[1] in ("local", "s3"):
            loc = loc[:1] + loc[2:]  # pydantic adds the union tag; it is not a key of the file
        file, line = source.locate(loc, display)
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _did_you_mean(loc, errors)
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(ConfigError(file, dotted(loc), message, line))
    return problems


def _did_you_mean(loc: tuple, errors: list[ErrorDetails]) -> str:
    """Suggest a missing sibling key whose name is close to the unknown one."""
    missing = [e["loc"][-1] for e in errors if e["type"] == "missing" and tuple(e["loc"][:-1]) == loc[:-1]]
    close = difflib.get_close_matches(str(loc[-1]), [str(m) for m in missing], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_all(names: list[str] | tuple[str, ...] = (), directory: Path | None = None) -> list[EnvConfig]:
    """Load the named environments (all when none are named). Names equal file stems, so they are unique.
    The problems of every environment are reported together (see load_env)."""
    directory = directory or environments_dir()
    selected = list(names) or list(env_files(directory))
    configs, errors = [], []
    for name in dict.fromkeys(selected):
        try:
            configs.append(load_env(name, directory))
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise combined(errors)
    return configs
