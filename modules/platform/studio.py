"""The SageMaker Studio domain: VPC-only in the private subnets, IAM authentication, the training key
on its home file system and app volumes, idle shutdown, and one user profile per human persona that
works in Studio (modules/training.py: STUDIO_PERSONAS), each with its own execution role under the
permission boundary.

`VpcOnly` sends all Studio traffic through the VPC: AWS APIs through the interface endpoints, the
internet only where the environment has egress. Its security group admits what Studio needs between
its own members only (SageMaker Developer Guide, "Connect Studio notebooks in a VPC to external
resources"): NFS (2049) to the home file system and 8192-65535 between apps; egress beyond that is the
workload security group's (HTTPS to the endpoints).
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.lookups import data_key_arn
from modules.platform.context import PlatformContext
from modules.platform.endpoints import Endpoints
from modules.platform.network import Network
from modules.platform.security_groups import workload_security_group
from modules.platform.service_roles import ServiceRole
from modules.platform.training_settings import StudioSettings
from modules.suppress import suppress
from modules.training import studio_role, studio_statements

# Studio's intra-domain traffic (self-referencing rules): the EFS home volume and app-to-app traffic.
INTERNAL_PORTS = ((2049, 2049, "NFS to the domain's home file system"),
                  (8192, 65535, "traffic between the domain's apps"))


@dataclass(frozen=True)
class StudioProps:
    settings: StudioSettings
    personas: tuple[str, ...]  # enabled personas that get a user profile; the first is the default user
    data_store: bool = False  # the training data store exists: profiles connect to it (IAM authentication)


def idle_settings(settings: StudioSettings) -> dict:
    """app_lifecycle_management.idle_settings of JupyterLab and Code Editor apps."""
    return {"idle_settings": {"lifecycle_management": "ENABLED",
                              "idle_timeout_in_minutes": settings.idle_timeout_minutes,
                              "min_idle_timeout_in_minutes": settings.idle_timeout_minutes,
                              "max_idle_timeout_in_minutes": settings.max_idle_timeout_minutes}}


class StudioDomain(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, network: Network,
                 endpoints: Endpoints, props: StudioProps):
        super().__init__(scope, construct_id)
        n = ctx.naming
        assert props.personas, "a Studio domain needs at least one persona that works in it"
        name = n.resource("studio")
        self.security_group = workload_security_group(
            self, "security-group", name=name, network=network, endpoints=endpoints,
            description="Studio apps: the domain's own NFS and app traffic, HTTPS egress to VPC endpoints")
        sg_id = self.security_group.id
        suppress(self.security_group, "CKV2_AWS_5",
                 "Attached to the Studio domain's apps and home file system mount targets (the domain's and user "
                 "profiles' security_groups), which checkov does not follow", "2027-11-30")
        for low, high, why in INTERNAL_PORTS:
            aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
                self, f"ingress-{low}", security_group_id=sg_id, referenced_security_group_id=sg_id,
                ip_protocol="tcp", from_port=low, to_port=high, description=f"From the domain: {why}")
            aws.vpc_security_group_egress_rule.VpcSecurityGroupEgressRule(
                self, f"egress-{low}", security_group_id=sg_id, referenced_security_group_id=sg_id,
                ip_protocol="tcp", from_port=low, to_port=high, description=f"To the domain: {why}")
        roles = {persona: ServiceRole(
            self, f"role-{persona}", naming=n, purpose=studio_role(persona), service="sagemaker.amazonaws.com",
            description=f"SageMaker Studio execution role of the {persona} persona", statements=[])
            for persona in props.personas}
        lifecycle = idle_settings(props.settings)
        default_role = roles[props.personas[0]].arn
        d = aws.sagemaker_domain
        self.domain = d.SagemakerDomain(
            self, "domain", domain_name=name, auth_mode="IAM", app_network_access_type="VpcOnly",
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids, kms_key_id=data_key_arn(self, "training"),
            default_user_settings=d.SagemakerDomainDefaultUserSettings(
                execution_role=default_role, security_groups=[sg_id], studio_web_portal="ENABLED",
                # Notebooks are never shared as S3 snapshots (they may hold data).
                sharing_settings=d.SagemakerDomainDefaultUserSettingsSharingSettings(notebook_output_option="Disabled"),
                jupyter_lab_app_settings=d.SagemakerDomainDefaultUserSettingsJupyterLabAppSettings(
                    app_lifecycle_management=lifecycle),
                code_editor_app_settings=d.SagemakerDomainDefaultUserSettingsCodeEditorAppSettings(
                    app_lifecycle_management=lifecycle)),
            default_space_settings=d.SagemakerDomainDefaultSpaceSettings(
                execution_role=default_role, security_groups=[sg_id],
                jupyter_lab_app_settings=d.SagemakerDomainDefaultSpaceSettingsJupyterLabAppSettings(
                    app_lifecycle_management=lifecycle)),
            # Users' home directories outlive the domain: deleting it must not delete their work.
            retention_policy=d.SagemakerDomainRetentionPolicy(home_efs_file_system="Retain"))
        domain_id = self.domain.id
        self.profiles = {}
        for persona, role in roles.items():
            # Scoped to this domain's apps, spaces and profiles, so created once the domain exists.
            role.add_policy(studio_statements(n, persona, domain_id, data_store=props.data_store))
            self.profiles[persona] = aws.sagemaker_user_profile.SagemakerUserProfile(
                self, f"profile-{persona}", domain_id=domain_id, user_profile_name=persona,
                user_settings=aws.sagemaker_user_profile.SagemakerUserProfileUserSettings(
                    execution_role=role.arn, security_groups=[sg_id]),
                tags={"Persona": persona})
        self.roles = roles

