"""What every platform construct needs from its stack, in one place (passed explicitly), and what a
serving construct may take from the stack's shared pieces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Protocol

from modules.config import EnvConfig
from modules.naming import Naming, default_tags

if TYPE_CHECKING:
    from cdktf import TerraformAsset
    from cdktf_cdktf_provider_aws.security_group import SecurityGroup
    from constructs import Construct

    from modules.platform.code_signing import CodeSigning
    from modules.platform.edge_key import EdgeAuditKey
    from modules.platform.endpoints import Endpoints
    from modules.platform.network import Network
    from modules.platform.settings import ModelSettings
    from modules.platform.storage import SharedStorage


@dataclass(frozen=True)
class Keys:
    """ARNs of the data-stack KMS keys, by class (looked up by alias in this stack)."""

    model: str
    inference: str
    audit: str


@dataclass(frozen=True)
class PlatformContext:
    """Props every platform construct shares.

    - `log_retention_days`: of every log group the platform creates (one retention for the whole
      environment: `access.logs.retention_days`);
    - `deletion_protection`: ALBs, log groups, the table and the file system refuse deletion
      (`platform.deletion_protection`);
    - `tags`: the environment's default tags, for what the provider's default tags do not reach
      (an Auto Scaling group's launched instances);
    - `backs_up_fleets`: the GPU fleets' instances and volumes carry the Backup tag that `<env>-governance`
      selects (`governance.backup.gpu_fleets`)."""

    naming: Naming
    keys: Keys
    log_retention_days: int
    deletion_protection: bool
    tags: Mapping[str, str]
    backs_up_fleets: bool = False

    @classmethod
    def of(cls, config: EnvConfig, naming: Naming, keys: Keys) -> "PlatformContext":
        return cls(naming=naming, keys=keys, log_retention_days=config.access.logs.retention_days,
                   deletion_protection=config.platform.deletion_protection, tags=default_tags(config),
                   backs_up_fleets=config.governance.backup.backs_up_fleets(config.tier))

    def bucket(self, purpose: str) -> str:
        return self.naming.bucket(purpose)

    def bucket_arn(self, purpose: str) -> str:
        return self.naming.bucket_arn(purpose)

    def log_group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.naming.region}:{self.naming.account_id}:log-group:{name}"

    def log_group_name(self, *parts: str) -> str:
        """Log groups the platform owns outside AWS-fixed names: `/<project>/<env>/<parts…>`."""
        return self.naming.log_group("/".join(parts))


class ServingDependencies(Protocol):
    """What a serving construct's `serve` may take from its platform stack. The shared pieces behind
    the methods are created on first use, so an environment without such models has none."""

    ctx: PlatformContext
    network: Network
    endpoints: Endpoints
    storage: SharedStorage

    def security_group(self, workloads: str) -> SecurityGroup:
        """The egress-only security group of one workload kind (`sagemaker`, `lambda`)."""

    def security_group_id(self, workloads: str) -> str:
        """Its ID (read once for all models of the kind)."""

    def function_asset(self) -> TerraformAsset:
        """The reference inference function's zip, as an asset of the stack."""

    @property
    def function_asset_path(self) -> str:
        """That asset's path in the output (read once for all functions)."""

    def code_signing(self) -> CodeSigning: ...

    def edge_audit_key(self) -> EdgeAuditKey:
        """The audit key in CloudFront's region, for edge access logs."""


class ServingConstructClass(Protocol):
    """The class of a serving kind's construct (`ServingKind.construct`): it builds itself for one model."""

    def serve(self, scope: Construct, construct_id: str, model: ModelSettings,
              deps: ServingDependencies) -> Construct: ...
