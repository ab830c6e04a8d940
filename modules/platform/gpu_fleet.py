"""`serving: ec2` — a GPU Auto Scaling group behind an HTTPS-only ALB with WAF (and optionally CloudFront).

Launch template: AMI from the SSM public parameter in config (resolved at plan time, so an AMI
change is a reviewable diff that triggers an instance refresh), IMDSv2 only with hop limit 1,
encrypted gp3 root volume with the model key, no public IP, an instance profile limited to this
model (plus AmazonSSMManagedInstanceCore, so SSM Agent manages the instances for GuardDuty's and
Inspector's agents), and the boot script of fleet_boot.py: the host stages and verifies the model, the container
gets no credentials. The image (by digest, from the repository `<env>-data` created) and the
artifact are verified when the stack is planned (published.py). The group mixes on-demand and spot
(price-capacity-optimized, capacity rebalance), is health-checked by the ALB, tracks requests per
target and refreshes instances on template changes in checkpointed steps, rolling back to the
previous template version when one of the model's rollback alarms fires (`ec2.refresh`).
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.grants import pull_own_image, read_own_model_artifacts, write_log_streams
from modules.iam_doc import statement
from modules.lookups import ami_from_parameter
from modules.platform.alb import ModelLoadBalancer
from modules.platform.cloudfront import CloudFrontFront
from modules.platform.context import PlatformContext, ServingDependencies
from modules.platform.endpoints import Endpoints
from modules.platform.fleet_boot import ModelCache, user_data
from modules.platform.log_group import encrypted_log_group
from modules.platform.network import Network
from modules.platform.published import PublishedModel
from modules.platform.release import rollback_alarm_names
from modules.platform.security_groups import workload_security_group
from modules.platform.service_roles import ServiceRole
from modules.platform.settings import ROLE_SUFFIX, ModelSettings
from modules.platform.storage import SharedStorage
from modules.platform.waf import WebAcl

# The AWS managed policy AWS documents as an instance profile's minimum for Systems Manager.
SSM_MANAGED_INSTANCE_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
ASG_METRICS = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize", "GroupMinSize",
               "GroupPendingInstances", "GroupTerminatingInstances", "GroupTotalInstances"]


class GpuFleet(Construct):
    @classmethod
    def serve(cls, scope: Construct, construct_id: str, model: ModelSettings, deps: ServingDependencies) -> "GpuFleet":
        return cls(scope, construct_id, deps.ctx, model, network=deps.network, endpoints=deps.endpoints,
                   storage=deps.storage, edge_key_arn=deps.edge_audit_key().arn if model.ec2_settings.cloudfront else None)

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 network: Network, endpoints: Endpoints, storage: SharedStorage, edge_key_arn: str | None = None):
        super().__init__(scope, construct_id)
        s = model.ec2_settings
        n = ctx.naming
        self.model_settings = model
        self.name = n.model_resource(model.name)
        self.published = PublishedModel(self, "published", ctx, model)
        assert self.published.image is not None, f"serving '{model.serving}' runs an image of its own"
        log_group_name = ctx.log_group_name("models", model.name)
        self.log_group = encrypted_log_group(
            self, "log-group", name=log_group_name, kms_key_arn=ctx.keys.audit,
            retention_days=ctx.log_retention_days, protected=ctx.deletion_protection)
        artifacts = ctx.bucket_arn("model-artifacts")
        log_group_arn = ctx.log_group_arn(log_group_name)
        statements = [
            *read_own_model_artifacts(artifacts, model.artifact_prefix()),
            statement("DecryptModelArtifactsAndImage", "Allow", "kms:Decrypt", ctx.keys.model),
            *pull_own_image(n.model_repository_arn(model.name)),
            write_log_streams("WriteOwnLogs", log_group_arn),
        ]
        if s.model_cache:
            statements.append(statement(
                "MountModelCache", "Allow", ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
                storage.file_system.arn,
                condition={"StringEquals": {"elasticfilesystem:AccessPointArn": storage.access_point.arn}}))
        # The host uses the role (IMDSv2, hop limit 1); the container cannot, and needs nothing of it.
        self.role = ServiceRole(
            self, "instance-role", naming=n, purpose=f"{model.name}{ROLE_SUFFIX}", service="ec2.amazonaws.com",
            description=f"Instance role of the GPU fleet of model {model.name}", instance_profile=True,
            statements=statements)
        # SSM Agent makes the instances managed: GuardDuty's automated agent management and Inspector's
        # EC2 scanning reach instances only that way. AWS's own minimum for it, maintained by AWS.
        self.agent_policy = aws.iam_role_policy_attachment.IamRolePolicyAttachment(
            self, "systems-manager-agent", role=self.role.name, policy_arn=SSM_MANAGED_INSTANCE_CORE)

        # Security groups first, rules after: the ALB and the fleet refer to each other.
        self.security_group = workload_security_group(
            self, "security-group", name=n.resource(f"{model.name}-fleet"), network=network, endpoints=endpoints,
            description=f"GPU fleet of {model.name}: traffic port from its ALB only")
        fleet_sg = self.security_group.id  # read once: each attribute read is a jsii round trip
        if s.model_cache:
            storage.admit_nfs_from(self, "model-cache", fleet_sg)
        self.load_balancer = ModelLoadBalancer(self, "alb", ctx, model, network=network,
                                               target_security_group_id=fleet_sg)
        aws.vpc_security_group_ingress_rule.VpcSecurityGroupIngressRule(
            self, "from-alb", security_group_id=fleet_sg, ip_protocol="tcp",
            from_port=s.container_port, to_port=s.container_port,
            referenced_security_group_id=self.load_balancer.security_group_id,
            description="Model traffic port from this model's ALB only")
        self.web_acl = WebAcl(
            self, "waf", name=self.name, scope_="REGIONAL", rate_limit=s.waf.rate_limit_per_5_minutes,
            log_key_arn=ctx.keys.audit, log_retention_days=ctx.log_retention_days,
            protected=ctx.deletion_protection)
        aws.wafv2_web_acl_association.Wafv2WebAclAssociation(
            self, "waf-association", resource_arn=self.load_balancer.load_balancer_arn, web_acl_arn=self.web_acl.arn)
        self.cloudfront: CloudFrontFront | None = None
        if s.cloudfront is not None:
            assert edge_key_arn is not None, f"the fleet of {model.name} is behind CloudFront without an edge log key"
            self.cloudfront = CloudFrontFront(self, "cloudfront", ctx, model, alb=self.load_balancer,
                                              edge_key_arn=edge_key_arn)

        image_id, root_device_name = ami_from_parameter(self, s.ami_ssm_parameter)
        lt = aws.launch_template
        profile = self.role.profile
        assert profile is not None, "the instance role is made with instance_profile=True above"
        # What the group launches; the Backup tag puts instances and volumes in `<env>-governance`'s backup plan.
        tags = {**ctx.tags, **(n.backup_tag() if ctx.backs_up_fleets else {}), "Name": self.name, "Model": model.name}
        self.launch_template = lt.LaunchTemplate(
            self, "launch-template", name=self.name, description=f"GPU fleet of model {model.name}",
            image_id=image_id, update_default_version=True, ebs_optimized="true",
            iam_instance_profile=lt.LaunchTemplateIamInstanceProfile(arn=profile.arn),
            metadata_options=lt.LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="disabled"),
            block_device_mappings=[lt.LaunchTemplateBlockDeviceMappings(
                device_name=root_device_name,
                ebs=lt.LaunchTemplateBlockDeviceMappingsEbs(
                    volume_type="gp3", volume_size=s.root_volume_gb, encrypted="true", kms_key_id=ctx.keys.model,
                    delete_on_termination="true"))],
            network_interfaces=[lt.LaunchTemplateNetworkInterfaces(
                device_index=0, associate_public_ip_address="false", delete_on_termination="true",
                security_groups=[fleet_sg])],
            monitoring=lt.LaunchTemplateMonitoring(enabled=True),
            tag_specifications=[lt.LaunchTemplateTagSpecifications(resource_type=kind, tags=tags)
                                for kind in ("instance", "volume", "network-interface")],
            user_data=user_data(
                region=n.region, registry=n.registry, image=self.published.image, port=s.container_port,
                log_group=log_group_name, model=model, artifact=self.published.artifact,
                cache=ModelCache(storage.file_system.id, storage.access_point.id) if s.model_cache else None),
            depends_on=[self.role.policy, self.agent_policy])

        g = aws.autoscaling_group
        # The template's id and version as Terraform expressions on its address: one jsii round trip (the
        # address) instead of three (two attribute reads and Fn.tostring).
        template = self.launch_template.fqn
        self.group = g.AutoscalingGroup(
            self, "group", name=self.name, min_size=s.min_size, max_size=s.max_size,
            vpc_zone_identifier=network.private_subnet_ids,
            health_check_type="ELB", health_check_grace_period=s.health_check_grace_seconds,
            default_instance_warmup=s.instance_warmup_seconds,
            target_group_arns=[self.load_balancer.target_group_arn],
            capacity_rebalance=True,
            mixed_instances_policy=g.AutoscalingGroupMixedInstancesPolicy(
                instances_distribution=g.AutoscalingGroupMixedInstancesPolicyInstancesDistribution(
                    on_demand_base_capacity=s.on_demand_base_capacity,
                    on_demand_percentage_above_base_capacity=s.on_demand_percentage_above_base,
                    on_demand_allocation_strategy="prioritized",
                    spot_allocation_strategy="price-capacity-optimized"),
                launch_template=g.AutoscalingGroupMixedInstancesPolicyLaunchTemplate(
                    launch_template_specification=g.AutoscalingGroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecification(
                        launch_template_id=f"${{{template}.id}}",
                        # The concrete version (not $Latest): a template change is a diff that starts a refresh.
                        version=f"${{tostring({template}.latest_version)}}"),
                    override=[g.AutoscalingGroupMixedInstancesPolicyLaunchTemplateOverride(instance_type=t)
                              for t in s.instance_types])),
            instance_refresh=self._instance_refresh(ctx, model),
            enabled_metrics=ASG_METRICS, metrics_granularity="1Minute",
            tag=[g.AutoscalingGroupTag(key=k, value=v, propagate_at_launch=True) for k, v in sorted(tags.items())])
        p = aws.autoscaling_policy
        self.scaling_policy = p.AutoscalingPolicy(
            self, "requests-per-target", name=f"{self.name}-requests-per-target",
            autoscaling_group_name=self.group.name, policy_type="TargetTrackingScaling",
            estimated_instance_warmup=s.instance_warmup_seconds,
            target_tracking_configuration=p.AutoscalingPolicyTargetTrackingConfiguration(
                target_value=s.target_requests_per_instance, disable_scale_in=False,
                predefined_metric_specification=p.AutoscalingPolicyTargetTrackingConfigurationPredefinedMetricSpecification(
                    predefined_metric_type="ALBRequestCountPerTarget",
                    resource_label=f"{self.load_balancer.load_balancer.arn_suffix}/"
                                   f"{self.load_balancer.target_group.arn_suffix}")))

    @staticmethod
    def _instance_refresh(ctx: PlatformContext, model: ModelSettings):
        """A rolling refresh in checkpointed steps that fails on the model's rollback alarms and then
        returns the group to the previous launch template version. Rollback needs a concrete template
        version and an AMI ID (not an SSM parameter) in the template: both hold above. The alarms live
        in the access stack, under conventional names: Terraform starts a refresh only when the group's
        template changes, never when it creates the group, so they exist by then."""
        g, r = aws.autoscaling_group, model.ec2_settings.refresh
        return g.AutoscalingGroupInstanceRefresh(
            strategy="Rolling",
            preferences=g.AutoscalingGroupInstanceRefreshPreferences(
                min_healthy_percentage=r.min_healthy_percentage, max_healthy_percentage=r.max_healthy_percentage,
                instance_warmup=str(model.ec2_settings.instance_warmup_seconds),
                checkpoint_percentages=r.checkpoint_percentages, checkpoint_delay=str(r.checkpoint_delay_seconds),
                skip_matching=True, auto_rollback=True,
                alarm_specification=g.AutoscalingGroupInstanceRefreshPreferencesAlarmSpecification(
                    alarms=rollback_alarm_names(ctx.naming, model.name, model.serving))))

    def outputs(self) -> dict[str, str]:
        """Stack outputs of this model, by name suffix."""
        out = {"alb-dns": self.load_balancer.load_balancer.dns_name}
        if self.cloudfront is not None:
            out["cloudfront-domain"] = self.cloudfront.distribution.domain_name
        return out
