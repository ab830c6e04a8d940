"""Base of every Aegis stack: AWS provider (region, role, account guard, default tags), backend,
and the Terraform version constraint."""
from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformStack
from constructs import Construct

from modules import aws
from modules.config import EnvConfig
from modules.naming import Naming, default_tags

TERRAFORM_VERSION = ">= 1.10"  # S3-native state locking (use_lockfile) needs 1.10
# Local state lives beside the output folder (`<out>/../.aegis/state`), so a fresh synth that
# replaces the output folder can never delete it. Relative: no machine path in the JSON.
LOCAL_STATE_DIR = "../../../.aegis/state"


class PillarStack(TerraformStack):
    """One stack of one environment: `<env>-<pillar>`."""

    def __init__(self, scope: Construct, config: EnvConfig, pillar: str, *, local_backend: bool = False):
        self.config = config
        self.naming = Naming.of(config)
        self.pillar = pillar
        super().__init__(scope, self.naming.stack(pillar))
        self.provider = self._provider("aws", config.region)
        self._dr_provider = None
        self._configure_backend(local_backend or config.backend.type == "local")
        self.add_override("terraform.required_version", TERRAFORM_VERSION)

    def _provider(self, construct_id: str, region: str, alias: str | None = None):
        p = aws.provider
        return p.AwsProvider(
            self, construct_id,
            region=region,
            alias=alias,
            allowed_account_ids=[self.config.account_id],  # a dev config can never touch prod
            assume_role=[p.AwsProviderAssumeRole(
                role_arn=self.config.deployer_role_arn,
                session_name=f"aegis-{self.naming.stack(self.pillar)}",
            )],
            default_tags=[p.AwsProviderDefaultTags(tags=default_tags(self.config))],
        )

    @property
    def dr_provider(self):
        """Provider for the disaster-recovery region, created on first use."""
        if self._dr_provider is None:
            self._dr_provider = self._provider("aws-dr", self.config.dr_region, alias="dr")
        return self._dr_provider

    def _configure_backend(self, local: bool) -> None:
        name = self.naming.stack(self.pillar)
        if local:
            LocalBackend(self, path=f"{LOCAL_STATE_DIR}/{name}.tfstate")
            return
        backend = self.config.backend
        assert backend.type == "s3", "an environment with a local backend is given a local one above"
        # The key ARN recorded after bootstrap (backend.kms_key_id). Terraform sends it as the
        # x-amz-server-side-encryption-aws-kms-key-id header of the state and lock files, and the state
        # bucket policy admits exactly the state key's ARN there: an alias would be denied. Unrecorded,
        # the stack has no usable backend yet: `plan` refuses it and the gate fails it.
        S3Backend(
            self,
            bucket=backend.bucket or self.naming.state_bucket(),
            key=f"{backend.key_prefix}/{self.config.name}/{name}.tfstate",
            region=backend.state_region(self.config.region),
            encrypt=True,
            kms_key_id=backend.kms_key_id,
            assume_role={"role_arn": self.config.deployer_role_arn},
            allowed_account_ids=[self.config.account_id],
        )
        # cdktf 0.21 has no typed use_lockfile; the DynamoDB lock table is deprecated in Terraform 1.11.
        self.add_override("terraform.backend.s3.use_lockfile", True)
