"""Settings of the Secure Data Handling pillar (`data:` in an environment file)."""
from __future__ import annotations

from typing import Iterator, Literal

from pydantic import Field

from modules.schema_base import Problem, Strict


class ObjectLockSettings(Strict):
    # GOVERNANCE can be lifted by a privileged user; COMPLIANCE cannot (prod).
    mode: Literal["GOVERNANCE", "COMPLIANCE"]
    retention_days: int = Field(ge=1, le=3650)


class ReplicationSettings(Strict):
    enabled: bool


class LifecycleSettings(Strict):
    noncurrent_version_expiry_days: int = Field(default=90, ge=1, le=3650)
    abort_incomplete_upload_days: int = Field(default=7, ge=1, le=365)
    # S3 refuses STANDARD_IA transitions earlier than 30 days.
    datasets_infrequent_access_after_days: int = Field(default=30, ge=30, le=3650)
    datasets_glacier_after_days: int = Field(default=180, ge=90, le=3650)


class ServiceLinkedRoleSettings(Strict):
    """The data keys name two AWS service-linked roles as key principals (AWS requires that for a
    customer managed key), and KMS refuses a key policy that names a role that does not exist yet,
    so `<env>-data` provides them before it creates the keys.

    create: the stack creates the role. existing: the account already has it (an earlier Auto
    Scaling group, Macie or the console created it, and creating it again fails); the stack then
    only looks it up, so a missing role stops the plan instead of failing the apply."""

    autoscaling: Literal["create", "existing"] = "create"  # AWSServiceRoleForAutoScaling (GPU fleet, EBS)
    macie: Literal["create", "existing"] = "create"  # AWSServiceRoleForAmazonMacie (classification job)


class DataSettings(Strict):
    kms_deletion_window_days: int = Field(ge=7, le=30)
    object_lock: ObjectLockSettings
    replication: ReplicationSettings
    lifecycle: LifecycleSettings = LifecycleSettings()
    service_linked_roles: ServiceLinkedRoleSettings = ServiceLinkedRoleSettings()

    def problems(self, env) -> Iterator[Problem]:
        if env.tier == "prod":
            if self.object_lock.mode != "COMPLIANCE":
                yield "object_lock.mode", "prod must use object lock in COMPLIANCE mode"
            if self.kms_deletion_window_days != 30:
                yield "kms_deletion_window_days", "prod must use a KMS deletion window of 30 days"
        if not self.replication.enabled and env.governance.backup.dr_copy_required(env.tier):
            # The only fix is here: the tier requires the DR copy (prod refuses copy_to_dr: false).
            yield "replication.enabled", (
                f"{env.tier} copies backups to the DR region (governance.backup.copy_to_dr), into a vault encrypted "
                "with the DR key that replication creates: set data.replication.enabled: true")
        if self.replication.enabled and env.dr_region == env.region:
            yield "replication.enabled", (
                f"replication needs a DR region different from the primary region ({env.region})")
        lc = self.lifecycle
        if lc.datasets_glacier_after_days < lc.datasets_infrequent_access_after_days + 30:
            yield "lifecycle.datasets_glacier_after_days", (
                "must be at least 30 days after datasets_infrequent_access_after_days (S3 minimum)")
